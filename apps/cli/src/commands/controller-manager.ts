import { type NodeLifecycleSettings } from '../../../controller-manager/src/node-lifecycle/node-lifecycle-controller.js';
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
  terminatedPodGcThreshold?: number;
  concurrentDeploymentSyncs?: number;
  concurrentDaemonSetSyncs?: number;
  concurrentNamespaceSyncs?: number;
  concurrentStatefulSetSyncs?: number;
  concurrentEndpointSyncs?: number;
  concurrentServiceEndpointSyncs?: number;
  maxEndpointsPerSlice?: number;
  concurrentJobSyncs?: number;
  concurrentCronJobSyncs?: number;
  concurrentTtlAfterFinishedSyncs?: number;
  /** --root-ca-file: the CA bundle root-ca-cert-publisher publishes. */
  rootCaFile?: string;
  /** --local-path-base-dir: where the local-path provisioner puts volumes on their node. */
  localPathBaseDir?: string;
  metricsPort?: number;
  /** --node-monitor-period, --node-monitor-grace-period, --node-eviction-rate... */
  nodeLifecycle?: Partial<NodeLifecycleSettings>;
}

/** `wake controller-manager`: the controllers in this process until SIGTERM, or until it loses its lease. */
export function controllerManager(o: ControllerManagerCommandOptions): Promise<number> {
  return runControllerManager(o);
}
