import { CONTROLLER_MANAGER_READY_LINE } from '../../apps/controller-manager/src/run-controller-manager.js';
import { type ComponentProcess, startComponent } from './component-process.js';

/** `wake controller-manager` alone (no leader election, every controller unless `controllers`), /metrics on a free port. */
export function startControllerManagerProcess(
  kubeconfig: string,
  natsUrl: string,
  /** --controllers: only these (a bench measuring one controller's path). */
  controllers?: string[],
): Promise<ComponentProcess> {
  return startComponent(
    'controller manager',
    [
      'controller-manager',
      '--kubeconfig',
      kubeconfig,
      '--nats-url',
      natsUrl,
      '--leader-elect=false',
      '--metrics-port',
      '0',
      ...(controllers ? ['--controllers', controllers.join(',')] : []),
    ],
    CONTROLLER_MANAGER_READY_LINE,
  );
}
