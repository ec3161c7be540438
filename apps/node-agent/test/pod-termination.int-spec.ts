import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { access } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import { type AddressInfo } from 'node:net';
import { join } from 'node:path';
import { promisify } from 'node:util';

import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { waitFor } from '@app/dev-servers';

import { type Container, type Pod } from '../src/api-types.js';
import { LiteralContainerConfigurer } from '../src/config/container-config.js';
import { NoProbeManager, type ProbeListener } from '../src/probes/probe-manager.js';
import { type PodManager } from '../src/pods/index.js';
import { type ContainerSpec, LABELS } from '../src/runtime/index.js';
import { type PodWorld, condition, containerStatus, podWorld } from './pod-harness.js';

/** No probes run, but the test can report a liveness failure as the real prober would. */
class TriggerableProbes extends NoProbeManager {
  listener?: ProbeListener;
  override setListener(listener?: ProbeListener): void {
    this.listener = listener;
  }
}

/** Literal specs, plus a memory limit for containers that ask for one through an env var. */
class MemoryLimitConfigurer extends LiteralContainerConfigurer {
  override async containerSpec(pod: Pod, c: Container): Promise<ContainerSpec> {
    const spec = await super.containerSpec(pod, c);
    const limit = c.env?.find((e) => e.name === 'TEST_MEMORY_LIMIT')?.value;
    return limit ? { ...spec, resources: { memoryBytes: Number(limit) } } : spec;
  }
}

const run = promisify(execFile);

const running = (name: string) => (p: Pod) =>
  condition(p, 'Ready')?.status === 'True' && containerStatus(p, name)?.state?.running !== undefined;

describe('pod termination, adoption after an agent crash, and containers lost behind the agent’s back', () => {
  let w: PodWorld;
  let manager: PodManager;
  const probes = new TriggerableProbes();
  const configurer = new MemoryLimitConfigurer();
  let hooks: Server;
  const hookRequests: string[] = [];

  beforeAll(async () => {
    w = await podWorld('termination');
    manager = await w.startManager({}, { probes, configurer });
    hooks = createServer((req, res) => {
      hookRequests.push(req.url ?? '');
      res.end('ok');
    });
    await new Promise<void>((resolve) => hooks.listen(0, '127.0.0.1', resolve));
  });
  afterAll(async () => {
    hooks?.close();
    await w?.close();
  });

  it('deletes gracefully: preStop hooks run, a SIGTERM-ignoring container is killed after the grace period, containers removed, the pod object gone', async () => {
    const port = (hooks.address() as AddressInfo).port;
    const created = await w.createPod('graceful', {
      terminationGracePeriodSeconds: 3,
      containers: [
        {
          name: 'stubborn',
          image: w.env.images.busybox,
          // sleep as PID 1 ignores SIGTERM: only the SIGKILL after the grace period ends it.
          command: ['sleep', '3600'],
          lifecycle: { preStop: { exec: { command: ['sh', '-c', 'echo prestop-ran > /proc/1/fd/1'] } } },
        },
        {
          name: 'web',
          image: w.env.images.busybox,
          command: ['httpd', '-f', '-p', '8080'],
          lifecycle: { preStop: { httpGet: { host: '127.0.0.1', port, path: '/prestop' } } },
        },
      ],
    });
    const pod = await w.waitPod('graceful', 'Ready', (p) => condition(p, 'Ready')?.status === 'True');
    const stubbornId = containerStatus(pod, 'stubborn')!.containerID!.replace('docker://', '');
    const logs = (await w.env.docker.getContainer(stubbornId).logs({
      follow: true,
      stdout: true,
      stderr: true,
    })) as NodeJS.ReadableStream;
    let output = '';
    logs.on('data', (c: Buffer) => (output += c.toString('latin1')));
    const events = (await w.env.docker.getEvents({
      filters: { type: ['container'], event: ['die'], label: [`${LABELS.podUid}=${created.metadata!.uid}`] },
    })) as NodeJS.ReadableStream & { destroy(): void };
    const deaths: { name: string; exitCode: string }[] = [];
    events.on('data', (c: Buffer) => {
      for (const line of c.toString().split('\n').filter(Boolean)) {
        const e = JSON.parse(line) as { Actor: { Attributes: Record<string, string> } };
        deaths.push({
          name: e.Actor.Attributes[LABELS.containerName] ?? 'POD',
          exitCode: e.Actor.Attributes.exitCode!,
        });
      }
    });
    try {
      const deleted = await w.cluster.kubectl(33, ['-n', w.ns, 'delete', 'pod', 'graceful'], {
        timeoutMs: 60_000,
      });
      expect(deleted.code).toBe(0);
      expect(deleted.stdout).toContain('pod "graceful" deleted');
      expect(await w.getPod('graceful')).toBeUndefined();
      expect(await w.containersOf(pod)).toEqual([]);
      expect(hookRequests).toContain('/prestop');
      expect(output).toContain('prestop-ran');
      await waitFor('the stubborn container’s death', () => deaths.find((d) => d.name === 'stubborn'));
      expect(deaths.find((d) => d.name === 'stubborn')?.exitCode).toBe('137');
    } finally {
      events.destroy();
    }
  });

  it('restarts a container that failed its liveness probe, saying so in lastState', async () => {
    await w.createPod('live', {
      containers: [{ name: 'c', image: w.env.images.busybox, command: ['sleep', '3600'] }],
    });
    const pod = await w.waitPod('live', 'running', running('c'));
    const first = containerStatus(pod, 'c')!;
    probes.listener!.onUnhealthy(
      pod.metadata!.uid!,
      'c',
      first.containerID!.replace('docker://', ''),
      'Container c failed liveness probe, will be restarted',
      { probe: 'Liveness', output: 'exit 1' },
    );
    const after = await w.waitPod(
      'live',
      'restarted',
      (p) => containerStatus(p, 'c')?.restartCount === 1 && running('c')(p),
    );
    const s = containerStatus(after, 'c')!;
    expect(s.containerID).not.toBe(first.containerID);
    expect(s.lastState?.terminated).toMatchObject({
      reason: 'Error',
      exitCode: 137,
      message: 'Container c failed liveness probe, will be restarted',
    });
  });

  it('reports a container the kernel killed for memory as OOMKilled', async () => {
    await w.createPod('oom', {
      restartPolicy: 'Never',
      containers: [
        {
          name: 'hog',
          image: w.env.images.busybox,
          env: [{ name: 'TEST_MEMORY_LIMIT', value: String(16 * 1024 * 1024) }],
          // Doubles a shell string until the memory limit ends it.
          command: ['sh', '-c', 'x=0123456789; while true; do x="$x$x"; done'],
        },
      ],
    });
    const pod = await w.waitPod('oom', 'Failed', (p) => p.status?.phase === 'Failed', 60_000);
    expect(containerStatus(pod, 'hog')?.state?.terminated).toMatchObject({
      reason: 'OOMKilled',
      exitCode: 137,
    });
  });

  it('adopts what a crashed agent left: no duplicates, restart counts kept, pods deleted meanwhile cleaned up', async () => {
    await w.createPod('steady', {
      containers: [{ name: 'c', image: w.env.images.busybox, command: ['sleep', '3600'] }],
    });
    await w.createPod('flaky', {
      containers: [{ name: 'c', image: w.env.images.busybox, command: ['sh', '-c', 'sleep 0.2; exit 1'] }],
    });
    await w.createPod('doomed', {
      containers: [{ name: 'c', image: w.env.images.busybox, command: ['sleep', '3600'] }],
    });
    const steady = await w.waitPod('steady', 'running', running('c'));
    const flaky = await w.waitPod(
      'flaky',
      'restarted twice',
      (p) => (containerStatus(p, 'c')?.restartCount ?? 0) >= 2,
    );
    const doomed = await w.waitPod('doomed', 'running', running('c'));

    // The agent "crashes": it stops without touching any container.
    await manager.stop();
    const flakyCount = containerStatus((await w.getPod('flaky'))!, 'c')!.restartCount;
    // Deleted while no agent runs: grace 0 removes the object at once.
    expect(
      (await w.cluster.api('DELETE', `/api/v1/namespaces/${w.ns}/pods/doomed?gracePeriodSeconds=0`)).status,
    ).toBe(200);
    // A container of this cluster for a pod uid the API never had.
    const stranger = { name: 'stranger', namespace: w.ns, uid: randomUUID() };
    await w.runtime.runSandbox(stranger, 0);

    manager = await w.startManager({}, { probes, configurer });
    await waitFor('the deleted pod’s and the stranger’s containers removed', async () =>
      (await w.containersOf(doomed)).length === 0 &&
      (await w.runtime.listContainers({ podUid: stranger.uid })).length === 0
        ? true
        : undefined,
    );
    // Several resyncs later the steady pod still runs its one original container.
    await new Promise((resolve) => setTimeout(resolve, 2_500));
    const steadyNow = (await w.getPod('steady'))!;
    expect(containerStatus(steadyNow, 'c')).toMatchObject({
      containerID: containerStatus(steady, 'c')!.containerID,
      restartCount: 0,
      ready: true,
    });
    const steadyContainers = await w.containersOf(steady);
    expect(steadyContainers.map((c) => c.name).sort()).toEqual([
      `k8s_POD_steady_${w.ns}_${steady.metadata!.uid}_0`,
      `k8s_c_steady_${w.ns}_${steady.metadata!.uid}_0`,
    ]);
    // The crash-looping pod goes on counting from where it was.
    const flakyLater = await w.waitPod(
      'flaky',
      'restarted again',
      (p) => containerStatus(p, 'c')!.restartCount > flakyCount,
    );
    expect(containerStatus(flakyLater, 'c')!.restartCount).toBeGreaterThan(
      containerStatus(flaky, 'c')!.restartCount,
    );
    const flakyNames = (await w.containersOf(flaky)).map((c) => c.name);
    expect(new Set(flakyNames).size).toBe(flakyNames.length);
    expect(flakyNames.filter((n) => n.startsWith('k8s_POD_'))).toHaveLength(1);
  });

  it('a container the engine cannot remove does not hold the pod in Terminating: the object goes, the removal is retried until it succeeds', async () => {
    const pod = await w.createPod('pinned', {
      terminationGracePeriodSeconds: 1,
      containers: [
        { name: 'c', image: w.env.images.busybox, command: ['sh', '-c', 'touch /pinned; exec sleep 3600'] },
      ],
    });
    const ready = await w.waitPod('pinned', 'running', running('c'));
    const id = containerStatus(ready, 'c')!.containerID!.replace('docker://', '');
    // dockerode types GraphDriver.Data as the devicemapper driver's; overlay2 reports its layer dirs.
    const graph = (await w.env.docker.getContainer(id).inspect()).GraphDriver.Data as unknown as {
      UpperDir: string;
    };
    const pinned = join(graph.UpperDir, 'pinned');
    // An immutable file in the container's writable layer: the engine's removal of the layer fails
    // (EPERM) as a busy mount after an engine crash makes it fail, for as long as the flag stays.
    await waitFor('the container’s file to exist', () =>
      access(pinned).then(
        () => true,
        () => undefined,
      ),
    );
    await run('chattr', ['+i', pinned]);
    try {
      expect((await w.cluster.api('DELETE', `/api/v1/namespaces/${w.ns}/pods/pinned`)).status).toBe(200);
      await waitFor('the pod object to go', async () => ((await w.getPod('pinned')) ? undefined : true));
      expect(w.logs.some((l) => l.includes(`could not remove dead container ${id.slice(0, 12)}`))).toBe(true);
      const left = await w.containersOf(pod);
      expect(left.map((c) => c.id)).toEqual([id]);
      expect(left[0]!.state).not.toBe('running');
    } finally {
      await run('chattr', ['-i', pinned]);
    }
    await waitFor('the orphan resync to remove the container', async () =>
      (await w.containersOf(pod)).length === 0 ? true : undefined,
    );
  });

  it('recovers when the engine loses a pod’s containers behind the agent’s back: new sandbox, containers restarted', async () => {
    await w.createPod('lost', {
      containers: [{ name: 'c', image: w.env.images.busybox, command: ['sleep', '3600'] }],
    });
    const before = await w.waitPod('lost', 'running', running('c'));
    // What an engine restart does to a pod: every container dies, the sandbox first.
    const victims = (await w.containersOf(before)).sort((a) => (a.name.startsWith('k8s_POD_') ? -1 : 1));
    await Promise.all(
      victims.map((c) =>
        w.env.docker
          .getContainer(c.id)
          .kill()
          .catch(() => undefined),
      ),
    );
    const after = await w.waitPod(
      'lost',
      'running again in a new sandbox',
      (p) => running('c')(p) && containerStatus(p, 'c')!.restartCount >= 1,
    );
    expect(after.status?.phase).toBe('Running');
    const containers = await w.containersOf(after);
    const sandboxes = containers.filter((c) => c.name.startsWith('k8s_POD_') && c.state === 'running');
    expect(sandboxes).toHaveLength(1);
    expect(sandboxes[0]!.name).not.toBe(`k8s_POD_lost_${w.ns}_${before.metadata!.uid}_0`);
    const apps = containers.filter((c) => c.name.startsWith('k8s_c_') && c.state === 'running');
    expect(apps).toHaveLength(1);
    // The app container runs in the new sandbox.
    expect(apps[0]!.labels[LABELS.sandboxId]).toBe(sandboxes[0]!.id);
    // Killed (137), or — when the agent raced the kills and restarted it in the dying sandbox —
    // unable to start there (ContainerCannotRun): either way the previous instance failed.
    expect(containerStatus(after, 'c')!.lastState?.terminated?.exitCode).not.toBe(0);
    expect(['Error', 'ContainerCannotRun']).toContain(
      containerStatus(after, 'c')!.lastState?.terminated?.reason,
    );
  });
});
