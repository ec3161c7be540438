import { SCHEDULER_READY_LINE } from '../../apps/scheduler/src/run-scheduler.js';
import { type ComponentProcess, startComponent } from './component-process.js';

/** `wake scheduler` alone (no leader election), serving /metrics on a free port. */
export function startSchedulerProcess(kubeconfig: string, natsUrl: string): Promise<ComponentProcess> {
  return startComponent(
    'scheduler',
    [
      'scheduler',
      '--kubeconfig',
      kubeconfig,
      '--nats-url',
      natsUrl,
      '--leader-elect=false',
      '--metrics-port',
      '0',
    ],
    SCHEDULER_READY_LINE,
  );
}
