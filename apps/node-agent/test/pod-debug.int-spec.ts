import { mkdtemp, readlink, rm } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import { type AddressInfo } from 'node:net';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';

import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { waitFor } from '@app/dev-servers';

import { type Pod } from '../src/api-types.js';
import { ApiObjectSource } from '../src/config/object-source.js';
import { PodConfigurer } from '../src/config/pod-configurer.js';
import { ApiTokenSource } from '../src/config/token-manager.js';
import { serveNodeStreams } from '../src/streams/index.js';
import { type PodWorld, condition, podWorld } from './pod-harness.js';

/** This node's address as the agent reports it (a host-network pod's podIP). */
const HOST_IP = '127.0.0.1';

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
describe('kubectl debug: ephemeral containers and node debugging on a real engine', () => {
  let w: PodWorld;
  let stopStreams: () => void;
  let podsDir: string;

  beforeAll(async () => {
    w = await podWorld('debug');
    podsDir = await mkdtemp(join(tmpdir(), 'wake-debug-pods-'));
    // The node agent's own configurer: a node debugger mounts the host's / through a hostPath volume.
    const configurer = new PodConfigurer(
      new ApiObjectSource(w.api, { ttlMs: 100 }),
      new ApiTokenSource(w.api),
      {
        podsDir,
        hostIPs: [HOST_IP],
      },
    );
    await w.startManager({ hostIP: HOST_IP }, { configurer });
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
    if (podsDir) await rm(podsDir, { recursive: true, force: true });
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
    return runInteractively(minor, debugArgs(args), script);
  }

  async function runInteractively(minor: number, args: string[], script: string) {
    const child = w.cluster.spawnKubectl(minor, args);
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

  /** `kubectl debug node/<node> -i` running `script` in a shell kept open until its `exit`. */
  async function debugNodeInteractively(node: string, script: string) {
    return runInteractively(
      33,
      ['-n', w.ns, 'debug', `node/${node}`, '-i', `--image=${w.env.images.busybox}`, '--', 'sh'],
      script,
    );
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

  it('kubectl debug node/…: a pod in the node’s network, PID and IPC namespaces with its / at /host', async () => {
    await w.cluster.ok('POST', '/api/v1/nodes', { metadata: { name: w.nodeName } });
    // Something only the host's network has: a server on the host's loopback.
    const server: Server = createServer((_req, res) => res.end('from the host\n'));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const port = (server.address() as AddressInfo).port;
    try {
      const r = await debugNodeInteractively(
        w.nodeName,
        [
          'for n in net pid ipc; do readlink /proc/self/ns/$n; done',
          'hostname',
          `wget -q -O - http://127.0.0.1:${port}/`,
          `test -d /host/proc/${process.pid} && echo host-root-mounted`,
          'exit',
        ].join('; ') + '\n',
      );
      expect(r.code).toBe(0);
      const own = await Promise.all(['net', 'pid', 'ipc'].map((n) => readlink(`/proc/self/ns/${n}`)));
      for (const ns of own) expect(r.stdout).toContain(ns);
      expect(r.stdout).toContain(`${hostname()}\n`);
      expect(r.stdout).toContain('from the host\n');
      expect(r.stdout).toContain('host-root-mounted');
    } finally {
      server.close();
    }
    const pods = await w.cluster.ok<{ items: Pod[] }>('GET', `/api/v1/namespaces/${w.ns}/pods`);
    const name = pods.items
      .map((p) => p.metadata?.name ?? '')
      .find((n) => n.startsWith(`node-debugger-${w.nodeName}-`));
    expect(name).toBeDefined();
    const nodeDebugger = await w.waitPod(name!, 'Succeeded', (p) => p.status?.phase === 'Succeeded');
    expect(nodeDebugger.spec).toMatchObject({
      hostNetwork: true,
      hostPID: true,
      hostIPC: true,
      nodeName: w.nodeName,
    });
    // A host-network pod's address is the node's.
    expect(nodeDebugger.status).toMatchObject({ podIP: HOST_IP, hostIP: HOST_IP });
    expect((await w.cluster.kubectl(33, ['-n', w.ns, 'delete', 'pod', name!])).code).toBe(0);
  });

  it('shareProcessNamespace: the pod’s containers see each other’s processes and the sandbox’s', async () => {
    await w.createPod('shared', {
      shareProcessNamespace: true,
      containers: [
        { name: 'a', image: w.env.images.busybox, command: ['sleep', '3601'] },
        { name: 'b', image: w.env.images.busybox, command: ['sleep', '3602'] },
      ],
    });
    await w.waitPod('shared', 'Ready', (p) => condition(p, 'Ready')?.status === 'True');
    const ps = await w.cluster.kubectl(33, ['-n', w.ns, 'exec', 'shared', '-c', 'a', '--', 'ps']);
    expect(ps.stdout).toContain('sleep 3602');
    expect(ps.stdout).toContain('/pause');
    expect((await w.cluster.kubectl(33, ['-n', w.ns, 'delete', 'pod', 'shared', '--wait=false'])).code).toBe(
      0,
    );
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
