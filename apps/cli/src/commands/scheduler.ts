import { runScheduler } from '../../../scheduler/src/run-scheduler.js';

export interface SchedulerCommandOptions {
  kubeconfig: string;
  natsUrl: string;
  schedulerName?: string;
  leaderElect: boolean;
}

/** `wake scheduler`: the scheduler in this process until SIGTERM, or until it loses its lease. */
export function scheduler(o: SchedulerCommandOptions): Promise<number> {
  return runScheduler({
    kubeconfig: o.kubeconfig,
    natsUrl: o.natsUrl,
    schedulerName: o.schedulerName,
    leaderElect: o.leaderElect,
  });
}
