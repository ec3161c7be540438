import { type Probe } from '../api-types.js';
import { type Clock, realClock } from './clock.js';
import { type CommandRunner } from './handlers/exec-probe.js';
import {
  type ProbedContainer,
  type ProbeListener,
  type ProbeManager,
  type ProbeEventInfo,
  type UnhealthyDetail,
} from './probe-manager.js';
import { Prober, type ProbeTarget } from './prober.js';
import { type ProbeKind, type ProbeTiming } from './probe-spec.js';
import { ProbeWorker } from './probe-worker.js';

export interface ProbeManagerOptions {
  clock?: Clock;
  /** A number in [0, 1) for the first run's jitter; Math.random unless a test pins it. */
  random?: () => number;
  /** The Kubernetes release for `User-Agent: kube-probe/<major>.<minor>`. */
  kubernetesVersion: { major: string; minor: string };
}

/** One tracked container: the container id its workers probe, and those workers. */
interface Tracked {
  target: ProbeTarget;
  workers: Map<ProbeKind, ProbeWorker>;
}

/**
 * The kubelet's prober manager (pkg/kubelet/prober/prober_manager.go) over the workers: one
 * per probe of a tracked container, started with jitter only while the agent itself is young
 * (as upstream, so that a restarted agent does not probe everything at once), `started` and
 * `ready` read from their cached results as UpdatePodStatus reads them.
 */
export class KubeletProbeManager implements ProbeManager {
  private readonly clock: Clock;
  private readonly random: () => number;
  private readonly prober: Prober;
  private readonly startedAt: number;
  private readonly tracked = new Map<string, Tracked>();
  private listener: ProbeListener | undefined;

  constructor(runner: CommandRunner, options: ProbeManagerOptions) {
    this.clock = options.clock ?? realClock;
    this.random = options.random ?? Math.random;
    const { major, minor } = options.kubernetesVersion;
    this.prober = new Prober(runner, `kube-probe/${major}.${minor}`);
    this.startedAt = this.clock.now();
  }

  setListener(listener: ProbeListener): void {
    this.listener = listener;
  }

  track(t: ProbedContainer): void {
    const uid = t.pod.metadata?.uid ?? '';
    const key = keyOf(uid, t.container.name);
    const existing = this.tracked.get(key);
    if (existing && existing.target.containerId === t.containerId) {
      // The same container again: take the newer pod (a deletion, an IP), keep the results.
      existing.target = t;
      return;
    }
    if (existing) this.stopWorkers(existing);
    const entry: Tracked = { target: t, workers: new Map() };
    this.tracked.set(key, entry);
    const probes: [ProbeKind, Probe | undefined][] = [
      ['Startup', t.container.startupProbe],
      ['Readiness', t.container.readinessProbe],
      ['Liveness', t.container.livenessProbe],
    ];
    for (const [kind, probe] of probes) {
      if (!probe) continue;
      const worker = new ProbeWorker(
        kind,
        probe,
        () => entry.target,
        t.startedAt.getTime(),
        this.prober,
        this.clock,
        this.hooksFor(uid, entry),
      );
      entry.workers.set(kind, worker);
    }
    // Started only once all are in the map: a worker's first run may ask whether it started.
    for (const worker of entry.workers.values()) worker.start(this.firstDelay(worker.timing));
  }

  untrack(podUid: string, containerName?: string): void {
    for (const [key, entry] of this.tracked) {
      if (containerName !== undefined ? key !== keyOf(podUid, containerName) : !key.startsWith(`${podUid}/`))
        continue;
      this.stopWorkers(entry);
      this.tracked.delete(key);
    }
  }

  isStarted(podUid: string, containerName: string): boolean {
    const entry = this.tracked.get(keyOf(podUid, containerName));
    return entry !== undefined && started(entry);
  }

  isReady(podUid: string, containerName: string): boolean {
    const entry = this.tracked.get(keyOf(podUid, containerName));
    if (!entry || !started(entry)) return false;
    const readiness = entry.workers.get('Readiness');
    if (!readiness) return true; // no readiness probe: always ready
    if (readiness.result === 'Success') return true;
    // As UpdatePodStatus does: a status read while not ready asks for a readiness run now, so a
    // container that just started (or just passed its startup probe) turns ready without
    // waiting a whole period. Runs never overlap, but each read asks again: read it when
    // writing a status, not in a polling loop.
    readiness.trigger();
    return false;
  }

  stop(): void {
    for (const entry of this.tracked.values()) this.stopWorkers(entry);
    this.tracked.clear();
  }

  /** Upstream sleeps a random part of the period before the first run while it is young. */
  private firstDelay(timing: ProbeTiming): number {
    const period = timing.periodSeconds * 1000;
    return period > this.clock.now() - this.startedAt ? Math.floor(this.random() * period) : 0;
  }

  private stopWorkers(entry: Tracked): void {
    for (const worker of entry.workers.values()) worker.stop();
  }

  private hooksFor(podUid: string, entry: Tracked) {
    const containerName = entry.target.container.name;
    return {
      isStarted: () => started(entry),
      resultChanged: (kind: ProbeKind, previous: string, next: string) => {
        // Only what the status shows (ready, started) is worth a status write.
        const visible = kind === 'Readiness' || kind === 'Startup';
        if (visible && (previous === 'Success') !== (next === 'Success')) this.listener?.onChange(podUid);
      },
      event: (_kind: ProbeKind, event: ProbeEventInfo) =>
        this.listener?.onProbeEvent?.(podUid, containerName, entry.target.containerId, event),
      unhealthy: (kind: ProbeKind, output: string, timing: ProbeTiming) => {
        const detail: UnhealthyDetail = {
          probe: kind === 'Liveness' ? 'Liveness' : 'Startup',
          output,
          ...(timing.terminationGracePeriodSeconds !== undefined
            ? { terminationGracePeriodSeconds: timing.terminationGracePeriodSeconds }
            : {}),
        };
        this.listener?.onUnhealthy(
          podUid,
          containerName,
          entry.target.containerId,
          killMessage(entry.target, kind),
          detail,
        );
      },
    };
  }
}

function keyOf(podUid: string, containerName: string): string {
  return `${podUid}/${containerName}`;
}

/** started: the startup probe has succeeded, or there is none. */
function started(entry: Tracked): boolean {
  const startup = entry.workers.get('Startup');
  return !startup || startup.result === 'Success';
}

/**
 * The kill's message as kuberuntime's computePodActions words it: "Container web failed
 * liveness probe, will be restarted" (no restart under restartPolicy Never).
 */
function killMessage(target: ProbeTarget, kind: ProbeKind): string {
  const what = kind === 'Liveness' ? 'liveness' : 'startup';
  const restart = target.pod.spec?.restartPolicy !== 'Never';
  return `Container ${target.container.name} failed ${what} probe${restart ? ', will be restarted' : ''}`;
}
