import { type ControllerManagerConfig } from '../../apps/controller-manager/src/controller-manager.module.js';
import {
  type RunningControllerManager,
  startControllerManager,
} from '../../apps/controller-manager/src/run-controller-manager.js';
import {
  type RunningSimAgent,
  type SimAgentConfig,
  startSimAgent,
} from '../../apps/node-agent/src/sim/index.js';
import { type RunningScheduler, startScheduler } from '../../apps/scheduler/src/run-scheduler.js';
import { type SchedulerConfig } from '../../apps/scheduler/src/scheduler.module.js';
import { type ApiCluster, DEFAULT_CLUSTER_CONTROLLERS } from './api-cluster.js';

/** The rest of a cluster around a test's API server: the scheduler, simulated nodes and the controllers. */
export interface SimControlPlane {
  scheduler: RunningScheduler;
  /** Absent with `nodes: 0`. */
  sim?: RunningSimAgent;
  /** Absent with `controllerManager: false`. */
  controllerManager?: RunningControllerManager;
  close(): Promise<void>;
}

export interface SimControlPlaneOptions {
  /** Simulated nodes (default 4; 0: none, the test brings its own nodes). */
  nodes?: number;
  sim?: Partial<Omit<SimAgentConfig, 'connection' | 'natsUrl'>>;
  scheduler?: Partial<Omit<SchedulerConfig, 'connection' | 'natsUrl'>>;
  /** Options of the in-process controller manager; false: none (the test runs its own). */
  controllerManager?: Partial<Omit<ControllerManagerConfig, 'connection' | 'natsUrl'>> | false;
}

/**
 * Starts, in this process and with short test timings, the real scheduler, `nodes` simulated
 * nodes (pods get scheduled, run and turn Ready by themselves) and a controller manager with
 * every controller but those the cluster already runs, leader election off. Tests that bring
 * their own nodes or controller manager turn those parts off.
 */
export async function startSimControlPlane(
  cluster: ApiCluster,
  o: SimControlPlaneOptions = {},
): Promise<SimControlPlane> {
  const { connection, natsUrl } = cluster;
  const started: { close(): Promise<void> }[] = [];
  try {
    const scheduler = await startScheduler({
      // As its own user, as `wake up` runs it: every test that schedules proves its roles suffice.
      connection: cluster.componentConnection('scheduler'),
      natsUrl,
      leaderElect: false,
      queue: { initialBackoffMs: 50, maxBackoffMs: 200, maxUnschedulableMs: 60_000 },
      ...o.scheduler,
    });
    started.push(scheduler);
    const nodes = o.nodes ?? 4;
    const sim = nodes
      ? await startSimAgent({ connection, natsUrl, nodes, leaseRenewMs: 500, ...o.sim })
      : undefined;
    if (sim) started.push(sim);
    const alreadyRunning = cluster.controllerManager ? DEFAULT_CLUSTER_CONTROLLERS : [];
    const controllerManager =
      o.controllerManager === false
        ? undefined
        : await startControllerManager({
            connection,
            natsUrl,
            leaderElect: false,
            backoffMs: [50, 1000],
            controllers: ['*', ...alreadyRunning.map((c) => `-${c}`)],
            ...o.controllerManager,
          });
    if (controllerManager) started.push(controllerManager);
    return {
      scheduler,
      sim,
      controllerManager,
      close: () => closeAll(started),
    };
  } catch (e) {
    // The start failure is what to report; what closing the started parts says adds nothing.
    await closeAll(started).catch(() => undefined);
    throw e;
  }
}

/** Closes in reverse order of starting; a failure to close one does not keep the rest open, and is thrown after. */
async function closeAll(started: { close(): Promise<void> }[]): Promise<void> {
  const failures: unknown[] = [];
  for (const s of [...started].reverse()) await s.close().catch((e: unknown) => failures.push(e));
  if (failures.length) throw new AggregateError(failures, 'closing the control plane failed');
}
