import { runScheduler } from '../../../scheduler/src/run-scheduler.js';

export interface SchedulerCommandOptions {
  kubeconfig: string;
  natsUrl: string;
  schedulerName?: string;
  leaderElect: boolean;
  leaseDurationMs?: number;
  renewDeadlineMs?: number;
  retryPeriodMs?: number;
  metricsPort?: number;
}

/** `wake scheduler`: the scheduler in this process until SIGTERM, or until it loses its lease. */
export function scheduler(o: SchedulerCommandOptions): Promise<number> {
  return runScheduler(o);
}

/** A Go-style duration as kube-scheduler's flags take it ("15s", "500ms", "1m"), in ms. */
export function parseDuration(text: string | undefined, flag: string): number | undefined {
  if (text === undefined) return undefined;
  const m = /^(\d+(?:\.\d+)?)(ms|s|m)$/.exec(text.trim());
  if (!m) throw new Error(`${flag}: want a duration such as 15s or 500ms, got ${JSON.stringify(text)}`);
  return Number(m[1]) * (m[2] === 'ms' ? 1 : m[2] === 's' ? 1000 : 60_000);
}
