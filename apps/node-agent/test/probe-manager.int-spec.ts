import { randomUUID } from 'node:crypto';

import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { KUBERNETES_VERSION } from '@app/api';
import { waitFor } from '@app/dev-servers';
import { dockerForTests, removeClusterContainers, type TestDocker } from '@app/testing/docker.js';

import { type Container, type Pod } from '../src/api-types.js';
import {
  type CommandRunner,
  KubeletProbeManager,
  type ProbeEventInfo,
  type ProbeListener,
  type UnhealthyDetail,
} from '../src/probes/index.js';
import { DockerRuntime, type ExecResult } from '../src/runtime/index.js';

/** What the probe manager told the agent, in order. */
class RecordingListener implements ProbeListener {
  readonly changes: string[] = [];
  readonly unhealthy: { podUid: string; containerName: string; message: string; detail: UnhealthyDetail }[] =
    [];
  readonly events: (ProbeEventInfo & { podUid: string })[] = [];
  onChange(podUid: string): void {
    this.changes.push(podUid);
  }
  onUnhealthy(
    podUid: string,
    containerName: string,
    _id: string,
    message: string,
    detail: UnhealthyDetail,
  ): void {
    this.unhealthy.push({ podUid, containerName, message, detail });
  }
  onProbeEvent(podUid: string, _name: string, _id: string, event: ProbeEventInfo): void {
    this.events.push({ ...event, podUid });
  }
}

/** The real engine's exec, with a log of what ran where (to see which probes ran, and when). */
class LoggingRunner implements CommandRunner {
  readonly log: { containerId: string; command: string }[] = [];
  constructor(private readonly runtime: DockerRuntime) {}
  execCapture(containerId: string, command: string[], timeoutMs: number): Promise<ExecResult> {
    this.log.push({ containerId, command: command.join(' ') });
    return this.runtime.execCapture(containerId, command, timeoutMs);
  }
  count(command: string): number {
    return this.log.filter((l) => l.command === command).length;
  }
}

/**
 * The kubelet's prober on the real Docker engine: exec probes through the engine's exec,
 * httpGet and tcpSocket probes to the pod IP of a pause sandbox, busybox doing the serving.
 */
describe('KubeletProbeManager on a real Docker engine', () => {
  let env: TestDocker;
  let runtime: DockerRuntime;
  let runner: LoggingRunner;
  let manager: KubeletProbeManager;
  const listener = new RecordingListener();
  const clusterId = `test-${randomUUID().slice(0, 8)}`;

  beforeAll(async () => {
    env = await dockerForTests();
    runtime = new DockerRuntime(env.docker, { clusterId, pauseImage: env.images.pause });
    runner = new LoggingRunner(runtime);
    manager = new KubeletProbeManager(runner, { kubernetesVersion: KUBERNETES_VERSION });
    manager.setListener(listener);
  });

  afterAll(async () => {
    manager?.stop();
    if (!env) return;
    expect(await removeClusterContainers(env.docker, clusterId)).toEqual([]);
  });

  /** A pod of one busybox container running `script`, in its own sandbox; tracked at once. */
  async function runPod(container: Omit<Container, 'image'>, script: string) {
    const uid = randomUUID();
    const ref = { name: `probe-${uid.slice(0, 6)}`, namespace: 'default', uid };
    const sandboxId = await runtime.runSandbox(ref, 0);
    const podIP = (await runtime.inspect(sandboxId)).ipAddress;
    expect(podIP).toBeDefined();
    const spec: Container = { image: env.images.busybox, ...container };
    const containerId = await runtime.createContainer(
      sandboxId,
      ref,
      { name: spec.name, image: env.images.busybox, command: ['sh', '-c', script] },
      0,
    );
    await runtime.startContainer(containerId);
    const startedAt = (await runtime.inspect(containerId)).startedAt ?? new Date();
    const pod: Pod = {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { ...ref },
      spec: { containers: [spec], restartPolicy: 'Always' },
    };
    manager.track({ pod, container: spec, containerId, podIP: podIP!, startedAt });
    const sh = (cmd: string) => runtime.execCapture(containerId, ['sh', '-c', cmd], 10_000);
    return { uid, containerId, podIP: podIP!, sh };
  }

  const fast = { periodSeconds: 1, timeoutSeconds: 1, successThreshold: 1, initialDelaySeconds: 0 };

  it('an exec liveness probe reports the container unhealthy once its file is gone, after failureThreshold failures', async () => {
    const { uid, sh } = await runPod(
      {
        name: 'live',
        livenessProbe: { ...fast, failureThreshold: 2, exec: { command: ['cat', '/tmp/healthy'] } },
      },
      'touch /tmp/healthy; exec sleep 3600',
    );
    await waitFor('two passing liveness runs', () =>
      runner.count('cat /tmp/healthy') >= 2 ? true : undefined,
    );
    expect(listener.unhealthy.filter((u) => u.podUid === uid)).toEqual([]);
    expect(manager.isReady(uid, 'live')).toBe(true);

    expect((await sh('rm /tmp/healthy')).exitCode).toBe(0);
    const report = await waitFor('the liveness failure', () =>
      listener.unhealthy.find((u) => u.podUid === uid),
    );
    expect(report).toEqual({
      podUid: uid,
      containerName: 'live',
      message: 'Container live failed liveness probe, will be restarted',
      detail: { probe: 'Liveness', output: "cat: can't open '/tmp/healthy': No such file or directory\n" },
    });
    const failures = listener.events.filter((e) => e.podUid === uid);
    // failureThreshold 2: both failed runs are events, and the second one reports.
    expect(failures).toHaveLength(2);
    expect(failures[0]).toEqual({
      podUid: uid,
      reason: 'Unhealthy',
      message: "Liveness probe failed: cat: can't open '/tmp/healthy': No such file or directory\n",
    });
    manager.untrack(uid);
  });

  it('an httpGet readiness probe to the pod IP turns ready while httpd serves, and not ready when it stops', async () => {
    const { uid, podIP, sh } = await runPod(
      {
        name: 'web',
        ports: [{ name: 'http', containerPort: 8080 }],
        readinessProbe: { ...fast, failureThreshold: 1, httpGet: { port: 'http', path: '/' } },
      },
      'mkdir -p /www && echo hello > /www/index.html && exec sleep 3600',
    );
    const refused = await waitFor('a refused readiness run', () =>
      listener.events.find((e) => e.podUid === uid),
    );
    expect(refused.message).toBe(
      `Readiness probe failed: Get "http://${podIP}:8080/": dial tcp ${podIP}:8080: connect: connection refused`,
    );
    expect(manager.isReady(uid, 'web')).toBe(false);

    // Waiting on the listener, not on isReady: a read while not ready triggers a run.
    const changes = () => listener.changes.filter((c) => c === uid).length;
    expect((await sh('httpd -p 8080 -h /www')).exitCode).toBe(0);
    await waitFor('ready', () => (changes() === 1 ? true : undefined));
    expect(manager.isReady(uid, 'web')).toBe(true);

    expect((await sh('killall httpd')).exitCode).toBe(0);
    await waitFor('not ready', () => (changes() === 2 ? true : undefined));
    expect(manager.isReady(uid, 'web')).toBe(false);
    // A readiness failure never asks for a kill.
    expect(listener.unhealthy.filter((u) => u.podUid === uid)).toEqual([]);
    manager.untrack(uid);
  });

  it('a tcpSocket probe succeeds once something listens on the port', async () => {
    const { uid, podIP, sh } = await runPod(
      { name: 'tcp', readinessProbe: { ...fast, failureThreshold: 1, tcpSocket: { port: 9000 } } },
      'mkdir -p /www && exec sleep 3600',
    );
    const refused = await waitFor('a refused tcp run', () => listener.events.find((e) => e.podUid === uid));
    expect(refused.message).toBe(
      `Readiness probe failed: dial tcp ${podIP}:9000: connect: connection refused`,
    );
    expect((await sh('httpd -p 9000 -h /www')).exitCode).toBe(0);
    await waitFor('ready', () => (listener.changes.includes(uid) ? true : undefined));
    expect(manager.isReady(uid, 'tcp')).toBe(true);
    manager.untrack(uid);
  });

  it('a startup probe holds liveness back until it succeeds', async () => {
    const { uid, sh } = await runPod(
      {
        name: 'slow',
        startupProbe: { ...fast, failureThreshold: 600, exec: { command: ['cat', '/tmp/started'] } },
        // Fails at once if it ever runs: it may only run after startup.
        livenessProbe: { ...fast, failureThreshold: 1, exec: { command: ['cat', '/tmp/alive'] } },
      },
      'exec sleep 3600',
    );
    await waitFor('three failing startup runs', () =>
      runner.count('cat /tmp/started') >= 3 ? true : undefined,
    );
    expect(manager.isStarted(uid, 'slow')).toBe(false);
    expect(manager.isReady(uid, 'slow')).toBe(false);
    expect(runner.count('cat /tmp/alive')).toBe(0);
    expect(listener.unhealthy.filter((u) => u.podUid === uid)).toEqual([]);

    expect((await sh('touch /tmp/started')).exitCode).toBe(0);
    await waitFor('started', () => (manager.isStarted(uid, 'slow') ? true : undefined));
    expect(listener.changes).toContain(uid);
    const report = await waitFor('the liveness failure', () =>
      listener.unhealthy.find((u) => u.podUid === uid),
    );
    expect(report.detail.probe).toBe('Liveness');
    // Every liveness run came after the last startup run.
    const lastStartup = runner.log.findLastIndex((l) => l.command === 'cat /tmp/started');
    const firstLiveness = runner.log.findIndex((l) => l.command === 'cat /tmp/alive');
    expect(firstLiveness).toBeGreaterThan(lastStartup);
    manager.untrack(uid);
  });

  it('an exec probe that outlives its timeout fails as timed out', async () => {
    const { uid } = await runPod(
      { name: 'stuck', readinessProbe: { ...fast, failureThreshold: 1, exec: { command: ['sleep', '5'] } } },
      'exec sleep 3600',
    );
    const event = await waitFor('a timed-out run', () => listener.events.find((e) => e.podUid === uid));
    expect(event.message).toBe('Readiness probe failed: command "sleep 5" timed out');
    expect(manager.isReady(uid, 'stuck')).toBe(false);
    manager.untrack(uid);
  });
});
