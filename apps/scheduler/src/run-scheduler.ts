import { NestFactory } from '@nestjs/core';

import { readKubeconfig } from '@app/client';
import { createLogger, NestPinoLogger } from '@app/logging';

import { type SchedulerConfig, SchedulerModule, SchedulerRuntime } from './scheduler.module.js';

/** The line supervisors and scripts wait for. */
export const SCHEDULER_READY_LINE = 'scheduler ready';

export interface RunningScheduler {
  runtime: SchedulerRuntime;
  close(): Promise<void>;
}

/** Starts a scheduler (informers synced, campaigning or scheduling) in this process. */
export async function startScheduler(config: SchedulerConfig): Promise<RunningScheduler> {
  const app = await NestFactory.createApplicationContext(SchedulerModule.forRoot(config), {
    logger: new NestPinoLogger(createLogger('scheduler')),
  });
  await app.init();
  return { runtime: app.get(SchedulerRuntime), close: () => app.close() };
}

/** `wake scheduler`: runs until SIGTERM/SIGINT (then stops gracefully) or until it loses the lease. */
export async function runScheduler(
  o: Omit<SchedulerConfig, 'connection' | 'onLostLeadership'> & { kubeconfig: string },
): Promise<number> {
  const connection = await readKubeconfig(o.kubeconfig);
  let lost!: () => void;
  const lostLease = new Promise<void>((resolve) => (lost = resolve));
  const scheduler = await startScheduler({ ...o, connection, onLostLeadership: lost });
  const metrics = scheduler.runtime.metricsUrl;
  process.stdout.write(
    `${SCHEDULER_READY_LINE} as ${scheduler.runtime.identity}${metrics ? `, metrics at ${metrics}/metrics` : ''}\n`,
  );
  const signalled = new Promise<void>((resolve) => {
    process.once('SIGTERM', resolve);
    process.once('SIGINT', resolve);
  });
  const why = await Promise.race([signalled.then(() => 'signal'), lostLease.then(() => 'lease')]);
  await scheduler.close();
  // Like kube-scheduler: a replica that lost its lease exits, and its supervisor restarts it as a candidate.
  return why === 'lease' ? 1 : 0;
}
