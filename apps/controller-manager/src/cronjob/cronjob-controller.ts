import {
  type ApiClient,
  ApiError,
  type CacheChange,
  type EventRecorder,
  type Informer,
  objectKey,
  type RateLimiter,
  resourcePath,
  WorkQueue,
  type WorkQueueMetrics,
} from '@app/client';
import { type StoredObject } from '@app/event-store';

import { type Controller, processQueue } from '../controller.js';
import { type Job, JOBS, finishedCondition } from '../job/job-types.js';
import { controllerOf } from '../replicaset/pod-types.js';
import { controllerRef } from '../replicaset/replica-kind.js';
import {
  jobNameFor,
  mostRecentScheduleTime,
  nextScheduleDelayMs,
  parseSchedule,
  rfc3339,
  type Schedule,
  TOO_MANY_MISSED,
  UnknownTimeZoneError,
  zonedRfc3339,
} from './schedule.js';

export const CRONJOBS = { group: 'batch', version: 'v1', plural: 'cronjobs' } as const;
const CRONJOB_KIND = { resource: CRONJOBS, apiVersion: 'batch/v1', kind: 'CronJob' };
/** syncCronJob's answer when the cache is behind the stored CronJob. */
const STALE = Symbol('stale');

export const SCHEDULED_TIMESTAMP = 'batch.kubernetes.io/cronjob-scheduled-timestamp';

interface ObjectReference {
  apiVersion?: string;
  kind?: string;
  namespace?: string;
  name?: string;
  uid?: string;
  resourceVersion?: string;
}

export type CronJob = StoredObject & {
  spec?: {
    schedule?: string;
    timeZone?: string;
    startingDeadlineSeconds?: number;
    concurrencyPolicy?: string;
    suspend?: boolean;
    successfulJobsHistoryLimit?: number;
    failedJobsHistoryLimit?: number;
    jobTemplate?: { metadata?: StoredObject['metadata']; spec?: unknown };
  };
  status?: { active?: ObjectReference[]; lastScheduleTime?: string; lastSuccessfulTime?: string };
};

export interface CronJobControllerOptions {
  api: ApiClient;
  cronJobs: Informer<CronJob>;
  jobs: Informer<Job>;
  events: EventRecorder;
  workers?: number;
  rateLimiter?: RateLimiter<string>;
  /** The clock schedules are read against (tests move it instead of waiting minutes). */
  now?: () => number;
  onTrouble?: (e: Error, key?: string) => void;
  queueMetrics?: (name: string) => WorkQueueMetrics;
}

/**
 * The CronJob controller (pkg/controller/cronjob/cronjob_controllerv2.go, controller
 * `cronjob`): keeps status.active in step with the Jobs it owns, starts the Job of the most
 * recent due activation (named by its time, so a retry is idempotent) under the concurrency
 * policy and starting deadline, prunes finished Jobs beyond the history limits, and requeues
 * itself for the next activation.
 */
export class CronJobController implements Controller {
  readonly name = 'cronjob';
  readonly queue: WorkQueue<string>;
  private workers: Promise<void>[] = [];
  private readonly now: () => number;

  constructor(private readonly o: CronJobControllerOptions) {
    this.now = o.now ?? Date.now;
    this.queue = new WorkQueue<string>(o.rateLimiter, { name: 'cronjob', metrics: o.queueMetrics });
    o.cronJobs.onChange((c) => this.queue.add(objectKey(c.object)));
    o.jobs.onChange((c) => this.jobChanged(c));
  }

  start(): void {
    if (this.workers.length > 0) return;
    for (const cj of this.o.cronJobs.cache.list()) this.queue.add(objectKey(cj));
    for (let i = 0; i < (this.o.workers ?? 5); i++)
      this.workers.push(
        processQueue(
          this.queue,
          (key) => this.sync(key),
          (e, key) => this.o.onTrouble?.(e, key),
        ),
      );
  }

  async stop(): Promise<void> {
    await this.queue.shutdownAndDrain();
    await Promise.all(this.workers);
  }

  private jobChanged(c: CacheChange<Job>): void {
    const ref = controllerOf(c.object);
    if (ref?.kind !== 'CronJob') return;
    const cj = this.o.cronJobs.cache.get(`${c.object.metadata.namespace}/${ref.name}`);
    if (cj?.metadata.uid === ref.uid) this.queue.add(objectKey(cj));
  }

  async sync(key: string): Promise<void> {
    const cached = this.o.cronJobs.cache.get(key);
    if (!cached) return;
    const cj: CronJob = structuredClone(cached);
    const cause = Number(cj.metadata.resourceVersion);
    const jobs = this.o.jobs.cache
      .byIndex('namespace', cj.metadata.namespace ?? '')
      .filter((j) => controllerOf(j)?.uid === cj.metadata.uid);
    const requeueAfter = await this.syncCronJob(cj, jobs, cause);
    if (requeueAfter === STALE) return;
    if (JSON.stringify(cj.status ?? {}) !== JSON.stringify(cached.status ?? {}))
      await this.writeStatus(cj, cause);
    await this.cleanupFinishedJobs(cj, jobs, cause);
    if (requeueAfter !== undefined) this.queue.addAfter(key, requeueAfter);
  }

  /** syncCronJob: updates cj.status in place; returns when to look again, if ever. */
  private async syncCronJob(
    cj: CronJob,
    jobs: Job[],
    cause: number,
  ): Promise<number | typeof STALE | undefined> {
    const status = (cj.status ??= {});
    const byUid = new Map(jobs.map((j) => [j.metadata.uid, j]));
    const active = status.active ?? [];
    for (const ref of active)
      if (!byUid.has(ref.uid))
        this.record(cj, 'Normal', 'MissingJob', `Active job went missing: ${ref.name}`, cause);
    status.active = active.filter((ref) => byUid.has(ref.uid));
    for (const job of jobs) {
      const listed = status.active.some((r) => r.uid === job.metadata.uid);
      const done = finishedCondition(job);
      if (listed && done) {
        status.active = status.active.filter((r) => r.uid !== job.metadata.uid);
        this.record(
          cj,
          'Normal',
          'SawCompletedJob',
          `Saw completed job: ${job.metadata.name}, condition: ${done.type}`,
          cause,
        );
      } else if (!listed && !done) {
        // Our cache may be behind our own status write (upstream re-reads the CronJob here):
        // then the informer brings the newer version and its sync, and this one stops.
        if (await this.listedNow(cj, job)) return STALE;
        this.record(
          cj,
          'Warning',
          'UnexpectedJob',
          `Saw a job that the controller did not create or forgot: ${job.metadata.name}`,
          cause,
        );
      }
      const completed = done?.type === 'Complete' ? job.status?.completionTime : undefined;
      if (
        completed &&
        (!status.lastSuccessfulTime || Date.parse(completed) > Date.parse(status.lastSuccessfulTime))
      )
        status.lastSuccessfulTime = completed;
    }
    if (status.active.length === 0) delete status.active;
    if (cj.metadata.deletionTimestamp) return undefined;

    let schedule: Schedule;
    try {
      schedule = parseSchedule(cj.spec?.schedule ?? '', cj.spec?.timeZone);
    } catch (e) {
      if (e instanceof UnknownTimeZoneError)
        this.record(
          cj,
          'Warning',
          'UnknownTimeZone',
          `invalid timeZone: "${e.timeZone}": ${e.message}`,
          cause,
        );
      else
        this.record(
          cj,
          'Warning',
          'UnparseableSchedule',
          `unparseable schedule: "${cj.spec?.schedule}" : ${(e as Error).message}`,
          cause,
        );
      // Nothing to wait for: an edit of the spec brings the CronJob back.
      return undefined;
    }
    if (cj.spec?.suspend) return undefined;
    const now = this.now();
    const times = {
      lastScheduleTime: status.lastScheduleTime,
      creationTimestamp: cj.metadata.creationTimestamp,
      startingDeadlineSeconds: cj.spec?.startingDeadlineSeconds,
    };
    const next = () => nextScheduleDelayMs(schedule, times, now);
    const { mostRecent, missed } = mostRecentScheduleTime(schedule, times, now, true);
    if (missed > TOO_MANY_MISSED)
      this.record(
        cj,
        'Warning',
        'TooManyMissedTimes',
        `too many missed start times: ${missed}. Set or decrease .spec.startingDeadlineSeconds or check clock skew`,
        cause,
      );
    if (mostRecent === undefined) return next();
    const sds = cj.spec?.startingDeadlineSeconds;
    if (sds !== undefined && mostRecent + sds * 1000 < now) {
      this.record(
        cj,
        'Warning',
        'MissSchedule',
        `Missed scheduled time to start a job: ${rfc3339(mostRecent)}`,
        cause,
      );
      return next();
    }
    const name = jobNameFor(cj.metadata.name ?? '', mostRecent);
    const scheduled = rfc3339(mostRecent);
    if ((status.active ?? []).some((r) => r.name === name) || status.lastScheduleTime === scheduled)
      return next();
    const policy = cj.spec?.concurrencyPolicy ?? 'Allow';
    if (policy === 'Forbid' && (status.active?.length ?? 0) > 0) {
      this.record(
        cj,
        'Normal',
        'JobAlreadyActive',
        'Not starting job because prior execution is running and concurrency policy is Forbid',
        cause,
      );
      return next();
    }
    if (policy === 'Replace')
      for (const ref of status.active ?? []) {
        const job = jobs.find((j) => j.metadata.uid === ref.uid);
        if (!job) continue;
        await this.deleteJob(cj, job, cause);
        status.active = status.active?.filter((r) => r.uid !== ref.uid);
      }
    let created: Job | undefined;
    try {
      created = await this.o.api.create<Job>(
        resourcePath({ ...JOBS, namespace: cj.metadata.namespace }),
        this.jobFromTemplate(cj, name, mostRecent),
        { cause },
      );
      this.record(cj, 'Normal', 'SuccessfulCreate', `Created job ${name}`, cause);
    } catch (e) {
      // The Job of this activation exists already: it was started (by us, before a restart).
      if (!(e instanceof ApiError && e.code === 409)) {
        this.record(cj, 'Warning', 'FailedCreate', `Error creating job: ${(e as Error).message}`, cause);
        throw e;
      }
    }
    // The Job of this activation exists already (our earlier try whose status write failed, or
    // before a restart): it is ours to track. Read it, as the cache may not have it yet.
    if (!created) {
      const existing = await this.o.api
        .get<Job>(resourcePath({ ...JOBS, namespace: cj.metadata.namespace, name }))
        .catch((e: unknown) => (ApiError.isNotFound(e) ? undefined : Promise.reject(e as Error)));
      if (existing && controllerOf(existing)?.uid === cj.metadata.uid && !finishedCondition(existing))
        created = existing;
    }
    if (created && !(status.active ?? []).some((r) => r.uid === created.metadata.uid))
      status.active = [
        ...(status.active ?? []),
        {
          kind: 'Job',
          namespace: created.metadata.namespace,
          name: created.metadata.name,
          uid: created.metadata.uid,
          apiVersion: 'batch/v1',
          resourceVersion: created.metadata.resourceVersion,
        },
      ];
    status.lastScheduleTime = scheduled;
    if (status.active?.length === 0) delete status.active;
    return next();
  }

  /** Whether the stored CronJob lists the Job as active (when the cached copy does not). */
  private async listedNow(cj: CronJob, job: Job): Promise<boolean> {
    const path = resourcePath({ ...CRONJOBS, namespace: cj.metadata.namespace, name: cj.metadata.name });
    try {
      const fresh = await this.o.api.get<CronJob>(path);
      return (fresh.status?.active ?? []).some((r) => r.uid === job.metadata.uid);
    } catch (e) {
      if (ApiError.isNotFound(e)) return false;
      throw e;
    }
  }

  /**
   * getJobFromTemplate2 (utils.go): the template's metadata and spec, named by the activation,
   * owned by the CronJob, with the scheduled time as annotation (in the CronJob's zone).
   */
  private jobFromTemplate(cj: CronJob, name: string, scheduledMs: number): unknown {
    const meta = cj.spec?.jobTemplate?.metadata ?? {};
    return {
      apiVersion: 'batch/v1',
      kind: 'Job',
      metadata: {
        name,
        labels: meta.labels,
        annotations: {
          ...meta.annotations,
          [SCHEDULED_TIMESTAMP]: zonedRfc3339(scheduledMs, cj.spec?.timeZone),
        },
        ownerReferences: [controllerRef(CRONJOB_KIND, cj)],
      },
      spec: cj.spec?.jobTemplate?.spec,
    };
  }

  /** cleanupFinishedJobs / removeOldestJobs: finished Jobs beyond the history limits go, oldest first. */
  private async cleanupFinishedJobs(cj: CronJob, jobs: Job[], cause: number): Promise<void> {
    const limits = { Complete: cj.spec?.successfulJobsHistoryLimit, Failed: cj.spec?.failedJobsHistoryLimit };
    for (const [type, limit] of Object.entries(limits)) {
      if (limit === undefined) continue;
      const finished = jobs
        .filter((j) => finishedCondition(j)?.type === type && !j.metadata.deletionTimestamp)
        .sort((a, b) => startOf(a) - startOf(b));
      for (const job of finished.slice(0, Math.max(0, finished.length - limit)))
        await this.deleteJob(cj, job, cause);
    }
  }

  private async deleteJob(cj: CronJob, job: Job, cause: number): Promise<void> {
    try {
      await this.o.api.delete(
        resourcePath({ ...JOBS, namespace: job.metadata.namespace, name: job.metadata.name }),
        { kind: 'DeleteOptions', apiVersion: 'v1', propagationPolicy: 'Background' },
        { cause },
      );
      this.record(cj, 'Normal', 'SuccessfulDelete', `Deleted job ${job.metadata.name}`, cause);
    } catch (e) {
      if (ApiError.isNotFound(e)) return;
      this.record(cj, 'Warning', 'FailedDelete', `Deleted job: ${(e as Error).message}`, cause);
      throw e;
    }
  }

  /** The status write; a conflict (a stale cache) fails the sync, which is retried. */
  private async writeStatus(cj: CronJob, cause: number): Promise<void> {
    const path = resourcePath({
      ...CRONJOBS,
      namespace: cj.metadata.namespace,
      name: cj.metadata.name,
      subresource: 'status',
    });
    await this.o.api.update(path, cj, { cause });
  }

  private record(
    cj: CronJob,
    type: 'Normal' | 'Warning',
    reason: string,
    message: string,
    cause: number,
  ): void {
    this.o.events.record({
      object: { ...cj, apiVersion: 'batch/v1', kind: 'CronJob' },
      type,
      reason,
      message,
      cause,
    });
  }
}

/** A Job's start for history ordering: status.startTime, else its creation. */
function startOf(j: Job): number {
  const t = Date.parse(j.status?.startTime ?? j.metadata.creationTimestamp ?? '');
  return Number.isNaN(t) ? 0 : t;
}
