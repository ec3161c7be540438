import { runControllerManager } from '../../../controller-manager/src/run-controller-manager.js';

export interface ControllerManagerCommandOptions {
  kubeconfig: string;
  natsUrl: string;
  leaderElect: boolean;
  leaseDurationMs?: number;
  renewDeadlineMs?: number;
  retryPeriodMs?: number;
  /** --controllers: names, `*`, `-name` (comma-separated on the command line). */
  controllers?: string[];
  concurrentReplicaSetSyncs?: number;
  concurrentGcSyncs?: number;
  concurrentDeploymentSyncs?: number;
  concurrentNamespaceSyncs?: number;
  concurrentJobSyncs?: number;
  concurrentCronJobSyncs?: number;
  concurrentTtlAfterFinishedSyncs?: number;
  /** --root-ca-file: the CA bundle root-ca-cert-publisher publishes. */
  rootCaFile?: string;
  metricsPort?: number;
}

/** `wake controller-manager`: the controllers in this process until SIGTERM, or until it loses its lease. */
export function controllerManager(o: ControllerManagerCommandOptions): Promise<number> {
  return runControllerManager(o);
}
