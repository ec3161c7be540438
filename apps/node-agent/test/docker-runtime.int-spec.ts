import { randomUUID } from 'node:crypto';

import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { waitFor } from '@app/dev-servers';
import { dockerForTests, type TestDocker } from '@app/testing/docker.js';

import { DockerRuntime, LABELS, type PodRef } from '../src/runtime/index.js';

/**
 * The runtime service on the real engine: a pause sandbox from Wake's locally built image, a
 * busybox container in its network namespace, logs, exit codes, graceful stops, and listings
 * that see only this cluster's containers.
 */
describe('DockerRuntime on a real Docker engine', () => {
  let env: TestDocker;
  let runtime: DockerRuntime;
  const clusterId = `test-${randomUUID().slice(0, 8)}`;
  const pod: PodRef = { name: 'web', namespace: 'default', uid: randomUUID() };
  /** Containers made outside the runtime, removed at the end with the cluster's. */
  const foreign: string[] = [];
  let sandboxId: string;

  beforeAll(async () => {
    env = await dockerForTests();
    runtime = new DockerRuntime(env.docker, { clusterId, pauseImage: env.images.pause });
    sandboxId = await runtime.runSandbox(pod, 0);
  });

  afterAll(async () => {
    if (!env) return;
    // Everything labelled with this run's cluster, whichever test made it and however it ended.
    const ours = await env.docker.listContainers({
      all: true,
      filters: { label: [`${LABELS.cluster}=${clusterId}`] },
    });
    await Promise.all(
      [...ours.map((c) => c.Id), ...foreign].map((id) =>
        env.docker
          .getContainer(id)
          .remove({ force: true, v: true })
          .catch(() => undefined),
      ),
    );
    const left = await env.docker.listContainers({
      all: true,
      filters: { label: [`${LABELS.cluster}=${clusterId}`] },
    });
    expect(left).toEqual([]);
  });

  async function runToExit(name: string, args: string[], attempt = 0): Promise<string> {
    const id = await runtime.createContainer(
      sandboxId,
      pod,
      { name, image: env.images.busybox, command: ['sh', '-c'], args },
      attempt,
    );
    await runtime.startContainer(id);
    await waitFor(`${name} to exit`, async () =>
      (await runtime.inspect(id)).status === 'exited' ? true : undefined,
    );
    return id;
  }

  it('runs the sandbox from the pause image, named and labelled as the dockershim did', async () => {
    const info = await env.docker.getContainer(sandboxId).inspect();
    expect(info.Name).toBe(`/k8s_POD_web_default_${pod.uid}_0`);
    expect(info.Config.Image).toBe(env.images.pause);
    expect(info.Config.Labels).toMatchObject({
      'io.kubernetes.pod.name': 'web',
      'io.kubernetes.pod.namespace': 'default',
      'io.kubernetes.pod.uid': pod.uid,
      'io.kubernetes.docker.type': 'podsandbox',
      'wake.dev/cluster': clusterId,
    });
    const status = await runtime.inspect(sandboxId);
    expect(status).toMatchObject({ status: 'running', running: true, oomKilled: false });
    expect(status.exitCode).toBeUndefined();
    expect(status.startedAt).toBeInstanceOf(Date);
    expect(status.ipAddress).toMatch(/^\d+\.\d+\.\d+\.\d+$/);
  });

  it('puts an app container in the sandbox network namespace: it sees the sandbox IP', async () => {
    const id = await runToExit('net', ['ip -4 -o addr show eth0; hostname']);
    const info = await env.docker.getContainer(id).inspect();
    expect(info.Name).toBe(`/k8s_net_web_default_${pod.uid}_0`);
    expect(info.HostConfig.NetworkMode).toBe(`container:${sandboxId}`);
    expect(info.Config.Labels).toMatchObject({
      'io.kubernetes.container.name': 'net',
      'io.kubernetes.docker.type': 'container',
      'io.kubernetes.sandbox.id': sandboxId,
      'wake.dev/cluster': clusterId,
    });
    const { ipAddress } = await runtime.inspect(sandboxId);
    const lines = (await runtime.logs(id)).map((l) => l.line);
    expect(lines[0]).toContain(` inet ${ipAddress}/`);
    // The UTS namespace is the sandbox's too, whose hostname is the pod's name.
    expect(lines[1]).toBe('web');
    expect(await runtime.inspect(id)).toMatchObject({ status: 'exited', exitCode: 0, running: false });
  });

  it('reports exit codes and finish times, and reads stdout and stderr back with timestamps and tail', async () => {
    const id = await runToExit('fails', ['echo one; echo two >&2; echo three; exit 3']);
    const status = await runtime.inspect(id);
    expect(status).toMatchObject({ status: 'exited', exitCode: 3, oomKilled: false, running: false });
    // Both set; not compared: the engine stamps StartedAt after the process runs, so a process
    // this quick can finish "before" it started.
    expect(status.startedAt).toBeInstanceOf(Date);
    expect(status.finishedAt).toBeInstanceOf(Date);

    const all = await runtime.logs(id);
    expect(all.filter((l) => l.stream === 'stdout').map((l) => l.line)).toEqual(['one', 'three']);
    expect(all.filter((l) => l.stream === 'stderr').map((l) => l.line)).toEqual(['two']);
    expect(all.every((l) => l.timestamp === undefined)).toBe(true);

    // The engine copies stdout and stderr separately, so only one stream's order is defined.
    const counted = await runToExit('counts', ['seq 1 5']);
    const stamped = await runtime.logs(counted, { timestamps: true, tail: 2 });
    expect(stamped.map((l) => l.line)).toEqual(['4', '5']);
    for (const { timestamp } of stamped) {
      expect(timestamp).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d+Z$/);
    }
    expect(new Date(stamped[1]!.timestamp!).getTime()).toBeGreaterThanOrEqual(
      new Date(stamped[0]!.timestamp!).getTime(),
    );
  });

  it('runs a command in a running container: output, exit code, and a timeout that gives up', async () => {
    const id = await runtime.createContainer(
      sandboxId,
      pod,
      { name: 'execs', image: env.images.busybox, command: ['sleep', '3600'] },
      0,
    );
    await runtime.startContainer(id);
    const ok = await runtime.execCapture(id, ['sh', '-c', 'echo out; echo err >&2; exit 4'], 10_000);
    expect(ok).toMatchObject({ exitCode: 4, timedOut: false });
    expect(ok.output).toContain('out\n');
    expect(ok.output).toContain('err\n');
    const slow = await runtime.execCapture(id, ['sleep', '30'], 200);
    expect(slow).toMatchObject({ timedOut: true });
    expect(slow.exitCode).toBeUndefined();
    await runtime.removeContainer(id, { force: true });
  });

  it('stops with SIGTERM first: a container that handles it exits cleanly within its grace period', async () => {
    const id = await runtime.createContainer(
      sandboxId,
      pod,
      {
        name: 'graceful',
        image: env.images.busybox,
        command: ['sh', '-c'],
        args: ['trap "echo got TERM; exit 0" TERM; echo ready; while true; do sleep 0.1; done'],
      },
      0,
    );
    await runtime.startContainer(id);
    await waitFor('graceful to be ready', async () =>
      (await runtime.logs(id)).some((l) => l.line === 'ready') ? true : undefined,
    );
    await runtime.stopContainer(id, 60);
    expect(await runtime.inspect(id)).toMatchObject({ status: 'exited', exitCode: 0 });
    expect((await runtime.logs(id)).map((l) => l.line)).toContain('got TERM');
  });

  it('kills a container that ignores SIGTERM once the grace period is over', async () => {
    // sleep as PID 1 has no SIGTERM handler, and PID 1 ignores signals it does not handle.
    const id = await runtime.createContainer(
      sandboxId,
      pod,
      { name: 'stubborn', image: env.images.busybox, command: ['sleep'], args: ['1000'] },
      0,
    );
    await runtime.startContainer(id);
    await runtime.stopContainer(id, 1);
    expect(await runtime.inspect(id)).toMatchObject({ status: 'exited', exitCode: 137 });
    // Stopping a stopped container is what was asked for, not an error.
    await runtime.stopContainer(id, 1);
  });

  it('lists only this cluster’s containers, by pod and by type, ignoring a foreign one', async () => {
    // Same pod labels and a kubelet-style name, but no cluster label: someone else's.
    const other = await env.docker.createContainer({
      name: `k8s_intruder_web_default_${pod.uid}_0`,
      Image: env.images.busybox,
      Cmd: ['true'],
      Labels: { [LABELS.podUid]: pod.uid, [LABELS.podName]: 'web', [LABELS.containerType]: 'container' },
    });
    foreign.push(other.id);
    const otherCluster = await env.docker.createContainer({
      Image: env.images.busybox,
      Cmd: ['true'],
      Labels: { [LABELS.cluster]: `${clusterId}-other`, [LABELS.podUid]: pod.uid },
    });
    foreign.push(otherCluster.id);

    const listed = await runtime.listContainers();
    const ids = listed.map((c) => c.id);
    expect(ids).toContain(sandboxId);
    expect(ids).not.toContain(other.id);
    expect(ids).not.toContain(otherCluster.id);
    expect(listed.every((c) => c.labels[LABELS.cluster] === clusterId)).toBe(true);

    const sandboxes = await runtime.listContainers({ podUid: pod.uid, type: 'podsandbox' });
    expect(sandboxes).toEqual([
      expect.objectContaining({
        id: sandboxId,
        type: 'podsandbox',
        name: `k8s_POD_web_default_${pod.uid}_0`,
        pod,
        state: 'running',
      }),
    ]);
    const apps = await runtime.listContainers({ podUid: pod.uid, type: 'container' });
    expect(apps.length).toBeGreaterThan(0);
    expect(apps.every((c) => c.sandboxId === sandboxId && c.containerName !== undefined)).toBe(true);
    expect(await runtime.listContainers({ podUid: randomUUID() })).toEqual([]);
  });

  it('refuses a second container under the same name and attempt, and accepts the next attempt', async () => {
    const spec = { name: 'once', image: env.images.busybox, args: ['true'] };
    await runtime.createContainer(sandboxId, pod, spec, 0);
    await expect(runtime.createContainer(sandboxId, pod, spec, 0)).rejects.toMatchObject({ statusCode: 409 });
    const next = await runtime.createContainer(sandboxId, pod, spec, 1);
    expect((await env.docker.getContainer(next).inspect()).Name).toBe(`/k8s_once_web_default_${pod.uid}_1`);
  });

  it('stops the pause sandbox cleanly (exit 0 on SIGTERM) and removes containers, missing ones quietly', async () => {
    const id = await runtime.runSandbox(pod, 1);
    await runtime.stopContainer(id, 30);
    expect(await runtime.inspect(id)).toMatchObject({ status: 'exited', exitCode: 0 });
    await runtime.removeContainer(id);
    await expect(env.docker.getContainer(id).inspect()).rejects.toMatchObject({ statusCode: 404 });
    await runtime.removeContainer(id);

    const running = await runtime.createContainer(
      sandboxId,
      pod,
      { name: 'doomed', image: env.images.busybox, command: ['sleep'], args: ['1000'] },
      0,
    );
    await runtime.startContainer(running);
    await expect(runtime.removeContainer(running)).rejects.toMatchObject({ statusCode: 409 });
    await runtime.removeContainer(running, { force: true });
    expect((await runtime.listContainers()).map((c) => c.id)).not.toContain(running);
  });

  it('with a node container, a host-network/hostPID/hostIPC sandbox and its containers join that container’s namespaces', async () => {
    // The node: a plain container, as an agent's own in docker-compose.
    const node = await env.docker.createContainer({
      Image: env.images.busybox,
      Cmd: ['sleep', '1000'],
      HostConfig: { IpcMode: 'shareable' },
    });
    foreign.push(node.id);
    await node.start();
    const onNode = new DockerRuntime(env.docker, {
      clusterId,
      pauseImage: env.images.pause,
      nodeContainer: node.id,
    });
    const hostPod: PodRef = { name: 'on-node', namespace: 'default', uid: randomUUID() };
    // A ClusterFirstWithHostNet pod's resolver is asked for too: the node container's applies.
    const sandbox = await onNode.runSandbox(hostPod, 0, {
      hostNetwork: true,
      hostPID: true,
      hostIPC: true,
      dns: { servers: ['10.96.0.10'], searches: ['cluster.local'], options: ['ndots:5'] },
    });
    expect(await onNode.inspect(sandbox)).toMatchObject({ running: true, hostNetwork: true });
    const app = await onNode.createContainer(
      sandbox,
      hostPod,
      {
        name: 'probe',
        image: env.images.busybox,
        command: ['sh', '-c'],
        args: ['for n in net pid ipc; do readlink /proc/self/ns/$n; done; hostname'],
        pid: { of: 'node' },
      },
      0,
    );
    await onNode.startContainer(app);
    await waitFor('the probe to exit', async () =>
      (await onNode.inspect(app)).status === 'exited' ? true : undefined,
    );
    const seen = (await onNode.logs(app)).map((l) => l.line);
    const nodeSees = await onNode.execCapture(
      node.id,
      ['sh', '-c', 'for n in net pid ipc; do readlink /proc/self/ns/$n; done; hostname'],
      10_000,
    );
    expect(seen.join('\n')).toBe(nodeSees.output.trim());
    // An app container of an ordinary pod is not mistaken for a host-network sandbox.
    expect((await onNode.inspect(app)).hostNetwork).toBeUndefined();
  });
});
