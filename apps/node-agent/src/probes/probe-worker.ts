import { type Probe } from '../api-types.js';
import { type Clock, type TimerHandle } from './clock.js';
import { type ProbeEventInfo } from './probe-manager.js';
import { type Prober, type ProbeResult, type ProbeTarget } from './prober.js';
import { type ProbeKind, probeTiming, type ProbeTiming } from './probe-spec.js';

/** What a worker tells, and asks, the manager that owns it. */
export interface WorkerHooks {
  /** The cached result changed (initial values included are set before start, not reported). */
  resultChanged(kind: ProbeKind, previous: ProbeResult, next: ProbeResult): void;
  /** Whether the container's startup probe has succeeded (true without one). */
  isStarted(): boolean;
  /** A probe run the kubelet would record as an Event. */
  event(kind: ProbeKind, event: ProbeEventInfo): void;
  /** A liveness or startup probe failed failureThreshold times in a row. */
  unhealthy(kind: ProbeKind, output: string, timing: ProbeTiming): void;
}

/** The value before any probe has counted (newWorker's initialValue). */
const INITIAL_RESULT: Record<ProbeKind, ProbeResult> = {
  Readiness: 'Failure',
  Liveness: 'Success',
  Startup: 'Unknown',
};

/**
 * Probes one container for one probe kind (pkg/kubelet/prober/worker.go): a first run after
 * `firstDelayMs` (upstream's jitter), then one per periodSeconds on a fixed grid as Go's ticker
 * ticks; runs never overlap, and a tick or trigger that comes during a run is kept for right
 * after it, as the worker's buffered channels do. A worker belongs to one container id: the
 * manager makes new workers for a restarted container.
 */
export class ProbeWorker {
  private current: ProbeResult;
  private lastResult: ProbeResult | undefined;
  /** How many times in a row the probe returned lastResult. */
  private resultRun = 0;
  /** Set after a liveness or startup failure: the container is about to be killed. */
  private onHold = false;
  private stopped = false;
  private running = false;
  private pending = false;
  private timer: TimerHandle | undefined;
  private nextTickAt = 0;
  readonly timing: ProbeTiming;

  constructor(
    readonly kind: ProbeKind,
    private readonly probe: Probe,
    /** Read on every run: the manager refreshes the pod (its deletion, its IP) in place. */
    private readonly target: () => ProbeTarget,
    /** When the container started (ms), for initialDelaySeconds. */
    private readonly startedAt: number,
    private readonly prober: Prober,
    private readonly clock: Clock,
    private readonly hooks: WorkerHooks,
  ) {
    this.timing = probeTiming(probe);
    this.current = INITIAL_RESULT[kind];
  }

  get result(): ProbeResult {
    return this.current;
  }

  /** Starts probing: the first run after `firstDelayMs`, then every period from there. */
  start(firstDelayMs: number): void {
    this.nextTickAt = this.clock.now() + firstDelayMs;
    this.schedule();
  }

  /** Stops for good: no timer left, and a run in flight is ignored when it returns. */
  stop(): void {
    this.stopped = true;
    if (this.timer !== undefined) this.clock.clearTimeout(this.timer);
    this.timer = undefined;
  }

  /**
   * Runs the probe now, out of turn (the manager's manualTriggerCh), without moving the grid.
   * On a microtask: the caller is reading a status and should not find the probe half-run.
   */
  trigger(): void {
    queueMicrotask(() => {
      if (!this.stopped && !this.onHold) this.requestRun();
    });
  }

  private schedule(): void {
    if (this.stopped) return;
    this.timer = this.clock.setTimeout(
      () => {
        this.nextTickAt += this.timing.periodSeconds * 1000;
        // Go's ticker drops the ticks a slow receiver missed: the grid moves past now.
        const now = this.clock.now();
        if (this.nextTickAt <= now) {
          const period = this.timing.periodSeconds * 1000;
          this.nextTickAt += Math.ceil((now - this.nextTickAt + 1) / period) * period;
        }
        this.schedule();
        this.requestRun();
      },
      Math.max(0, this.nextTickAt - this.clock.now()),
    );
  }

  private requestRun(): void {
    if (this.running) {
      this.pending = true;
      return;
    }
    this.running = true;
    void this.runLoop();
  }

  private async runLoop(): Promise<void> {
    try {
      do {
        this.pending = false;
        const keepGoing = await this.doProbe();
        if (!keepGoing) this.stop();
      } while (this.pending && !this.stopped);
    } finally {
      this.running = false;
    }
  }

  /** One probe and its bookkeeping (worker.doProbe); false when the worker should end. */
  private async doProbe(): Promise<boolean> {
    if (this.stopped) return false;
    if (this.onHold) return true;
    const target = this.target();
    // Graceful shutdown of the pod: liveness and startup go quiet with a last success.
    if (target.pod.metadata?.deletionTimestamp && this.kind !== 'Readiness') {
      this.set('Success');
      return false;
    }
    // Probe disabled for initialDelaySeconds; whole seconds, as upstream truncates.
    if (Math.trunc((this.clock.now() - this.startedAt) / 1000) < this.timing.initialDelaySeconds) return true;
    if (this.hooks.isStarted()) {
      // A startup probe has done its job once the container started; a restarted container gets
      // a new worker.
      if (this.kind === 'Startup') return false;
    } else if (this.kind !== 'Startup') {
      // Liveness and readiness wait for the startup probe.
      return true;
    }

    const verdict = await this.prober.probe(this.kind, this.probe, target, this.timing.timeoutSeconds * 1000);
    if (this.stopped) return false;
    if (verdict.event) this.hooks.event(this.kind, verdict.event);
    // Prober error: throw the result away.
    if (verdict.errored) return true;

    const result = verdict.result;
    if (this.lastResult === result) this.resultRun++;
    else {
      this.lastResult = result;
      this.resultRun = 1;
    }
    if (
      (result === 'Failure' && this.resultRun < this.timing.failureThreshold) ||
      (result === 'Success' && this.resultRun < this.timing.successThreshold)
    )
      return true; // below the threshold: the cached result stays

    this.set(result);
    if ((this.kind === 'Liveness' || this.kind === 'Startup') && result === 'Failure') {
      // The container will be killed; probe no more until a new container (worker) comes.
      this.onHold = true;
      this.resultRun = 0;
      this.hooks.unhealthy(this.kind, verdict.output, this.timing);
    }
    return true;
  }

  private set(next: ProbeResult): void {
    const previous = this.current;
    this.current = next;
    if (previous !== next) this.hooks.resultChanged(this.kind, previous, next);
  }
}
