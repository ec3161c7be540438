import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';

import { waitFor } from '@app/dev-servers';
import { type ApiCluster, startApiCluster } from '@app/testing/api-cluster.js';
import { type SimControlPlane, startSimControlPlane } from '@app/testing/sim-control-plane.js';

import { type CronJob } from '../src/cronjob/cronjob-controller.js';
import { type Job } from '../src/job/job-types.js';

interface KubeEvent {
  reason: string;
  message: string;
  involvedObject: { kind: string; name: string };
  source: { component: string };
}

const MINUTE = 60_000;

const cronJobYaml = (name: string, spec: Record<string, unknown>, podSpec: Record<string, unknown> = {}) =>
  JSON.stringify({
    apiVersion: 'batch/v1',
    kind: 'CronJob',
    metadata: { name },
    spec: {
      schedule: '*/1 * * * *',
      ...spec,
      jobTemplate: {
        metadata: { labels: { cron: name } },
        spec: {
          template: {
            spec: { restartPolicy: 'Never', containers: [{ name: 'c', image: 'busybox:1' }], ...podSpec },
          },
        },
      },
    },
  });

/**
 * The CronJob controller with the Job controller, the real scheduler and simulated nodes.
 * The first test fires on the real clock; the others move the CronJob controller's clock
 * to the next minute (and touch the CronJob so it looks) instead of waiting for it.
 */
describe('CronJob controller on simulated nodes', () => {
  let cluster: ApiCluster;
  let plane: SimControlPlane | undefined;
  let offset = 0;
  let pokes = 0;
  let ns = '';

  const cjPath = (name = '') => `/apis/batch/v1/namespaces/${ns}/cronjobs${name ? `/${name}` : ''}`;
  const getCj = (name: string) => cluster.ok<CronJob>('GET', cjPath(name));
  const jobsOf = async (name: string) =>
    (
      await cluster.ok<{ items: Job[] }>(
        'GET',
        `/apis/batch/v1/namespaces/${ns}/jobs?labelSelector=cron%3D${name}`,
      )
    ).items;
  const kubectl = async (args: string[], input?: string) => {
    const r = await cluster.kubectl(33, ['-n', ns, ...args], { input, timeoutMs: 90_000 });
    if (r.code !== 0) throw new Error(`kubectl ${args.join(' ')}: ${r.code} ${r.stderr}`);
    return r.stdout;
  };
  const fresh = async (name: string) => {
    ns = name;
    // Each CronJob starts on the real clock: none of its activations is due at its creation.
    offset = 0;
    await cluster.ok('POST', '/api/v1/namespaces', { metadata: { name } });
  };
  const events = async (name: string, reason: string) =>
    (await cluster.ok<{ items: KubeEvent[] }>('GET', `/api/v1/namespaces/${ns}/events`)).items.filter(
      (e) => e.involvedObject.name === name && e.reason === reason,
    );
  const complete = (j: Job) =>
    j.status?.conditions?.some((c) => c.type === 'Complete' && c.status === 'True');
  /** Moves the CronJob clock just past its next minute and makes the controller look; returns that minute. */
  const nextMinute = async (cj: string): Promise<number> => {
    const now = Date.now() + offset;
    const minute = (Math.floor(now / MINUTE) + 1) * MINUTE;
    offset += minute + 500 - now;
    await kubectl(['annotate', `cronjob/${cj}`, `test/poke=${++pokes}`, '--overwrite']);
    return minute;
  };

  beforeAll(async () => {
    cluster = await startApiCluster();
    plane = await startSimControlPlane(cluster, {
      nodes: 2,
      controllerManager: {
        backoffMs: [50, 1000],
        cronJobClock: () => Date.now() + offset,
      },
    });
  });
  afterAll(async () => {
    await plane?.close();
    await cluster?.close();
  });

  it('fires a due schedule on the real clock: the Job <cronjob>-<minutes> runs and the status follows it', async () => {
    await fresh('cron-fire');
    await kubectl(['apply', '-f', '-'], cronJobYaml('hello', { startingDeadlineSeconds: 300 }));
    // As if it last ran two minutes ago: this minute's activation is due now.
    await cluster.mergePatch(`${cjPath('hello')}/status`, {
      status: {
        lastScheduleTime: new Date(Math.floor(Date.now() / MINUTE) * MINUTE - 2 * MINUTE)
          .toISOString()
          .replace(/\.\d+Z$/, 'Z'),
      },
    });
    const job = await waitFor('a Job', async () => {
      const jobs = await jobsOf('hello');
      return jobs.find((j) => j.metadata.name !== `hello-${Math.floor(Date.now() / MINUTE) - 2}`);
    });
    const minutes = Number(job.metadata.name?.replace('hello-', ''));
    expect(minutes * MINUTE).toBeLessThanOrEqual(Date.now());
    expect(minutes * MINUTE).toBeGreaterThan(Date.now() - 2 * MINUTE);
    expect(await kubectl(['get', 'jobs'])).toContain(`hello-${minutes}`);
    const cj = await getCj('hello');
    expect(job.metadata.annotations?.['batch.kubernetes.io/cronjob-scheduled-timestamp']).toBe(
      new Date(minutes * MINUTE).toISOString().replace(/\.\d+Z$/, 'Z'),
    );
    expect(job.metadata.ownerReferences).toEqual([
      expect.objectContaining({ kind: 'CronJob', name: 'hello', uid: cj.metadata.uid, controller: true }),
    ]);
    await waitFor('complete, lastSuccessfulTime set and no longer active', async () => {
      const cur = await getCj('hello');
      return cur.status?.lastSuccessfulTime && !cur.status.active ? cur : undefined;
    });
    const status = (await getCj('hello')).status;
    expect(status?.lastScheduleTime).toBe(new Date(minutes * MINUTE).toISOString().replace(/\.\d+Z$/, 'Z'));
    const created = await events('hello', 'SuccessfulCreate');
    expect(created.map((e) => e.message)).toContain(`Created job hello-${minutes}`);
    expect(created[0].source.component).toBe('cronjob-controller');
    // The same activation again starts nothing (the name is the activation's).
    await kubectl(['annotate', 'cronjob/hello', 'test/poke=again']);
    await waitFor('SawCompletedJob', async () =>
      (await events('hello', 'SawCompletedJob')).length > 0 ? true : undefined,
    );
    expect(await jobsOf('hello')).toHaveLength(1);
  });

  it('Forbid skips an activation while the previous Job runs', async () => {
    await fresh('cron-forbid');
    await kubectl(
      ['apply', '-f', '-'],
      cronJobYaml('solo', { concurrencyPolicy: 'Forbid' }, { nodeSelector: { none: 'x' } }),
    );
    const first = await nextMinute('solo');
    await waitFor('first active', async () => {
      const active = (await getCj('solo')).status?.active ?? [];
      return active.length === 1 && active[0].name === `solo-${first / MINUTE}` ? true : undefined;
    });
    expect((await jobsOf('solo')).map((j) => j.metadata.name)).toEqual([`solo-${first / MINUTE}`]);
    await nextMinute('solo');
    await waitFor('JobAlreadyActive', async () =>
      (await events('solo', 'JobAlreadyActive')).length > 0 ? true : undefined,
    );
    expect(await jobsOf('solo')).toHaveLength(1);
  });

  it('Replace deletes the running Job and starts the new one', async () => {
    await fresh('cron-replace');
    await kubectl(
      ['apply', '-f', '-'],
      cronJobYaml('swap', { concurrencyPolicy: 'Replace' }, { nodeSelector: { none: 'x' } }),
    );
    const first = await nextMinute('swap');
    await waitFor('active', async () =>
      (await getCj('swap')).status?.active?.length === 1 ? true : undefined,
    );
    const second = await nextMinute('swap');
    const cj = await waitFor('replaced', async () => {
      const cur = await getCj('swap');
      return cur.status?.active?.[0]?.name === `swap-${second / MINUTE}` ? cur : undefined;
    });
    expect(cj.status?.active).toHaveLength(1);
    await waitFor('first Job gone', async () => {
      const names = (await jobsOf('swap'))
        .filter((j) => !j.metadata.deletionTimestamp)
        .map((j) => j.metadata.name);
      if (names.length === 1 && names[0] === `swap-${second / MINUTE}`) return true;
      const all = (await cluster.ok<{ items: KubeEvent[] }>('GET', `/api/v1/namespaces/${ns}/events`)).items;
      throw new Error(
        `jobs: ${names.join(', ')}; want swap-${second / MINUTE}; events: ${all.map((e) => `${e.involvedObject.name} ${e.reason} ${e.message}`).join(' | ')}`,
      );
    });
    const deleted = await events('swap', 'SuccessfulDelete');
    expect(deleted.map((e) => e.message)).toContain(`Deleted job swap-${first / MINUTE}`);
  });

  it('keeps only successfulJobsHistoryLimit finished Jobs', async () => {
    await fresh('cron-history');
    await kubectl(['apply', '-f', '-'], cronJobYaml('tidy', { successfulJobsHistoryLimit: 2 }));
    const minutes: number[] = [];
    for (let i = 0; i < 3; i++) {
      minutes.push((await nextMinute('tidy')) / MINUTE);
      await waitFor(`run ${i} complete`, async () => {
        const job = (await jobsOf('tidy')).find((j) => j.metadata.name === `tidy-${minutes[i]}`);
        return job && complete(job) ? true : undefined;
      });
    }
    await waitFor('oldest pruned', async () => {
      const names = (await jobsOf('tidy')).map((j) => j.metadata.name).sort();
      return names.length === 2 ? names : undefined;
    });
    expect((await jobsOf('tidy')).map((j) => j.metadata.name).sort()).toEqual([
      `tidy-${minutes[1]}`,
      `tidy-${minutes[2]}`,
    ]);
  });

  it('kubectl create job --from=cronjob makes a Job from the template that runs to completion', async () => {
    await fresh('cron-manual');
    await kubectl(['apply', '-f', '-'], cronJobYaml('tmpl', { suspend: true }));
    await kubectl(['create', 'job', 'by-hand', '--from=cronjob/tmpl']);
    await kubectl(['wait', '--for=condition=complete', 'job/by-hand', '--timeout=60s']);
    const job = await cluster.ok<Job>('GET', `/apis/batch/v1/namespaces/${ns}/jobs/by-hand`);
    expect(job.metadata.annotations?.['cronjob.kubernetes.io/instantiate']).toBe('manual');
    expect(job.metadata.labels?.cron).toBe('tmpl');
    expect(job.status?.succeeded).toBe(1);
  });
  it('starts only the latest of more than 100 missed activations, with a TooManyMissedTimes warning', async () => {
    await fresh('cron-missed');
    await kubectl(['apply', '-f', '-'], cronJobYaml('late', {}));
    const threeHoursAgo = Math.floor((Date.now() + offset) / MINUTE) * MINUTE - 180 * MINUTE;
    await cluster.mergePatch(`${cjPath('late')}/status`, {
      status: { lastScheduleTime: new Date(threeHoursAgo).toISOString().replace(/\.\d+Z$/, 'Z') },
    });
    const [warning] = await waitFor('TooManyMissedTimes', async () => {
      const found = await events('late', 'TooManyMissedTimes');
      return found.length > 0 ? found : undefined;
    });
    expect(warning.message).toMatch(
      /^too many missed start times: \d+\. Set or decrease \.spec\.startingDeadlineSeconds or check clock skew$/,
    );
    const jobs = await waitFor('one Job', async () => {
      const found = await jobsOf('late');
      return found.length > 0 ? found : undefined;
    });
    expect(jobs).toHaveLength(1);
    const minutes = Number(jobs[0].metadata.name?.replace('late-', ''));
    expect(minutes * MINUTE).toBeGreaterThan(threeHoursAgo + 170 * MINUTE);
  });

  it('starts nothing while suspended, and warns of an unparseable schedule', async () => {
    await fresh('cron-suspend');
    await kubectl(['apply', '-f', '-'], cronJobYaml('paused', { suspend: true }));
    await nextMinute('paused');
    await kubectl(['apply', '-f', '-'], cronJobYaml('broken', { schedule: '61 * * * *' }));
    const [warning] = await waitFor('UnparseableSchedule', async () => {
      const found = await events('broken', 'UnparseableSchedule');
      return found.length > 0 ? found : undefined;
    });
    expect(warning.message).toMatch(/^unparseable schedule: "61 \* \* \* \*" : /);
    // The suspended CronJob was looked at (its poke was before the broken one's warning) and started nothing.
    expect(await jobsOf('paused')).toHaveLength(0);
    expect((await getCj('paused')).status?.lastScheduleTime).toBeUndefined();
  });
});
