import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';

import { type Informer } from '@app/client';
import { waitFor } from '@app/dev-servers';
import { type ApiCluster, startApiCluster } from '@app/testing/api-cluster.js';
import { type TestWatch, watchForTest } from '@app/testing/test-watch.js';
import { type SimControlPlane, startSimControlPlane } from '@app/testing/sim-control-plane.js';

import { type Job } from '../src/job/job-types.js';
import { type Pod } from '../src/replicaset/pod-types.js';

interface KubeEvent {
  reason: string;
  message: string;
  involvedObject: { kind: string; name: string };
  source: { component: string };
}

const CRASH = 'sim.wake.dev/container-crash';
const CRASH_DELAY = 'sim.wake.dev/container-crash-delay';

const jobYaml = (
  name: string,
  spec: Record<string, unknown>,
  podMeta: Record<string, unknown> = {},
  podSpec = {},
) =>
  JSON.stringify({
    apiVersion: 'batch/v1',
    kind: 'Job',
    metadata: { name },
    spec: {
      ...spec,
      template: {
        metadata: podMeta,
        spec: { restartPolicy: 'Never', containers: [{ name: 'c', image: 'busybox:1' }], ...podSpec },
      },
    },
  });

/**
 * The Job and TTL-after-finished controllers through the real API server, kubectl, scheduler
 * and simulated nodes (fast profile: a Job's pod runs and succeeds at once; the chaos label
 * makes it fail instead).
 */
describe('Job controller on simulated nodes', () => {
  let cluster: ApiCluster;
  let plane: SimControlPlane | undefined;
  let watch: TestWatch<Pod> | undefined;
  let podWatch: Informer<Pod> | undefined;
  let observe: ((p: Pod) => void) | undefined;
  let ns = '';

  const jobPath = (name = '') => `/apis/batch/v1/namespaces/${ns}/jobs${name ? `/${name}` : ''}`;
  const getJob = (name: string) => cluster.ok<Job>('GET', jobPath(name));
  const kubectl = async (args: string[], input?: string) => {
    const r = await cluster.kubectl(33, ['-n', ns, ...args], { input, timeoutMs: 90_000 });
    if (r.code !== 0) throw new Error(`kubectl ${args.join(' ')}: ${r.code} ${r.stderr}`);
    return r.stdout;
  };
  const fresh = async (name: string) => {
    ns = name;
    await cluster.ok('POST', '/api/v1/namespaces', { metadata: { name } });
  };
  const podsOf = (job: string) =>
    (podWatch?.cache.byIndex('namespace', ns) ?? []).filter((p) => p.metadata.labels?.['job-name'] === job);
  const condition = (j: Job, type: string) => j.status?.conditions?.find((c) => c.type === type);
  const events = async (name: string) =>
    (await cluster.ok<{ items: KubeEvent[] }>('GET', `/api/v1/namespaces/${ns}/events`)).items.filter(
      (e) => e.involvedObject.name === name && e.involvedObject.kind === 'Job',
    );
  const jobWith = (name: string, type: string, timeoutMs = 60_000) =>
    waitFor(
      `${name} ${type}`,
      async () => {
        const j = await getJob(name);
        return condition(j, type)?.status === 'True' ? j : undefined;
      },
      { timeoutMs },
    );

  beforeAll(async () => {
    cluster = await startApiCluster();
    plane = await startSimControlPlane(cluster, {
      nodes: 3,
      sim: { chaos: true },
      controllerManager: {
        backoffMs: [50, 1000],
        jobPodFailureBackoffMs: [200, 2000],
      },
    });
    watch = await watchForTest<Pod>(cluster, { group: '', version: 'v1', plural: 'pods' }, (c) =>
      observe?.(c.object),
    );
    podWatch = watch.informer;
  });
  afterAll(async () => {
    await Promise.allSettled([watch?.close()]);
    await plane?.close();
    await cluster?.close();
  });

  it('runs completions 5 with parallelism 2, never more than 2 pods active, and completes (kubectl apply and wait)', async () => {
    await fresh('job-basic');
    let maxActive = 0;
    observe = () => {
      const active = podsOf('work').filter(
        (p) =>
          !p.metadata.deletionTimestamp && p.status?.phase !== 'Succeeded' && p.status?.phase !== 'Failed',
      ).length;
      maxActive = Math.max(maxActive, active);
    };
    await kubectl(['apply', '-f', '-'], jobYaml('work', { completions: 5, parallelism: 2 }));
    await kubectl(['wait', '--for=condition=complete', 'job/work', '--timeout=60s']);
    observe = undefined;
    const job = await getJob('work');
    expect(maxActive).toBeGreaterThan(0);
    expect(maxActive).toBeLessThanOrEqual(2);
    expect(job.status).toMatchObject({ succeeded: 5, active: 0, failed: 0, ready: 0 });
    expect(job.status?.uncountedTerminatedPods).toEqual({});
    expect(job.status?.completionTime).toBeDefined();
    expect(condition(job, 'SuccessCriteriaMet')).toMatchObject({
      status: 'True',
      reason: 'CompletionsReached',
    });
    expect(condition(job, 'Complete')).toMatchObject({ status: 'True', reason: 'CompletionsReached' });
    // The API server generated the selector from the uid (generateSelector).
    const uid = job.metadata.uid ?? '';
    expect(job.spec?.selector).toEqual({ matchLabels: { 'batch.kubernetes.io/controller-uid': uid } });
    const pods = (
      await cluster.ok<{ items: Pod[] }>('GET', `/api/v1/namespaces/${ns}/pods?labelSelector=job-name%3Dwork`)
    ).items;
    // Exactly five pods ever: none made twice, none counted twice.
    expect(pods).toHaveLength(5);
    expect(pods.filter((p) => p.status?.phase === 'Succeeded')).toHaveLength(5);
    for (const p of pods) {
      expect(p.metadata.labels).toMatchObject({
        'controller-uid': uid,
        'batch.kubernetes.io/controller-uid': uid,
        'job-name': 'work',
        'batch.kubernetes.io/job-name': 'work',
      });
      // Counted: the tracking finalizer is gone.
      expect(p.metadata.finalizers ?? []).not.toContain('batch.kubernetes.io/job-tracking');
    }
    const table = await kubectl(['get', 'job', 'work']);
    expect(table).toMatch(/work\s+Complete\s+5\/5/);
    await waitFor('events', async () => {
      const reasons = (await events('work')).map((e) => e.reason);
      return reasons.filter((r) => r === 'SuccessfulCreate').length === 5 && reasons.includes('Completed')
        ? reasons
        : undefined;
    });
    expect((await events('work'))[0].source.component).toBe('job-controller');
  });

  it('fails with BackoffLimitExceeded after backoffLimit + 1 failed pods, retried with back-off', async () => {
    await fresh('job-fail');
    await kubectl(
      ['apply', '-f', '-'],
      jobYaml(
        'crash',
        { backoffLimit: 2 },
        { labels: { [CRASH]: 'true' }, annotations: { [CRASH_DELAY]: '50' } },
      ),
    );
    const job = await jobWith('crash', 'Failed');
    expect(condition(job, 'Failed')).toMatchObject({
      reason: 'BackoffLimitExceeded',
      message: 'Job has reached the specified backoff limit',
    });
    expect(condition(job, 'FailureTarget')).toMatchObject({ status: 'True', reason: 'BackoffLimitExceeded' });
    expect(job.status).toMatchObject({ failed: 3, succeeded: 0, active: 0 });
    expect(job.status?.completionTime).toBeUndefined();
    // One pod at a time (parallelism 1): each replacement came after the previous one failed.
    const pods = podsOf('crash').sort(
      (a, b) => Number(a.metadata.resourceVersion) - Number(b.metadata.resourceVersion),
    );
    expect(pods).toHaveLength(3);
    expect(pods.every((p) => p.status?.phase === 'Failed')).toBe(true);
    const reasons = (
      await waitFor('failure event', async () => {
        const all = await events('crash');
        return all.some((e) => e.reason === 'BackoffLimitExceeded') ? all : undefined;
      })
    ).map((e) => e.reason);
    expect(reasons.filter((r) => r === 'SuccessfulCreate')).toHaveLength(3);
  });

  it("gives an Indexed Job's pods their index (annotation, label, env var, hostname) and records completedIndexes", async () => {
    await fresh('job-indexed');
    await kubectl(
      ['apply', '-f', '-'],
      jobYaml('idx', { completions: 3, parallelism: 3, completionMode: 'Indexed' }, {}, { subdomain: 'svc' }),
    );
    await kubectl(['wait', '--for=condition=complete', 'job/idx', '--timeout=60s']);
    const job = await getJob('idx');
    expect(job.status).toMatchObject({ succeeded: 3, completedIndexes: '0-2' });
    const pods = podsOf('idx');
    expect(
      pods.map((p) => p.metadata.annotations?.['batch.kubernetes.io/job-completion-index']).sort(),
    ).toEqual(['0', '1', '2']);
    for (const p of pods) {
      const ix = p.metadata.annotations?.['batch.kubernetes.io/job-completion-index'];
      const spec = p.spec as { hostname?: string; subdomain?: string; containers: { env?: unknown[] }[] };
      expect(p.metadata.labels?.['batch.kubernetes.io/job-completion-index']).toBe(ix);
      expect(p.metadata.name).toMatch(new RegExp(`^idx-${ix}-[a-z0-9]{5}$`));
      expect(spec.hostname).toBe(`idx-${ix}`);
      expect(spec.subdomain).toBe('svc');
      expect(spec.containers[0].env).toContainEqual({
        name: 'JOB_COMPLETION_INDEX',
        valueFrom: {
          fieldRef: {
            apiVersion: 'v1',
            fieldPath: "metadata.annotations['batch.kubernetes.io/job-completion-index']",
          },
        },
      });
    }
  });

  it('fails a Job past activeDeadlineSeconds with DeadlineExceeded and deletes its active pods', async () => {
    await fresh('job-deadline');
    // Pods that never get a node stay active until the deadline.
    await kubectl(
      ['apply', '-f', '-'],
      jobYaml(
        'slow',
        { activeDeadlineSeconds: 2, parallelism: 2, completions: 2 },
        {},
        { nodeSelector: { none: 'x' } },
      ),
    );
    await waitFor('two pods', async () => (podsOf('slow').length === 2 ? true : undefined));
    const job = await jobWith('slow', 'Failed');
    expect(condition(job, 'Failed')).toMatchObject({
      reason: 'DeadlineExceeded',
      message: 'Job was active longer than specified deadline',
    });
    expect(job.status).toMatchObject({ active: 0, failed: 2 });
    await waitFor('pods gone', async () => (podsOf('slow').length === 0 ? true : undefined));
    await waitFor('DeadlineExceeded event', async () =>
      (await events('slow')).some((e) => e.reason === 'DeadlineExceeded') ? true : undefined,
    );
  });

  it('creates no pods while suspended, deletes them on suspend, and restarts the clock on resume', async () => {
    await fresh('job-suspend');
    await kubectl(
      ['apply', '-f', '-'],
      jobYaml(
        'later',
        { suspend: true, completions: 2, parallelism: 2 },
        {},
        { nodeSelector: { none: 'x' } },
      ),
    );
    const suspended = await jobWith('later', 'Suspended');
    expect(condition(suspended, 'Suspended')).toMatchObject({ reason: 'JobSuspended' });
    expect(suspended.status?.startTime).toBeUndefined();
    expect(podsOf('later')).toHaveLength(0);
    await kubectl(['patch', 'job/later', '--type=merge', '-p', '{"spec":{"suspend":false}}']);
    const resumed = await waitFor('resumed', async () => {
      const j = await getJob('later');
      return condition(j, 'Suspended')?.status === 'False' && j.status?.active === 2 ? j : undefined;
    });
    expect(condition(resumed, 'Suspended')).toMatchObject({ reason: 'JobResumed' });
    expect(resumed.status?.startTime).toBeDefined();
    await kubectl(['patch', 'job/later', '--type=merge', '-p', '{"spec":{"suspend":true}}']);
    await waitFor('pods deleted on suspend', async () => (podsOf('later').length === 0 ? true : undefined));
    const again = await jobWith('later', 'Suspended');
    // Pods the controller removed are not failures.
    expect(again.status).toMatchObject({ active: 0, failed: 0 });
    const reasons = (await events('later')).map((e) => e.reason);
    expect(reasons).toEqual(expect.arrayContaining(['Suspended', 'Resumed', 'SuccessfulDelete']));
  });
  it('deletes a finished Job ttlSecondsAfterFinished after it finished, its pods first (foreground)', async () => {
    await fresh('job-ttl');
    // Pods seen at any time: with a 1 s TTL the Job and its pods may be gone before a poll
    // sees the Job complete on a slow machine, so the cache cannot be read after the fact.
    const seen = new Set<string>();
    observe = (p) => {
      const { namespace, name, labels } = p.metadata;
      if (namespace === ns && name && labels?.['job-name'] === 'brief') seen.add(name);
    };
    await kubectl(
      ['apply', '-f', '-'],
      jobYaml('brief', { completions: 2, parallelism: 2, ttlSecondsAfterFinished: 1 }),
    );
    const done = await jobWith('brief', 'Complete');
    const uid = done.metadata.uid;
    expect(done.status).toMatchObject({ succeeded: 2 });
    await waitFor('Job deleted', async () => {
      const r = await cluster.api('GET', jobPath('brief'));
      return r.status === 404 ? true : undefined;
    });
    await waitFor('pods deleted', async () => (podsOf('brief').length === 0 ? true : undefined));
    // It went no sooner than its TTL after it completed.
    expect(Date.now()).toBeGreaterThanOrEqual(Date.parse(done.status?.completionTime ?? '') + 1000);
    observe = undefined;
    expect(seen.size).toBe(2);
    expect(uid).toBeDefined();
  });
  it('releases the pods of a deleted Job from tracking so the garbage collector can remove them', async () => {
    await fresh('job-delete');
    await kubectl(
      ['apply', '-f', '-'],
      jobYaml('gone', { parallelism: 2, completions: 2 }, {}, { nodeSelector: { none: 'x' } }),
    );
    await waitFor('two tracked pods', async () => {
      const pods = podsOf('gone');
      return pods.length === 2 &&
        pods.every((p) =>
          (p.metadata.finalizers as string[] | undefined)?.includes('batch.kubernetes.io/job-tracking'),
        )
        ? true
        : undefined;
    });
    await kubectl(['delete', 'job', 'gone', '--wait=false']);
    await waitFor('pods gone', async () => (podsOf('gone').length === 0 ? true : undefined));
  });
  it('podFailurePolicy: FailJob on an exit code fails at once, Ignore does not count', async () => {
    await fresh('job-policy');
    const crashing = { labels: { [CRASH]: 'true' }, annotations: { [CRASH_DELAY]: '50' } };
    await kubectl(
      ['apply', '-f', '-'],
      jobYaml(
        'fatal',
        {
          backoffLimit: 6,
          podFailurePolicy: { rules: [{ action: 'FailJob', onExitCodes: { operator: 'In', values: [1] } }] },
        },
        crashing,
      ),
    );
    const fatal = await jobWith('fatal', 'Failed');
    expect(condition(fatal, 'Failed')?.reason).toBe('PodFailurePolicy');
    expect(condition(fatal, 'Failed')?.message).toMatch(
      /^Container c for pod job-policy\/fatal-[a-z0-9]{5} failed with exit code 1 matching FailJob rule at index 0$/,
    );
    expect(fatal.status?.failed).toBe(1);
    expect(fatal.spec).toMatchObject({ podReplacementPolicy: 'Failed' });

    await kubectl(
      ['apply', '-f', '-'],
      jobYaml(
        'shrug',
        {
          backoffLimit: 0,
          podFailurePolicy: { rules: [{ action: 'Ignore', onExitCodes: { operator: 'In', values: [1] } }] },
        },
        crashing,
      ),
    );
    // Each ignored failure is replaced (after no back-off: it was not counted), and none fails the Job.
    await waitFor('three ignored failures', async () =>
      podsOf('shrug').filter((p) => p.status?.phase === 'Failed').length >= 3 ? true : undefined,
    );
    const shrug = await getJob('shrug');
    expect(condition(shrug, 'Failed')).toBeUndefined();
    expect(shrug.status?.failed ?? 0).toBe(0);
    await kubectl(['delete', 'job', 'shrug', '--wait=false']);
  });
  it('adopts a matching orphan pod (manualSelector), tracks it and counts its success', async () => {
    await fresh('job-adopt');
    const podPath = `/api/v1/namespaces/${ns}/pods`;
    await cluster.ok('POST', podPath, {
      metadata: { name: 'stray', labels: { app: 'adopt' } },
      spec: {
        restartPolicy: 'Never',
        nodeSelector: { none: 'x' },
        containers: [{ name: 'c', image: 'busybox:1' }],
      },
    });
    await kubectl(
      ['apply', '-f', '-'],
      JSON.stringify({
        apiVersion: 'batch/v1',
        kind: 'Job',
        metadata: { name: 'adopter' },
        spec: {
          manualSelector: true,
          selector: { matchLabels: { app: 'adopt' } },
          template: {
            metadata: { labels: { app: 'adopt' } },
            spec: {
              restartPolicy: 'Never',
              nodeSelector: { none: 'x' },
              containers: [{ name: 'c', image: 'busybox:1' }],
            },
          },
        },
      }),
    );
    const adopted = await waitFor('adopted and tracked', async () => {
      const p = await cluster.ok<Pod>('GET', `${podPath}/stray`);
      return p.metadata.ownerReferences?.[0]?.name === 'adopter' &&
        (p.metadata.finalizers as string[] | undefined)?.includes('batch.kubernetes.io/job-tracking')
        ? p
        : undefined;
    });
    const job = await getJob('adopter');
    expect(job.spec?.selector).toEqual({ matchLabels: { app: 'adopt' } });
    expect(adopted.metadata.ownerReferences).toEqual([
      expect.objectContaining({ kind: 'Job', uid: job.metadata.uid, controller: true }),
    ]);
    await cluster.ok('PUT', `${podPath}/stray/status`, {
      ...adopted,
      status: { ...adopted.status, phase: 'Succeeded' },
    });
    const done = await jobWith('adopter', 'Complete');
    expect(done.status).toMatchObject({ succeeded: 1, active: 0 });
    // The orphan was the one pod: the Job never made another.
    expect((await cluster.ok<{ items: Pod[] }>('GET', podPath)).items.map((p) => p.metadata.name)).toEqual([
      'stray',
    ]);
  });
});
