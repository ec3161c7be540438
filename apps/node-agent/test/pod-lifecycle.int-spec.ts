import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { freePort, waitFor } from '@app/dev-servers';

import { type Pod } from '../src/api-types.js';
import { type PodWorld, condition, containerStatus, podWorld } from './pod-harness.js';

/** `kubectl get pod` as a table row: NAME READY STATUS RESTARTS AGE. */
async function row(w: PodWorld, name: string): Promise<string[]> {
  const r = await w.cluster.kubectl(33, ['-n', w.ns, 'get', 'pod', name, '--no-headers']);
  if (r.code !== 0) throw new Error(r.stderr);
  return r.stdout.trim().split(/\s{2,}/);
}

/** Nanosecond-precision engine times of a container status's instance. */
async function engineTimes(w: PodWorld, pod: Pod, name: string) {
  const id = containerStatus(pod, name)!.containerID!.replace('docker://', '');
  const info = await w.env.docker.getContainer(id).inspect();
  return { started: info.State.StartedAt, finished: info.State.FinishedAt };
}

describe('pod lifecycle on a real engine, driven through the API server', () => {
  let w: PodWorld;

  beforeAll(async () => {
    w = await podWorld('lifecycle');
    await w.startManager();
  });
  afterAll(async () => {
    await w?.close();
  });

  it('runs a busybox httpd pod: Running and Ready, the sandbox IP as podIP, the container running', async () => {
    await w.createPod('web', {
      containers: [
        {
          name: 'httpd',
          image: w.env.images.busybox,
          command: ['httpd', '-f', '-p', '8080', '-h', '/etc'],
        },
      ],
    });
    const pod = await w.waitPod('web', 'Ready', (p) => condition(p, 'Ready')?.status === 'True');
    expect(pod.status?.phase).toBe('Running');
    expect(pod.status?.podIP).toMatch(/^\d+\.\d+\.\d+\.\d+$/);
    expect(pod.status?.podIPs).toEqual([{ ip: pod.status?.podIP }]);
    expect(pod.status?.startTime).toBeDefined();
    const s = containerStatus(pod, 'httpd')!;
    expect(s).toMatchObject({ ready: true, started: true, restartCount: 0, image: w.env.images.busybox });
    expect(s.state?.running?.startedAt).toBeDefined();
    expect(s.containerID).toMatch(/^docker:\/\/[0-9a-f]{64}$/);
    expect(s.imageID).toMatch(/^docker:\/\/sha256:/);
    for (const type of [
      'PodScheduled',
      'PodReadyToStartContainers',
      'Initialized',
      'ContainersReady',
      'Ready',
    ])
      expect(condition(pod, type)?.status).toBe('True');

    const containers = await w.containersOf(pod);
    expect(containers.map((c) => c.name).sort()).toEqual([
      `k8s_POD_web_${w.ns}_${pod.metadata!.uid}_0`,
      `k8s_httpd_web_${w.ns}_${pod.metadata!.uid}_0`,
    ]);
    expect(containers.every((c) => c.state === 'running')).toBe(true);
    // httpd serves on the pod IP from inside the sandbox's network namespace.
    const httpd = containers.find((c) => c.name.startsWith('k8s_httpd'))!;
    const probe = await w.runtime.execCapture(
      httpd.id,
      ['wget', '-q', '-O', '-', `http://${pod.status!.podIP}:8080/passwd`],
      10_000,
    );
    expect(probe.output).toContain('root:');
  });

  it('publishes a container’s hostPort on the node, forwarded to its containerPort', async () => {
    const hostPort = await freePort('0.0.0.0');
    await w.createPod('published', {
      containers: [
        {
          name: 'httpd',
          image: w.env.images.busybox,
          command: ['sh', '-c', 'echo published > /tmp/index.html && exec httpd -f -p 8080 -h /tmp'],
          ports: [{ containerPort: 8080, hostPort }],
        },
      ],
    });
    await w.waitPod('published', 'Running', (p) => containerStatus(p, 'httpd')?.state?.running !== undefined);
    const body = await waitFor(
      `the page on the node's port ${hostPort}`,
      async () => {
        const r = await fetch(`http://127.0.0.1:${hostPort}/`).catch(() => undefined);
        return r?.ok ? r.text() : undefined;
      },
      { timeoutMs: 30_000, intervalMs: 100 },
    );
    expect(body).toBe('published\n');

    // A second pod on the port (placed here by hand: the scheduler's NodePorts filter would not)
    // gets no sandbox, and says why in its Events.
    await w.createPod('clash', {
      containers: [{ name: 'app', image: w.env.images.busybox, ports: [{ containerPort: 80, hostPort }] }],
    });
    const events = await waitFor(
      'a FailedCreatePodSandBox event of pod clash',
      async () => {
        const r = await w.cluster.kubectl(33, [
          '-n',
          w.ns,
          'get',
          'events',
          '--field-selector',
          'involvedObject.name=clash,reason=FailedCreatePodSandBox',
          '-o',
          'jsonpath={.items[*].message}',
        ]);
        return r.stdout.includes('Failed to create pod sandbox') ? r.stdout : undefined;
      },
      { timeoutMs: 30_000, intervalMs: 200 },
    );
    expect(events).toContain('port is already allocated');
    expect((await w.getPod('clash'))?.status?.phase).toBe('Pending');
    for (const name of ['published', 'clash'])
      await w.cluster.ok('DELETE', `/api/v1/namespaces/${w.ns}/pods/${name}`);
  });

  it('puts a crashing container in CrashLoopBackOff with a growing restart count and growing waits', async () => {
    const created = await w.createPod('crash', {
      containers: [
        { name: 'crash', image: w.env.images.busybox, command: ['sh', '-c', 'echo boom; exit 1'] },
      ],
    });
    const uid = created.metadata!.uid!;
    const messages = new Set<string>();
    const pod = await w.waitPod(
      'crash',
      'restarted 3 times',
      (p) => {
        const s = containerStatus(p, 'crash');
        if (s?.state?.waiting?.reason === 'CrashLoopBackOff') messages.add(s.state.waiting.message!);
        return (s?.restartCount ?? 0) >= 3 && messages.size >= 2;
      },
      60_000,
    );
    for (const m of messages)
      expect(m).toMatch(
        new RegExp(`^back-off [0-9.]+m?s restarting failed container=crash pod=crash_lifecycle\\(${uid}\\)$`),
      );
    // The waits double: 200ms, 400ms, 800ms, 1.6s... (capped at 2s).
    const waits = [...messages]
      .map((m) => /back-off ([0-9.]+)(m?s)/.exec(m)!)
      .map(([, n, u]) => Number(n) * (u === 's' ? 1000 : 1));
    expect(new Set(waits).size).toBeGreaterThanOrEqual(2);
    expect(Math.max(...waits)).toBeGreaterThan(Math.min(...waits));
    const s = containerStatus(pod, 'crash')!;
    expect(s.lastState?.terminated).toMatchObject({ exitCode: 1, reason: 'Error' });
    // Seen between two crashes it may be running again: ready exactly while it runs (no probe).
    expect(s.ready).toBe(s.state?.running !== undefined);
    expect(pod.status?.phase).toBe('Running');

    // The newest instance and the one before it are kept, older ones removed.
    const names = (await w.containersOf(pod)).map((c) => c.name).filter((n) => n.startsWith('k8s_crash_'));
    expect(names.length).toBeLessThanOrEqual(2);

    const crashing = await w.waitPod(
      'crash',
      'backing off',
      (p) => containerStatus(p, 'crash')?.state?.waiting?.reason === 'CrashLoopBackOff',
    );
    const [name, ready, status, restarts] = await row(w, 'crash');
    expect([name, ready, status]).toEqual(['crash', '0/1', 'CrashLoopBackOff']);
    expect(Number(restarts!.split(' ')[0])).toBeGreaterThanOrEqual(
      containerStatus(crashing, 'crash')!.restartCount,
    );
  });

  it('restartPolicy Never: a failing container fails the pod, and it is never restarted', async () => {
    await w.createPod('never-fails', {
      restartPolicy: 'Never',
      containers: [{ name: 'c', image: w.env.images.busybox, command: ['sh', '-c', 'exit 3'] }],
    });
    const pod = await w.waitPod('never-fails', 'Failed', (p) => p.status?.phase === 'Failed');
    expect(containerStatus(pod, 'c')).toMatchObject({
      restartCount: 0,
      ready: false,
      state: { terminated: { exitCode: 3, reason: 'Error' } },
    });
    expect(condition(pod, 'Ready')).toMatchObject({ status: 'False', reason: 'PodFailed' });
    expect((await row(w, 'never-fails')).slice(1, 4)).toEqual(['0/1', 'Error', '0']);
    // Several resyncs later: still one instance, still Failed, the sandbox stopped.
    await new Promise((resolve) => setTimeout(resolve, 2_500));
    const later = (await w.getPod('never-fails'))!;
    expect(later.status?.phase).toBe('Failed');
    expect(containerStatus(later, 'c')?.restartCount).toBe(0);
    const containers = await w.containersOf(later);
    expect(containers.filter((c) => c.name.startsWith('k8s_c_'))).toHaveLength(1);
    expect(containers.every((c) => c.state === 'exited')).toBe(true);
  });

  it('exit 0 makes the pod Succeeded (Completed) under Never and OnFailure', async () => {
    for (const restartPolicy of ['Never', 'OnFailure']) {
      const name = `done-${restartPolicy.toLowerCase()}`;
      await w.createPod(name, {
        restartPolicy,
        containers: [{ name: 'c', image: w.env.images.busybox, command: ['true'] }],
      });
      const pod = await w.waitPod(name, 'Succeeded', (p) => p.status?.phase === 'Succeeded');
      expect(containerStatus(pod, 'c')).toMatchObject({
        restartCount: 0,
        state: { terminated: { exitCode: 0, reason: 'Completed' } },
      });
      expect(condition(pod, 'Ready')).toMatchObject({ status: 'False', reason: 'PodCompleted' });
      expect((await row(w, name)).slice(1, 4)).toEqual(['0/1', 'Completed', '0']);
    }
  });

  it('OnFailure restarts a failing container: the pod stays Running while it does', async () => {
    await w.createPod('onfailure', {
      restartPolicy: 'OnFailure',
      containers: [{ name: 'c', image: w.env.images.busybox, command: ['sh', '-c', 'sleep 0.3; exit 2'] }],
    });
    const pod = await w.waitPod(
      'onfailure',
      'restarted',
      (p) => (containerStatus(p, 'c')?.restartCount ?? 0) >= 2,
    );
    expect(['Running', 'Pending']).toContain(pod.status?.phase);
    expect(pod.status?.phase).not.toBe('Failed');
    expect(containerStatus(pod, 'c')?.lastState?.terminated).toMatchObject({ exitCode: 2, reason: 'Error' });
  });

  it('runs init containers one at a time, in order, before the app containers', async () => {
    // Each init container blocks until the test lets it finish, so each step can be looked at.
    const blocked = (name: string) => ({
      name,
      image: w.env.images.busybox,
      command: ['sh', '-c', 'until [ -f /tmp/go ]; do sleep 0.1; done'],
    });
    const release = async (p: Pod, name: string) => {
      const id = containerStatus(p, name)!.containerID!.replace('docker://', '');
      expect((await w.runtime.execCapture(id, ['touch', '/tmp/go'], 10_000)).exitCode).toBe(0);
    };
    const engineNames = async (p: Pod) => (await w.containersOf(p)).map((c) => c.name.split('_')[1]);
    await w.createPod('inits', {
      initContainers: [blocked('first'), blocked('second')],
      containers: [{ name: 'app', image: w.env.images.busybox, command: ['sleep', '3600'] }],
    });

    const one = await w.waitPod(
      'inits',
      'first init running',
      (p) => containerStatus(p, 'first')?.state?.running !== undefined,
    );
    expect(one.status?.phase).toBe('Pending');
    expect(condition(one, 'Initialized')).toMatchObject({
      status: 'False',
      reason: 'ContainersNotInitialized',
      message: 'containers with incomplete status: [first second]',
    });
    expect(containerStatus(one, 'second')?.state?.waiting?.reason).toBe('PodInitializing');
    expect(containerStatus(one, 'app')?.state?.waiting?.reason).toBe('PodInitializing');
    expect((await engineNames(one)).sort()).toEqual(['POD', 'first']);
    await release(one, 'first');

    const two = await w.waitPod(
      'inits',
      'second init running',
      (p) => containerStatus(p, 'second')?.state?.running !== undefined,
    );
    expect(containerStatus(two, 'first')).toMatchObject({
      ready: true,
      state: { terminated: { exitCode: 0, reason: 'Completed' } },
    });
    expect(condition(two, 'Initialized')?.message).toBe('containers with incomplete status: [second]');
    expect((await engineNames(two)).sort()).toEqual(['POD', 'first', 'second']);
    expect((await row(w, 'inits')).slice(1, 3)).toEqual(['0/1', 'Init:1/2']);
    await release(two, 'second');

    const pod = await w.waitPod('inits', 'Ready', (p) => condition(p, 'Ready')?.status === 'True');
    expect(pod.status?.phase).toBe('Running');
    expect(condition(pod, 'Initialized')?.status).toBe('True');
    expect(pod.status?.initContainerStatuses?.map((s) => s.name)).toEqual(['first', 'second']);
    for (const name of ['first', 'second'])
      expect(containerStatus(pod, name)).toMatchObject({
        ready: true,
        state: { terminated: { exitCode: 0, reason: 'Completed' } },
      });
    const first = await engineTimes(w, pod, 'first');
    const second = await engineTimes(w, pod, 'second');
    const app = await engineTimes(w, pod, 'app');
    expect(new Date(second.started).getTime()).toBeGreaterThanOrEqual(new Date(first.finished).getTime());
    expect(new Date(app.started).getTime()).toBeGreaterThanOrEqual(new Date(second.finished).getTime());
  });

  it('a failing init container under Never fails the pod; the app container is never created', async () => {
    await w.createPod('init-fails', {
      restartPolicy: 'Never',
      initContainers: [{ name: 'setup', image: w.env.images.busybox, command: ['sh', '-c', 'exit 7'] }],
      containers: [{ name: 'app', image: w.env.images.busybox, command: ['sleep', '3600'] }],
    });
    const pod = await w.waitPod('init-fails', 'Failed', (p) => p.status?.phase === 'Failed');
    expect(containerStatus(pod, 'setup')?.state?.terminated).toMatchObject({ exitCode: 7, reason: 'Error' });
    expect(containerStatus(pod, 'app')?.state?.waiting?.reason).toBe('PodInitializing');
    expect(condition(pod, 'Initialized')?.status).toBe('False');
    expect((await row(w, 'init-fails')).slice(1, 3)).toEqual(['0/1', 'Init:Error']);
    expect((await w.containersOf(pod)).some((c) => c.name.startsWith('k8s_app_'))).toBe(false);
  });

  it('a missing image under Never is ErrImageNeverPull; an unpullable one ErrImagePull, then ImagePullBackOff', async () => {
    await w.createPod('never-pull', {
      containers: [{ name: 'c', image: 'wake/no-such-image:1', imagePullPolicy: 'Never' }],
    });
    const never = await w.waitPod(
      'never-pull',
      'ErrImageNeverPull',
      (p) => containerStatus(p, 'c')?.state?.waiting?.reason === 'ErrImageNeverPull',
    );
    expect(containerStatus(never, 'c')?.state?.waiting?.message).toBe(
      'Container image "wake/no-such-image:1" is not present with pull policy of Never',
    );
    expect(never.status?.phase).toBe('Pending');

    await w.createPod('bad-image', {
      containers: [{ name: 'c', image: 'registry.invalid/wake/nothing:1' }],
    });
    const seen = new Set<string>();
    await w.waitPod(
      'bad-image',
      'both pull errors',
      (p) => {
        const reason = containerStatus(p, 'c')?.state?.waiting?.reason;
        if (reason) seen.add(reason);
        return seen.has('ErrImagePull') && seen.has('ImagePullBackOff');
      },
      60_000,
    );
    const pod = (await w.getPod('bad-image'))!;
    expect(pod.status?.phase).toBe('Pending');
    expect(containerStatus(pod, 'c')?.state?.waiting?.message).toMatch(
      /^(Back-off pulling image "registry.invalid\/wake\/nothing:1"|Failed to pull image "registry.invalid\/wake\/nothing:1": .+)$/,
    );
  });

  it('restarts a container whose image changed (kubectl set image)', async () => {
    const alt = `wake/pods-test-alt:${w.clusterId}`;
    const [repo, tag] = alt.split(':');
    await w.env.docker.getImage(w.env.images.busybox).tag({ repo, tag });
    try {
      await w.createPod('upgrade', {
        containers: [{ name: 'c', image: w.env.images.busybox, command: ['sleep', '3600'] }],
      });
      const before = await w.waitPod('upgrade', 'Ready', (p) => condition(p, 'Ready')?.status === 'True');
      const set = await w.cluster.kubectl(33, ['-n', w.ns, 'set', 'image', 'pod/upgrade', `c=${alt}`]);
      expect(set.code).toBe(0);
      const after = await w.waitPod('upgrade', 'restarted with the new image', (p) => {
        const s = containerStatus(p, 'c');
        return s?.image === alt && s.state?.running !== undefined && s.ready;
      });
      const s = containerStatus(after, 'c')!;
      expect(s.restartCount).toBe(1);
      expect(s.containerID).not.toBe(containerStatus(before, 'c')!.containerID);
      expect(s.lastState?.terminated?.message).toBe('Container c definition changed, will be restarted');
      const running = (await w.containersOf(after)).filter(
        (c) => c.name.startsWith('k8s_c_') && c.state === 'running',
      );
      expect(running).toHaveLength(1);
      expect(running[0]!.labels['io.kubernetes.container.restartCount']).toBe('1');
    } finally {
      await w.env.docker
        .getImage(alt)
        .remove({ noprune: true })
        .catch(() => undefined);
    }
  });

  it('kubectl get pods reads Running, CrashLoopBackOff and Completed as on Kubernetes', async () => {
    await waitFor(
      'all three kinds of rows',
      async () => {
        const r = await w.cluster.kubectl(33, ['-n', w.ns, 'get', 'pods']);
        const lines = r.stdout.trim().split('\n');
        const by = (name: string) => lines.find((l) => l.startsWith(`${name} `))?.split(/\s{2,}/);
        const header = lines[0]!.split(/\s{2,}/);
        return header.join(' ') === 'NAME READY STATUS RESTARTS AGE' &&
          by('web')?.slice(1, 4).join(' ') === '1/1 Running 0' &&
          by('crash')?.[2] === 'CrashLoopBackOff' &&
          by('done-never')?.slice(1, 4).join(' ') === '0/1 Completed 0'
          ? true
          : undefined;
      },
      { timeoutMs: 30_000, intervalMs: 200 },
    );
  });
});
