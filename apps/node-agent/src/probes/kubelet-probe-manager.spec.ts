import { beforeEach, describe, expect, it } from '@jest/globals';

import { type Container, type Pod, type Probe } from '../api-types.js';
import { type ExecResult } from '../runtime/index.js';
import { type Clock } from './clock.js';
import { type CommandRunner } from './handlers/exec-probe.js';
import { KubeletProbeManager } from './kubelet-probe-manager.js';
import { type ProbeEventInfo, type ProbeListener, type UnhealthyDetail } from './probe-manager.js';

/** Timers on a hand-moved clock; each fired callback's promises settle before the next fires. */
class FakeClock implements Clock {
  private t = 1_000_000;
  private seq = 0;
  readonly timers = new Map<number, { at: number; fn: () => void }>();
  now(): number {
    return this.t;
  }
  setTimeout(fn: () => void, ms: number): number {
    this.timers.set(++this.seq, { at: this.t + ms, fn });
    return this.seq;
  }
  clearTimeout(handle: unknown): void {
    this.timers.delete(handle as number);
  }
  async advance(ms: number): Promise<void> {
    const end = this.t + ms;
    for (;;) {
      await settle();
      const due = [...this.timers]
        .filter(([, x]) => x.at <= end)
        .sort(([a, x], [b, y]) => x.at - y.at || a - b)[0];
      if (!due) break;
      this.timers.delete(due[0]);
      this.t = due[1].at;
      due[1].fn();
    }
    this.t = end;
    await settle();
  }
}

const settle = () => new Promise<void>((r) => setImmediate(r));

/**
 * Exec probes answered from a table: command → exit code (or a thrown error, or a promise the
 * test resolves). Pure logic under test, so a fake runner: the handlers have their own tests.
 */
class ScriptedRunner implements CommandRunner {
  readonly calls: { containerId: string; command: string }[] = [];
  readonly exits = new Map<string, number | Error | (() => Promise<ExecResult>)>();
  async execCapture(containerId: string, command: string[]): Promise<ExecResult> {
    const key = command.join(' ');
    this.calls.push({ containerId, command: key });
    const exit = this.exits.get(key) ?? 0;
    if (exit instanceof Error) throw exit;
    if (typeof exit === 'function') return exit();
    return { exitCode: exit, output: exit === 0 ? '' : `${key}: exit ${exit}\n`, timedOut: false };
  }
  count(command: string, containerId?: string): number {
    return this.calls.filter((c) => c.command === command && (!containerId || c.containerId === containerId))
      .length;
  }
}

class RecordingListener implements ProbeListener {
  changes = 0;
  readonly unhealthy: {
    containerName: string;
    containerId: string;
    message: string;
    detail: UnhealthyDetail;
  }[] = [];
  readonly events: (ProbeEventInfo & { containerId: string })[] = [];
  onChange(): void {
    this.changes++;
  }
  onUnhealthy(
    _uid: string,
    containerName: string,
    containerId: string,
    message: string,
    detail: UnhealthyDetail,
  ) {
    this.unhealthy.push({ containerName, containerId, message, detail });
  }
  onProbeEvent(_uid: string, _name: string, containerId: string, event: ProbeEventInfo): void {
    this.events.push({ ...event, containerId });
  }
}

const exec = (command: string, timing: Partial<Probe> = {}): Probe => ({
  exec: { command: command.split(' ') },
  periodSeconds: 1,
  timeoutSeconds: 1,
  successThreshold: 1,
  failureThreshold: 3,
  initialDelaySeconds: 0,
  ...timing,
});

function podWith(
  container: Partial<Container>,
  extra: Partial<Pod> = {},
): { pod: Pod; container: Container } {
  const c: Container = { name: 'app', image: 'busybox', ...container };
  const pod: Pod = {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: 'web', namespace: 'default', uid: 'uid-1' },
    spec: { containers: [c], restartPolicy: 'Always' },
    ...extra,
  };
  return { pod, container: c };
}

describe('KubeletProbeManager on fake time', () => {
  let clock: FakeClock;
  let runner: ScriptedRunner;
  let listener: RecordingListener;
  let manager: KubeletProbeManager;

  /** A manager whose start lies well in the past: no first-run jitter (upstream's rule). */
  async function oldManager(random = () => 0.5): Promise<void> {
    manager = new KubeletProbeManager(runner, {
      clock,
      random,
      kubernetesVersion: { major: '1', minor: '33' },
    });
    manager.setListener(listener);
    await clock.advance(600_000);
  }

  function track(container: Partial<Container>, containerId = 'c1', extra: Partial<Pod> = {}) {
    const { pod, container: c } = podWith(container, extra);
    manager.track({ pod, container: c, containerId, podIP: '10.0.0.9', startedAt: new Date(clock.now()) });
    return { pod, container: c };
  }

  beforeEach(() => {
    clock = new FakeClock();
    runner = new ScriptedRunner();
    listener = new RecordingListener();
  });

  it('readiness starts not ready and turns ready on the first success, telling the listener', async () => {
    await oldManager();
    track({ readinessProbe: exec('ready', { periodSeconds: 10 }) });
    expect(manager.isStarted('uid-1', 'app')).toBe(true);
    // The first run is immediate for an old agent; nothing has run before the clock moves.
    expect(runner.count('ready')).toBe(0);
    await clock.advance(0);
    expect(runner.count('ready')).toBe(1);
    expect(manager.isReady('uid-1', 'app')).toBe(true);
    expect(listener.changes).toBe(1);
    // Then once per period.
    await clock.advance(30_000);
    expect(runner.count('ready')).toBe(4);
    expect(listener.changes).toBe(1);
  });

  it('a container without probes is started and ready; an untracked one is neither', async () => {
    await oldManager();
    track({});
    expect(manager.isStarted('uid-1', 'app')).toBe(true);
    expect(manager.isReady('uid-1', 'app')).toBe(true);
    expect(manager.isReady('uid-1', 'other')).toBe(false);
    expect(manager.isStarted('uid-2', 'app')).toBe(false);
  });

  it('liveness reports unhealthy only after failureThreshold failures in a row, then holds', async () => {
    await oldManager();
    runner.exits.set('live', 1);
    track({ livenessProbe: exec('live') });
    await clock.advance(1_000); // runs at 0 and 1 s: two failures
    expect(runner.count('live')).toBe(2);
    expect(listener.unhealthy).toEqual([]);
    // Every failed run is an event, below the threshold too.
    expect(listener.events).toEqual([
      { reason: 'Unhealthy', message: 'Liveness probe failed: live: exit 1\n', containerId: 'c1' },
      { reason: 'Unhealthy', message: 'Liveness probe failed: live: exit 1\n', containerId: 'c1' },
    ]);
    await clock.advance(1_000);
    expect(listener.unhealthy).toEqual([
      {
        containerName: 'app',
        containerId: 'c1',
        message: 'Container app failed liveness probe, will be restarted',
        detail: { probe: 'Liveness', output: 'live: exit 1\n' },
      },
    ]);
    // On hold until a new container: no more runs, no second report.
    await clock.advance(10_000);
    expect(runner.count('live')).toBe(3);
    expect(listener.unhealthy).toHaveLength(1);
  });

  it('a success between failures restarts the count', async () => {
    await oldManager();
    runner.exits.set('live', 1);
    track({ livenessProbe: exec('live') });
    await clock.advance(1_000); // two failures
    runner.exits.set('live', 0);
    await clock.advance(1_000); // a success
    runner.exits.set('live', 1);
    await clock.advance(2_000); // two more failures
    expect(listener.unhealthy).toHaveLength(0);
    await clock.advance(1_000); // the third in a row
    expect(listener.unhealthy).toHaveLength(1);
    expect(listener.changes).toBe(0); // liveness is not part of the status
  });

  it('readiness needs successThreshold successes in a row and falls back after failureThreshold failures', async () => {
    await oldManager();
    track({ readinessProbe: exec('ready', { successThreshold: 3, failureThreshold: 2 }) });
    await clock.advance(1_000);
    expect(manager.isReady('uid-1', 'app')).toBe(false);
    await clock.advance(1_000);
    expect(manager.isReady('uid-1', 'app')).toBe(true);
    expect(listener.changes).toBe(1);
    runner.exits.set('ready', 1);
    await clock.advance(1_000);
    expect(manager.isReady('uid-1', 'app')).toBe(true); // one failure: below the threshold
    await clock.advance(1_000);
    expect(manager.isReady('uid-1', 'app')).toBe(false);
    expect(listener.changes).toBe(2);
    // A readiness failure never kills anything, and readiness keeps probing.
    expect(listener.unhealthy).toEqual([]);
    const runs = runner.count('ready');
    await clock.advance(3_000);
    expect(runner.count('ready')).toBeGreaterThan(runs);
  });

  it('waits initialDelaySeconds after the container started, counting whole seconds', async () => {
    await oldManager();
    track({ livenessProbe: exec('live', { initialDelaySeconds: 5 }) });
    await clock.advance(4_999);
    expect(runner.count('live')).toBe(0);
    await clock.advance(1);
    expect(runner.count('live')).toBe(1);
  });

  it('measures the initial delay from the container start, not from track()', async () => {
    await oldManager();
    const { pod, container } = podWith({ livenessProbe: exec('live', { initialDelaySeconds: 5 }) });
    // An agent restart finds a container that has run for a minute already.
    manager.track({
      pod,
      container,
      containerId: 'c1',
      podIP: '10.0.0.9',
      startedAt: new Date(clock.now() - 60_000),
    });
    await clock.advance(0);
    expect(runner.count('live')).toBe(1);
  });

  it('jitters the first run by a random part of the period while the agent is young, not after', async () => {
    manager = new KubeletProbeManager(runner, {
      clock,
      random: () => 0.25,
      kubernetesVersion: { major: '1', minor: '33' },
    });
    track({ livenessProbe: exec('young', { periodSeconds: 8 }) });
    await clock.advance(1_999);
    expect(runner.count('young')).toBe(0);
    await clock.advance(1);
    expect(runner.count('young')).toBe(1);
    // The grid starts at the first run: next at 2 s + 8 s.
    await clock.advance(7_999);
    expect(runner.count('young')).toBe(1);
    await clock.advance(1);
    expect(runner.count('young')).toBe(2);
    // Past one period since the manager started, a new container's worker starts at once.
    track({ livenessProbe: exec('later', { periodSeconds: 8 }) }, 'c2');
    await clock.advance(0);
    expect(runner.count('later')).toBe(1);
  });

  it('the startup probe gates liveness and readiness until it succeeds, then stops', async () => {
    await oldManager();
    runner.exits.set('start', 1);
    track({
      startupProbe: exec('start', { failureThreshold: 30 }),
      livenessProbe: exec('live'),
      readinessProbe: exec('ready'),
    });
    await clock.advance(5_000);
    expect(runner.count('start')).toBe(6);
    expect(runner.count('live')).toBe(0);
    expect(runner.count('ready')).toBe(0);
    expect(manager.isStarted('uid-1', 'app')).toBe(false);
    expect(manager.isReady('uid-1', 'app')).toBe(false);
    expect(listener.changes).toBe(0);

    runner.exits.set('start', 0);
    await clock.advance(1_000);
    expect(manager.isStarted('uid-1', 'app')).toBe(true);
    // Started, and readiness, on the same tick right after, ready: two status changes.
    expect(runner.count('ready')).toBe(1);
    expect(manager.isReady('uid-1', 'app')).toBe(true);
    expect(listener.changes).toBe(2);
    await clock.advance(5_000);
    // The startup probe ran its last; the others took over.
    expect(runner.count('start')).toBe(7);
    expect(runner.count('live')).toBe(6);
    expect(runner.count('ready')).toBe(6);
  });

  it('a failing startup probe reports unhealthy with the probe’s own grace period', async () => {
    await oldManager();
    runner.exits.set('start', 1);
    track(
      {
        startupProbe: exec('start', { failureThreshold: 2, terminationGracePeriodSeconds: 7 }),
        livenessProbe: exec('live'),
      },
      'c1',
      { spec: { containers: [], restartPolicy: 'Never' } },
    );
    await clock.advance(5_000);
    expect(listener.unhealthy).toEqual([
      {
        containerName: 'app',
        containerId: 'c1',
        message: 'Container app failed startup probe',
        detail: { probe: 'Startup', output: 'start: exit 1\n', terminationGracePeriodSeconds: 7 },
      },
    ]);
    expect(runner.count('start')).toBe(2);
    expect(runner.count('live')).toBe(0);
    expect(manager.isStarted('uid-1', 'app')).toBe(false);
  });

  it('a restarted container (new id) gets fresh workers: initial results, counts and probing resume', async () => {
    await oldManager();
    runner.exits.set('live', 1);
    track({ livenessProbe: exec('live'), readinessProbe: exec('ready') });
    await clock.advance(2_000);
    expect(listener.unhealthy).toHaveLength(1);
    expect(manager.isReady('uid-1', 'app')).toBe(true);

    // The same id again changes nothing.
    track({ livenessProbe: exec('live'), readinessProbe: exec('ready') });
    await clock.advance(0);
    expect(runner.count('live', 'c1')).toBe(3);

    track({ livenessProbe: exec('live'), readinessProbe: exec('ready') }, 'c2');
    // Readiness is back to its initial failure until the new container's first success.
    expect(manager.isReady('uid-1', 'app')).toBe(false);
    await clock.advance(2_000);
    expect(runner.count('live', 'c1')).toBe(3);
    expect(runner.count('live', 'c2')).toBe(3);
    expect(listener.unhealthy.map((u) => u.containerId)).toEqual(['c1', 'c2']);
    expect(manager.isReady('uid-1', 'app')).toBe(true);
  });

  it('untrack stops one container’s probes or a whole pod’s', async () => {
    await oldManager();
    const { pod } = podWith({});
    const a: Container = { name: 'a', image: 'x', livenessProbe: exec('a') };
    const b: Container = { name: 'b', image: 'x', readinessProbe: exec('b') };
    const startedAt = new Date(clock.now());
    manager.track({ pod, container: a, containerId: 'ca', startedAt });
    manager.track({ pod, container: b, containerId: 'cb', startedAt });
    await clock.advance(1_000);
    manager.untrack('uid-1', 'a');
    await clock.advance(5_000);
    expect(runner.count('a')).toBe(2);
    expect(runner.count('b')).toBe(7);
    expect(manager.isStarted('uid-1', 'a')).toBe(false);
    expect(manager.isReady('uid-1', 'b')).toBe(true);
    manager.untrack('uid-1');
    await clock.advance(5_000);
    expect(runner.count('b')).toBe(7);
    expect(manager.isReady('uid-1', 'b')).toBe(false);
    expect(clock.timers.size).toBe(0);
  });

  it('a result that comes back after untrack is dropped', async () => {
    await oldManager();
    let finish!: (r: ExecResult) => void;
    runner.exits.set('live', () => new Promise<ExecResult>((r) => (finish = r)));
    track({ livenessProbe: exec('live', { failureThreshold: 1 }) });
    await clock.advance(0);
    manager.untrack('uid-1');
    finish({ exitCode: 1, output: 'late', timedOut: false });
    await clock.advance(0);
    expect(listener.unhealthy).toEqual([]);
    expect(listener.events).toEqual([]);
  });

  it('stop() clears every timer', async () => {
    await oldManager();
    track({ livenessProbe: exec('l'), readinessProbe: exec('r'), startupProbe: exec('s') });
    track({ livenessProbe: exec('l') }, 'c9', {
      metadata: { uid: 'uid-2', name: 'other', namespace: 'default' },
    });
    await clock.advance(1_000);
    expect(clock.timers.size).toBeGreaterThan(0);
    manager.stop();
    expect(clock.timers.size).toBe(0);
    const runs = runner.calls.length;
    await clock.advance(10_000);
    expect(runner.calls.length).toBe(runs);
  });

  it('a pod being deleted quiets liveness and startup with a last success; readiness goes on', async () => {
    await oldManager();
    runner.exits.set('live', 1);
    runner.exits.set('ready', 1);
    const probes = { livenessProbe: exec('live'), readinessProbe: exec('ready') };
    track(probes);
    await clock.advance(1_000); // two liveness failures
    track(probes, 'c1', {
      metadata: {
        uid: 'uid-1',
        name: 'web',
        namespace: 'default',
        deletionTimestamp: '2026-01-01T00:00:00Z',
      },
    });
    await clock.advance(5_000);
    expect(runner.count('live')).toBe(2);
    expect(listener.unhealthy).toEqual([]);
    expect(runner.count('ready')).toBe(7);
  });

  it('a deleted pod’s startup probe ends as a success, so the container counts as started', async () => {
    await oldManager();
    runner.exits.set('start', 1);
    const probes = { startupProbe: exec('start', { failureThreshold: 100 }) };
    track(probes);
    await clock.advance(1_000);
    track(probes, 'c1', {
      metadata: {
        uid: 'uid-1',
        name: 'web',
        namespace: 'default',
        deletionTimestamp: '2026-01-01T00:00:00Z',
      },
    });
    await clock.advance(1_000);
    expect(manager.isStarted('uid-1', 'app')).toBe(true);
    expect(listener.changes).toBe(1);
  });

  it('an isReady read while not ready runs the readiness probe at once, without moving the grid', async () => {
    await oldManager();
    runner.exits.set('ready', 1);
    track({ readinessProbe: exec('ready', { periodSeconds: 10, failureThreshold: 1 }) });
    await clock.advance(1_000);
    expect(runner.count('ready')).toBe(1);
    runner.exits.set('ready', 0);
    expect(manager.isReady('uid-1', 'app')).toBe(false);
    await clock.advance(0);
    expect(runner.count('ready')).toBe(2);
    expect(manager.isReady('uid-1', 'app')).toBe(true);
    await clock.advance(9_000); // the grid's next run is still at 10 s
    expect(runner.count('ready')).toBe(3);
  });

  it('never overlaps runs: a slow probe’s missed ticks become one run right after it', async () => {
    await oldManager();
    let finish!: (r: ExecResult) => void;
    runner.exits.set('slow', () => new Promise<ExecResult>((r) => (finish = r)));
    track({ livenessProbe: exec('slow') });
    await clock.advance(3_500);
    expect(runner.count('slow')).toBe(1);
    finish({ exitCode: 0, output: '', timedOut: false });
    await clock.advance(0);
    expect(runner.count('slow')).toBe(2);
    finish({ exitCode: 0, output: '', timedOut: false });
    await clock.advance(500);
    expect(runner.count('slow')).toBe(3); // back on the grid at 4 s
  });

  it('throws away an errored probe after three tries, recording why', async () => {
    await oldManager();
    runner.exits.set('live', new Error('container not running'));
    track({ livenessProbe: exec('live', { failureThreshold: 1 }) });
    await clock.advance(2_000);
    expect(runner.count('live')).toBe(9); // three runs, three tries each
    expect(listener.unhealthy).toEqual([]);
    expect(listener.events[0]).toEqual({
      reason: 'Unhealthy',
      message: 'Liveness probe errored and resulted in unknown state: container not running',
      containerId: 'c1',
    });
  });

  it('an exec that times out fails with the runtime’s message', async () => {
    await oldManager();
    runner.exits.set('sleep 10', async () => ({ output: '', timedOut: true }));
    track({ readinessProbe: exec('sleep 10') });
    await clock.advance(0);
    expect(listener.events).toEqual([
      {
        reason: 'Unhealthy',
        message: 'Readiness probe failed: command "sleep 10" timed out',
        containerId: 'c1',
      },
    ]);
  });

  it('fills in upstream defaults for a probe with no timing fields', async () => {
    await oldManager();
    runner.exits.set('bare', 1);
    track({ livenessProbe: { exec: { command: ['bare'] } } });
    await clock.advance(19_999); // period 10 s: runs at 0 and 10 s
    expect(runner.count('bare')).toBe(2);
    expect(listener.unhealthy).toEqual([]);
    await clock.advance(1); // failureThreshold 3
    expect(listener.unhealthy).toHaveLength(1);
  });
});
