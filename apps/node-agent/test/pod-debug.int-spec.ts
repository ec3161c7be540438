import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { waitFor } from '@app/dev-servers';

import { type Pod } from '../src/api-types.js';
import { serveNodeStreams } from '../src/streams/index.js';
import { type PodWorld, condition, podWorld } from './pod-harness.js';

type ContainerStatus = NonNullable<NonNullable<Pod['status']>['ephemeralContainerStatuses']>[number];

function ephemeralStatus(pod: Pod, name: string): ContainerStatus | undefined {
  return pod.status?.ephemeralContainerStatuses?.find((s) => s.name === name);
}

/**
 * `kubectl debug` end to end: the real kubectl adds an ephemeral container through
 * `pods/ephemeralcontainers`, the pod workers start it on the real engine in the pod's
 * namespaces (the target's processes in view), kubectl attaches to it through the node's
 * stream endpoints, and the container is never started again once it exits.
 */
describe('kubectl debug: ephemeral containers on a real engine', () => {
  let w: PodWorld;
  let stopStreams: () => void;

  beforeAll(async () => {
    w = await podWorld('debug');
    await w.startManager();
    const served = serveNodeStreams(w.nats, w.nodeName, w.runtime);
    stopStreams = () => served.close();
    await w.createPod('web', {
      initContainers: [{ name: 'setup', image: w.env.images.busybox, command: ['true'] }],
      containers: [{ name: 'app', image: w.env.images.busybox, command: ['sleep', '3600'] }],
    });
    await w.waitPod('web', 'Ready', (p) => condition(p, 'Ready')?.status === 'True');
  });
  afterAll(async () => {
    stopStreams?.();
    await w?.close();
  });

  const debugArgs = (args: string[]) => [
    '-n',
    w.ns,
    'debug',
    'web',
    `--image=${w.env.images.busybox}`,
    ...args,
  ];
  const debug = (minor: number, args: string[]) =>
    w.cluster.kubectl(minor, debugArgs(args), { timeoutMs: 60_000 });

  /**
   * kubectl debug -i with a stdin kept open: the shell exits on its own `exit`, which ends the
   * attach. (Stdin closing first would end the attach at once: the engine, like the kubelet's
   * runtimes, closes an attach's output when its input ends, unless the container is stdinOnce.)
   */
  async function debugInteractively(minor: number, args: string[], script: string) {
    const child = w.cluster.spawnKubectl(minor, debugArgs(args));
    let stdout = '';
    let stderr = '';
    child.stdout!.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
    child.stdin!.write(script);
    const code = await new Promise<number | null>((resolve) => {
      const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
      child.on('exit', (c) => {
        clearTimeout(timer);
        resolve(c);
      });
    });
    child.stdin!.destroy();
    return { code, stdout, stderr };
  }

  // 1.33 attaches over WebSockets, 1.27 over SPDY.
  it.each([33, 27])(
    'kubectl 1.%i: -i --target attaches to a shell that sees the target’s processes; it ends terminated, not ready, not restarted',
    async (minor) => {
      const name = `shell-${minor}`;
      const r = await debugInteractively(
        minor,
        ['-i', '--target=app', '-c', name, '--', 'sh'],
        'ps; echo sum=$((40+2)); exit\n',
      );
      expect(r.code).toBe(0);
      expect(r.stderr).not.toContain('error');
      expect(r.stdout).toContain('sum=42');
      // Its PID namespace is app's: app's sleep is there, and nothing of the sandbox.
      expect(r.stdout).toMatch(/sleep 3600/);
      expect(r.stdout).not.toMatch(/pause/);
      const pod = await w.waitPod('web', `${name} terminated`, (p) =>
        Boolean(ephemeralStatus(p, name)?.state?.terminated),
      );
      expect(ephemeralStatus(pod, name)).toMatchObject({
        ready: false,
        restartCount: 0,
        image: w.env.images.busybox,
        state: { terminated: { exitCode: 0, reason: 'Completed' } },
      });
      expect(ephemeralStatus(pod, name)?.started).toBeUndefined();
      // Ephemeral containers count for neither the phase nor readiness.
      expect(pod.status?.phase).toBe('Running');
      expect(condition(pod, 'Ready')?.status).toBe('True');
    },
  );

  it('without -i kubectl returns at once; the output is the container’s log; exited debuggers are not started again', async () => {
    const r = await debug(33, ['-c', 'oneshot', '--', 'sh', '-c', 'echo hello from $(hostname)']);
    expect(r.code).toBe(0);
    await w.waitPod('web', 'oneshot terminated', (p) =>
      Boolean(ephemeralStatus(p, 'oneshot')?.state?.terminated),
    );
    const logs = await w.cluster.kubectl(33, ['-n', w.ns, 'logs', 'web', '-c', 'oneshot']);
    expect(logs.stdout).toBe('hello from web\n');

    // Another debugger is started only by a sync after those above exited: once it runs, each
    // exited one still has its single instance in the engine.
    await debug(33, ['-c', 'later', '--', 'sleep', '3600']);
    const pod = await w.waitPod('web', 'later running', (p) =>
      Boolean(ephemeralStatus(p, 'later')?.state?.running),
    );
    const instances = (await w.containersOf(pod)).map((c) => c.labels['io.kubernetes.container.name']);
    for (const name of ['shell-33', 'shell-27', 'oneshot']) {
      expect(instances.filter((n) => n === name)).toHaveLength(1);
      expect(ephemeralStatus(pod, name)).toMatchObject({ restartCount: 0, state: { terminated: {} } });
    }
    expect(pod.status?.ephemeralContainerStatuses?.map((s) => s.name)).toEqual([
      'later',
      'oneshot',
      'shell-27',
      'shell-33',
    ]);
    const described = await w.cluster.kubectl(33, ['-n', w.ns, 'describe', 'pod', 'web']);
    expect(described.stdout).toContain('Ephemeral Containers:');
    expect(described.stdout).toMatch(/later:[\s\S]*State:\s+Running/);
  });

  it('waits with CreateContainerConfigError while the target is not running', async () => {
    // setup (an init container) exited long ago: there is no process to join.
    const r = await debug(33, ['-c', 'late-target', '--target=setup', '--', 'true']);
    expect(r.code).toBe(0);
    const pod = await w.waitPod('web', 'late-target waiting', (p) =>
      Boolean(ephemeralStatus(p, 'late-target')?.state?.waiting?.reason === 'CreateContainerConfigError'),
    );
    expect(ephemeralStatus(pod, 'late-target')?.state?.waiting?.message).toBe(
      'unable to find target container setup',
    );
    const events = await w.cluster.kubectl(33, [
      '-n',
      w.ns,
      'get',
      'events',
      '--field-selector',
      'involvedObject.fieldPath=spec.ephemeralContainers{late-target}',
      '-o',
      'jsonpath={.items[*].message}',
    ]);
    expect(events.stdout).toContain('Error: unable to find target container setup');
  });

  it('deleting the pod stops its running debugger with the rest', async () => {
    const pod = await w.waitPod('web', 'later running', (p) =>
      Boolean(ephemeralStatus(p, 'later')?.state?.running),
    );
    const r = await w.cluster.kubectl(33, [
      '-n',
      w.ns,
      'delete',
      'pod',
      'web',
      '--wait=true',
      '--timeout=60s',
    ]);
    expect(r.code).toBe(0);
    await waitFor('the pod’s containers removed', async () =>
      (await w.containersOf(pod)).length === 0 ? true : undefined,
    );
  });
});
