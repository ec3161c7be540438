import { matchesLabels } from '@app/api';
import {
  type ApiClient,
  ApiError,
  type CacheChange,
  type EventRecorder,
  type Informer,
  objectKey,
  type RateLimiter,
  resourcePath,
  splitKey,
  WorkQueue,
  type WorkQueueMetrics,
} from '@app/client';

import { type Controller, processQueue } from '../controller.js';
import { claimPods } from '../replicaset/controller-ref-manager.js';
import { ControllerExpectations } from '../replicaset/expectations.js';
import { podsToDelete } from '../replicaset/pod-ranking.js';
import { controllerOf, isPodActive, isPodReady, type Pod } from '../replicaset/pod-types.js';
import { type ClaimingKind, controllerRef, safeSelector } from '../replicaset/replica-kind.js';
import { SLOW_START_INITIAL_BATCH, slowStartBatch } from '../replicaset/slow-start.js';
import {
  completionIndex,
  firstPendingIndexes,
  formatIndexes,
  type IndexIntervals,
  parseIndexes,
  surplusIndexedPods,
  toIntervals,
  totalIndexes,
  eachIndex,
} from './indexes.js';
import { conditionTrue, ensureCondition, newCondition } from './job-conditions.js';
import { matchPodFailurePolicy } from './pod-failure-policy.js';
import {
  finishedCondition,
  hasTrackingFinalizer,
  isIndexed,
  isSuspended,
  type Job,
  JOB_COMPLETION_INDEX,
  JOB_COMPLETION_INDEX_ENV,
  JOB_TRACKING_FINALIZER,
  type JobCondition,
  type JobPod,
  JOBS,
  type JobStatus,
} from './job-types.js';
import {
  type BackoffRecord,
  DEFAULT_POD_FAILURE_BACKOFF_MS,
  MAX_POD_FAILURE_BACKOFF_MS,
  nextBackoffRecord,
  pastBackoffLimitOnFailure,
  remainingBackoffMs,
} from './pod-failure-backoff.js';

/** MaxPodCreateDeletePerSync and MaxUncountedPods (job_controller.go). */
export const MAX_POD_CREATE_DELETE_PER_SYNC = 500;
export const MAX_UNCOUNTED_PODS = 500;

const POD = { group: '', version: 'v1', plural: 'pods' };
export const JOB_KIND: ClaimingKind = { resource: JOBS, apiVersion: 'batch/v1', kind: 'Job' };

const COMPLETIONS_REACHED = 'CompletionsReached';
const COMPLETED_MESSAGE = 'Reached expected number of succeeded pods';

export interface JobControllerOptions {
  api: ApiClient;
  jobs: Informer<Job>;
  pods: Informer<Pod>;
  events: EventRecorder;
  workers?: number;
  rateLimiter?: RateLimiter<string>;
  /** The pod failure back-off: base·2^(failures−1) capped at max (upstream 10 s and 10 min). */
  podFailureBackoffMs?: [number, number];
  now?: () => number;
  onTrouble?: (e: Error, key?: string) => void;
  queueMetrics?: (name: string) => WorkQueueMetrics;
}

const phaseOf = (p: Pod) => p.status?.phase;
const terminal = (p: Pod) => phaseOf(p) === 'Succeeded' || phaseOf(p) === 'Failed';

/** onlyReplaceFailedPods: podReplacementPolicy Failed, or a podFailurePolicy (which needs the pod's end). */
const onlyReplaceFailedPods = (job: Job): boolean =>
  job.spec?.podReplacementPolicy === 'Failed' || job.spec?.podFailurePolicy !== undefined;

/**
 * isPodFailed: otherwise a pod deleted before it succeeded counts as failed (an orphan may
 * never reach Failed).
 */
const isPodFailed = (job: Job, p: Pod): boolean =>
  onlyReplaceFailedPods(job)
    ? phaseOf(p) === 'Failed'
    : phaseOf(p) === 'Failed' || (p.metadata.deletionTimestamp !== undefined && phaseOf(p) !== 'Succeeded');

/**
 * The Job controller (pkg/controller/job/job_controller.go, controller `job`): pods carry
 * the batch.kubernetes.io/job-tracking finalizer until they are counted; a finished pod is
 * first recorded in status.uncountedTerminatedPods, then its finalizer is removed, then it
 * moves to status.succeeded/failed — so no pod is counted twice or lost when this process
 * dies between the steps. Every write carries the Job version reconciled as its cause.
 */
export class JobController implements Controller {
  readonly name = 'job';
  readonly queue: WorkQueue<string>;
  readonly expectations = new ControllerExpectations();
  private readonly backoff = new Map<string, BackoffRecord>();
  /** The resourceVersion of our last status write per Job: an older cached Job is stale. */
  private readonly written = new Map<string, number>();
  /**
   * Pods whose tracking finalizer we removed and whose change the cache has not shown yet
   * (upstream's expectedRmFinalizers): a stale copy still carrying it must not count again.
   */
  private readonly untracking = new Set<string>();
  private workers: Promise<void>[] = [];
  private readonly now: () => number;

  constructor(private readonly o: JobControllerOptions) {
    this.now = o.now ?? Date.now;
    this.queue = new WorkQueue<string>(o.rateLimiter, { name: 'job', metrics: o.queueMetrics });
    o.jobs.onChange((c) => this.jobChanged(c));
    o.pods.onChange((c) => this.podChanged(c));
  }

  start(): void {
    if (this.workers.length > 0) return;
    for (const job of this.o.jobs.cache.list()) this.queue.add(objectKey(job));
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
    const key = objectKey(c.object);
    if (c.type === 'deleted') {
      this.expectations.delete(key);
      this.backoff.delete(key);
      this.written.delete(key);
    }
    this.queue.add(key);
  }

  private podChanged(c: CacheChange<Pod>): void {
    const pod = c.object;
    if (c.type === 'deleted' || !hasTrackingFinalizer(pod)) this.untracking.delete(pod.metadata.uid ?? '');
    const job = this.resolve(pod);
    if (!job) {
      // A tracked pod whose Job is gone (or another Job of that name): its finalizer must go.
      const ref = controllerOf(pod);
      if (c.type !== 'deleted' && ref?.kind === 'Job' && hasTrackingFinalizer(pod))
        this.queue.add(`${pod.metadata.namespace}/${ref.name}`);
      // An orphan whose labels match a Job may be adopted.
      if (c.type !== 'deleted' && !controllerOf(pod))
        for (const j of this.o.jobs.cache.byIndex('namespace', pod.metadata.namespace ?? ''))
          if (matchesLabels(safeSelector(j.spec?.selector as never), pod.metadata.labels))
            this.queue.add(objectKey(j));
      return;
    }
    const key = objectKey(job);
    if (c.type === 'added' && !pod.metadata.deletionTimestamp) this.expectations.creationObserved(key);
    else if (
      c.type === 'deleted' ||
      (pod.metadata.deletionTimestamp && (c.type === 'added' || !c.old.metadata.deletionTimestamp))
    )
      this.expectations.deletionObserved(key, objectKey(pod));
    this.queue.add(key);
  }

  private resolve(pod: Pod): Job | undefined {
    const ref = controllerOf(pod);
    if (!ref || ref.kind !== 'Job') return undefined;
    const job = this.o.jobs.cache.get(`${pod.metadata.namespace}/${ref.name}`);
    return job?.metadata.uid === ref.uid ? job : undefined;
  }

  // --- syncJob ---

  async sync(key: string): Promise<void> {
    const cached = this.o.jobs.cache.get(key);
    await this.releaseOrphans(key, cached);
    if (!cached) return;
    const cause = Number(cached.metadata.resourceVersion);
    // Our own status write is not in the cache yet: acting on the older copy could count twice.
    if (cause < (this.written.get(key) ?? 0)) return;
    const job: Job = structuredClone(cached);
    const { namespace } = splitKey(key);
    const selector = safeSelector(job.spec?.selector as never);
    const candidates = this.o.pods.cache.byIndex('namespace', namespace) as JobPod[];
    const claimed = await claimPods(this.o.api, JOB_KIND, job, selector, candidates, cause);
    const pods = await this.trackAdopted(candidates, claimed, cause);
    if (finishedCondition(job)) {
      // A finished Job's pods need no tracking any more (upstream's orphan finalizer cleanup).
      await this.removeFinalizers(
        pods.filter((p) => hasTrackingFinalizer(p) && !this.untracking.has(p.metadata.uid ?? '')),
        cause,
      );
      return;
    }
    const now = this.now();
    const nowIso = new Date(now).toISOString().replace(/\.\d+Z$/, 'Z');
    const status: JobStatus = structuredClone(job.status ?? {});
    job.status = status;
    if (!status.startTime && !isSuspended(job)) status.startTime = nowIso;
    const active = pods.filter(isPodActive);
    let terminating = pods.filter((p) => p.metadata.deletionTimestamp && !terminal(p)).length;
    const completions = job.spec?.completions;
    const backoffLimit = job.spec?.backoffLimit ?? 6;

    // The pods finished since the last sync, not yet among the uncounted ones.
    const uncounted = {
      succeeded: new Set(status.uncountedTerminatedPods?.succeeded ?? []),
      failed: new Set(status.uncountedTerminatedPods?.failed ?? []),
    };
    const finishedNow: { succeeded: JobPod[]; failed: JobPod[] } = { succeeded: [], failed: [] };
    /** Finished pods that count for nothing (ignored by the podFailurePolicy, out of the index range): only untracked. */
    const uncountable: JobPod[] = [];
    const policy = job.spec?.podFailurePolicy;
    let room = MAX_UNCOUNTED_PODS - uncounted.succeeded.size - uncounted.failed.size;
    for (const p of pods) {
      const uid = p.metadata.uid ?? '';
      if (!hasTrackingFinalizer(p) || this.untracking.has(uid)) continue;
      if (uncounted.succeeded.has(uid) || uncounted.failed.has(uid)) continue;
      const kind = phaseOf(p) === 'Succeeded' ? 'succeeded' : isPodFailed(job, p) ? 'failed' : undefined;
      if (!kind || room <= 0) continue;
      // An Indexed Job's pod outside the index range counts for nothing.
      const ix = completionIndex(p);
      if (
        (isIndexed(job) && (ix === undefined || ix >= (completions ?? 0))) ||
        (kind === 'failed' && policy && !matchPodFailurePolicy(policy, p).countFailed)
      ) {
        uncountable.push(p);
        continue;
      }
      finishedNow[kind].push(p);
      uncounted[kind].add(uid);
      room--;
    }
    const record = nextBackoffRecord(
      this.backoff.get(key) ?? { failuresAfterLastSuccess: 0 },
      finishedNow.succeeded,
      finishedNow.failed,
      now,
    );
    this.backoff.set(key, record);
    let succeededIndexes: IndexIntervals = [];
    if (isIndexed(job)) {
      const fresh = finishedNow.succeeded.map(completionIndex).filter((i) => i !== undefined);
      succeededIndexes = toIntervals([
        ...eachIndex(parseIndexes(status.completedIndexes, completions ?? 0)),
        ...fresh,
      ]);
      status.completedIndexes = formatIndexes(succeededIndexes);
    }
    const succeeded = isIndexed(job)
      ? totalIndexes(succeededIndexes)
      : (status.succeeded ?? 0) + uncounted.succeeded.size;
    const failed = (status.failed ?? 0) + uncounted.failed.size;

    // The finish decision (FailureTarget / SuccessCriteriaMet first, as 1.31+ does).
    let finishing: JobCondition | undefined =
      conditionTrue(status.conditions, 'FailureTarget') ??
      conditionTrue(status.conditions, 'SuccessCriteriaMet');
    const failJobMessage = policy
      ? pods
          .filter((p) => isPodFailed(job, p))
          .map((p) => matchPodFailurePolicy(policy, p).jobFailureMessage)
          .find((m) => m !== undefined)
      : undefined;
    if (!finishing && failJobMessage)
      finishing = newCondition('FailureTarget', 'True', 'PodFailurePolicy', failJobMessage, nowIso);
    if (!finishing) {
      if (
        failed > backoffLimit ||
        pastBackoffLimitOnFailure(job.spec?.template?.spec?.restartPolicy, backoffLimit, active)
      )
        finishing = newCondition(
          'FailureTarget',
          'True',
          'BackoffLimitExceeded',
          'Job has reached the specified backoff limit',
          nowIso,
        );
      else if (this.pastActiveDeadline(job, now))
        finishing = newCondition(
          'FailureTarget',
          'True',
          'DeadlineExceeded',
          'Job was active longer than specified deadline',
          nowIso,
        );
      else if (job.spec?.activeDeadlineSeconds !== undefined && !isSuspended(job) && status.startTime)
        this.queue.addAfter(key, Date.parse(status.startTime) + job.spec.activeDeadlineSeconds * 1000 - now);
    }

    let activeCount = active.length;
    let manageError: Error | undefined;
    if (finishing) {
      // Finishing: the active pods go, keeping their finalizers so they are counted as failed.
      if (active.length > 0) {
        const results = await Promise.allSettled(active.map((p) => this.deletePod(job, p, cause, false)));
        const deleted = results.filter((r) => r.status === 'fulfilled').length;
        // They terminate now: the terminal condition waits for them to be counted.
        activeCount -= deleted;
        terminating += deleted;
      }
    } else {
      const satisfied = this.expectations.satisfied(key);
      if (satisfied && !job.metadata.deletionTimestamp) {
        try {
          activeCount = await this.manageJob(
            key,
            job,
            active,
            succeeded,
            succeededIndexes,
            terminating,
            record,
            cause,
          );
        } catch (e) {
          manageError = e as Error;
        }
      }
      const complete =
        completions === undefined
          ? succeeded > 0 && activeCount === 0
          : isIndexed(job)
            ? succeeded >= completions
            : succeeded >= completions && activeCount === 0;
      if (complete)
        finishing = newCondition(
          'SuccessCriteriaMet',
          'True',
          COMPLETIONS_REACHED,
          COMPLETED_MESSAGE,
          nowIso,
        );
      else if (satisfied) this.suspendCondition(job, status, nowIso, cause);
    }
    if (finishing)
      [status.conditions] = ensureCondition(
        status.conditions,
        finishing.type,
        'True',
        finishing.reason ?? '',
        finishing.message ?? '',
        nowIso,
      );
    status.active = activeCount;
    status.ready = active.filter(isPodReady).length;
    status.terminating = terminating;
    status.uncountedTerminatedPods = {
      ...(uncounted.succeeded.size > 0 ? { succeeded: [...uncounted.succeeded] } : {}),
      ...(uncounted.failed.size > 0 ? { failed: [...uncounted.failed] } : {}),
    };
    // Step 1: the newly finished pods are recorded as uncounted before their finalizers go.
    let current = job;
    if (finishedNow.succeeded.length + finishedNow.failed.length > 0)
      current = await this.writeStatus(key, job, status, cause);
    // Step 2: their finalizers go; step 3: those whose finalizer is gone are counted.
    const withFinalizer = pods.filter(
      (p) =>
        hasTrackingFinalizer(p) &&
        !this.untracking.has(p.metadata.uid ?? '') &&
        (uncounted.succeeded.has(p.metadata.uid ?? '') || uncounted.failed.has(p.metadata.uid ?? '')),
    );
    const stuck = await this.removeFinalizers([...withFinalizer, ...uncountable], cause);
    const next: JobStatus = structuredClone(status);
    for (const kind of ['succeeded', 'failed'] as const) {
      const counted = [...uncounted[kind]].filter((uid) => !stuck.has(uid));
      if (kind === 'failed' || !isIndexed(job)) next[kind] = (next[kind] ?? 0) + counted.length;
      for (const uid of counted) uncounted[kind].delete(uid);
    }
    if (isIndexed(job)) next.succeeded = totalIndexes(succeededIndexes);
    next.uncountedTerminatedPods = {
      ...(uncounted.succeeded.size > 0 ? { succeeded: [...uncounted.succeeded] } : {}),
      ...(uncounted.failed.size > 0 ? { failed: [...uncounted.failed] } : {}),
    };
    // Step 4 (enactJobFinished): the terminal condition once every pod is counted and gone.
    if (
      finishing &&
      uncounted.succeeded.size + uncounted.failed.size === 0 &&
      terminating === 0 &&
      activeCount === 0
    )
      this.finish(job, next, finishing, nowIso, cause);
    if (JSON.stringify(next) !== JSON.stringify(current === job ? (cached.status ?? {}) : current.status))
      await this.writeStatus(key, current, next, cause);
    if (manageError) throw manageError;
  }

  /**
   * An adopted pod is tracked from then on, as upstream's adoption patch adds the finalizer
   * with the ownerReference. Only pods that were orphans get it: a pod of ours without it has
   * been counted already.
   */
  private async trackAdopted(candidates: JobPod[], claimed: JobPod[], cause: number): Promise<JobPod[]> {
    const orphans = new Set(candidates.filter((p) => !controllerOf(p)).map((p) => p.metadata.uid));
    return Promise.all(
      claimed.map(async (p) => {
        if (!orphans.has(p.metadata.uid) || hasTrackingFinalizer(p)) return p;
        const finalizers = [
          ...((p.metadata.finalizers as string[] | undefined) ?? []),
          JOB_TRACKING_FINALIZER,
        ];
        return this.o.api.patch<JobPod>(
          resourcePath({ ...POD, namespace: p.metadata.namespace, name: p.metadata.name }),
          { metadata: { resourceVersion: p.metadata.resourceVersion, finalizers } },
          { cause },
        );
      }),
    );
  }

  /**
   * The orphan pod cleanup (upstream's orphanQueue / cleanupPodFinalizers): pods still
   * tracked for a Job of this name that no longer exists — deleted, or replaced by a new Job
   * of the same name — lose the tracking finalizer, or they could never go. The Job is
   * re-read first: a cache that has not seen a new Job yet must not strip its pods.
   */
  private async releaseOrphans(key: string, cached: Job | undefined): Promise<void> {
    const { namespace, name } = splitKey(key);
    const orphans = this.o.pods.cache.byIndex('namespace', namespace).filter((p) => {
      const ref = controllerOf(p);
      return (
        ref?.kind === 'Job' &&
        ref.name === name &&
        ref.uid !== cached?.metadata.uid &&
        hasTrackingFinalizer(p)
      );
    });
    if (orphans.length === 0) return;
    let live: string | undefined;
    try {
      live = (await this.o.api.get<Job>(resourcePath({ ...JOBS, namespace, name }))).metadata.uid;
    } catch (e) {
      if (!ApiError.isNotFound(e)) throw e;
    }
    const stuck = await this.removeFinalizers(
      orphans.filter((p) => controllerOf(p)?.uid !== live),
      Number(orphans[0].metadata.resourceVersion),
    );
    if (stuck.size > 0)
      throw new Error(`the tracking finalizer of ${stuck.size} orphan pod(s) of ${key} stays`);
  }

  private pastActiveDeadline(job: Job, now: number): boolean {
    const ads = job.spec?.activeDeadlineSeconds;
    const start = job.status?.startTime;
    if (ads === undefined || !start || isSuspended(job)) return false;
    return now - Date.parse(start) >= ads * 1000;
  }

  /** The Suspended condition and its events; resuming restarts the activeDeadlineSeconds clock. */
  private suspendCondition(job: Job, status: JobStatus, nowIso: string, cause: number): void {
    const suspended = isSuspended(job);
    const [conditions, changed] = suspended
      ? ensureCondition(status.conditions, 'Suspended', 'True', 'JobSuspended', 'Job suspended', nowIso)
      : ensureCondition(status.conditions, 'Suspended', 'False', 'JobResumed', 'Job resumed', nowIso);
    if (!changed) return;
    status.conditions = conditions;
    this.record(
      job,
      'Normal',
      suspended ? 'Suspended' : 'Resumed',
      suspended ? 'Job suspended' : 'Job resumed',
      cause,
    );
    if (!suspended) status.startTime = nowIso;
  }

  /** enactJobFinished: FailureTarget becomes Failed, SuccessCriteriaMet becomes Complete. */
  private finish(job: Job, status: JobStatus, interim: JobCondition, nowIso: string, cause: number): void {
    const type = interim.type === 'FailureTarget' ? 'Failed' : 'Complete';
    [status.conditions] = ensureCondition(
      status.conditions,
      type,
      'True',
      interim.reason ?? '',
      interim.message ?? '',
      nowIso,
    );
    if (type === 'Complete') {
      status.completionTime = nowIso;
      this.record(job, 'Normal', 'Completed', 'Job completed', cause);
    } else this.record(job, 'Warning', interim.reason ?? 'Failed', interim.message ?? '', cause);
  }

  /** manageJob: creates or deletes pods towards min(parallelism, remaining completions); returns the active count. */
  private async manageJob(
    key: string,
    job: Job,
    active: JobPod[],
    succeeded: number,
    succeededIndexes: IndexIntervals,
    terminating: number,
    record: BackoffRecord,
    cause: number,
  ): Promise<number> {
    const parallelism = job.spec?.parallelism ?? 1;
    const completions = job.spec?.completions;
    if (isSuspended(job)) return active.length - (await this.deleteForManage(key, job, active, cause));
    let wantActive: number;
    if (completions === undefined) wantActive = succeeded > 0 ? active.length : parallelism;
    else wantActive = Math.max(0, Math.min(completions - succeeded, parallelism));
    const rmAtLeast = Math.max(0, active.length - wantActive);
    let victims = isIndexed(job) ? surplusIndexedPods(active, succeededIndexes, completions ?? 0) : [];
    if (victims.length < rmAtLeast)
      victims = [
        ...victims,
        ...podsToDelete(
          active.filter((p) => !victims.includes(p)),
          [],
          rmAtLeast - victims.length,
          this.now(),
        ),
      ];
    victims = victims.slice(0, MAX_POD_CREATE_DELETE_PER_SYNC);
    // Creating and deleting in one sync is never needed; deleting goes first.
    if (victims.length > 0) return active.length - (await this.deleteForManage(key, job, victims, cause));
    const replacingOnlyFailed = onlyReplaceFailedPods(job);
    let diff = wantActive - (replacingOnlyFailed ? terminating : 0) - active.length;
    if (diff <= 0) return active.length;
    const [base, max] = this.o.podFailureBackoffMs ?? [
      DEFAULT_POD_FAILURE_BACKOFF_MS,
      MAX_POD_FAILURE_BACKOFF_MS,
    ];
    const wait = remainingBackoffMs(record, this.now(), base, max);
    if (wait > 0) {
      this.queue.addAfter(key, wait);
      return active.length;
    }
    diff = Math.min(diff, MAX_POD_CREATE_DELETE_PER_SYNC);
    let indexes: number[] | undefined;
    if (isIndexed(job)) {
      const busy = new Set(active.map(completionIndex).filter((i) => i !== undefined));
      indexes = firstPendingIndexes(succeededIndexes, busy, diff, completions ?? 0);
      diff = indexes.length;
    }
    if (diff === 0) return active.length;
    this.expectations.expectCreations(key, diff);
    let next = 0;
    const { successes, error } = await slowStartBatch(diff, SLOW_START_INITIAL_BATCH, () =>
      this.createPod(job, indexes?.[next++], cause),
    );
    for (let i = successes; i < diff; i++) this.expectations.creationObserved(key);
    if (error) throw error;
    return active.length + successes;
  }

  /** deleteJobPods: the finalizer goes first, so a pod removed by the controller is never counted as failed. */
  private async deleteForManage(key: string, job: Job, victims: JobPod[], cause: number): Promise<number> {
    this.expectations.expectDeletions(key, victims.map(objectKey));
    const results = await Promise.allSettled(victims.map((p) => this.deletePod(job, p, cause, true)));
    const errors: Error[] = [];
    results.forEach((r, i) => {
      if (r.status === 'fulfilled') return;
      this.expectations.deletionObserved(key, objectKey(victims[i]));
      if (!ApiError.isNotFound(r.reason)) errors.push(r.reason as Error);
    });
    if (errors.length > 0) throw errors[0];
    return victims.length;
  }

  /**
   * The pod from the template (PodControl.CreatePodsWithGenerateName): the tracking finalizer;
   * for an Indexed Job the index as annotation and label, the JOB_COMPLETION_INDEX variable
   * (addCompletionIndexEnvVariables) and hostname `<job>-<index>`, named `<job>-<index>-xxxxx`.
   */
  private async createPod(job: Job, index: number | undefined, cause: number): Promise<void> {
    const template = structuredClone(job.spec?.template ?? {});
    const meta = template.metadata ?? {};
    const spec = template.spec ?? {};
    const name = job.metadata.name ?? '';
    let labels = meta.labels;
    let annotations = meta.annotations;
    if (index !== undefined) {
      labels = { ...labels, [JOB_COMPLETION_INDEX]: String(index) };
      annotations = { ...annotations, [JOB_COMPLETION_INDEX]: String(index) };
      spec.hostname = `${name}-${index}`;
      const env = {
        name: JOB_COMPLETION_INDEX_ENV,
        valueFrom: { fieldRef: { fieldPath: `metadata.annotations['${JOB_COMPLETION_INDEX}']` } },
      };
      for (const c of [...(spec.initContainers ?? []), ...(spec.containers ?? [])])
        if (!(c.env ?? []).some((e) => (e as { name?: string }).name === JOB_COMPLETION_INDEX_ENV))
          c.env = [...(c.env ?? []), env];
    }
    const finalizers = (meta.finalizers as string[] | undefined) ?? [];
    const body = {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: {
        generateName: index === undefined ? `${name}-` : `${name}-${index}-`,
        labels,
        annotations,
        finalizers: finalizers.includes(JOB_TRACKING_FINALIZER)
          ? finalizers
          : [...finalizers, JOB_TRACKING_FINALIZER],
        ownerReferences: [controllerRef(JOB_KIND, job)],
      },
      spec,
    };
    try {
      const pod = await this.o.api.create<Pod>(
        resourcePath({ ...POD, namespace: job.metadata.namespace }),
        body,
        { cause },
      );
      this.record(job, 'Normal', 'SuccessfulCreate', `Created pod: ${pod.metadata.name}`, cause);
    } catch (e) {
      this.record(job, 'Warning', 'FailedCreate', `Error creating: ${(e as Error).message}`, cause);
      throw e;
    }
  }

  private async deletePod(job: Job, pod: JobPod, cause: number, dropFinalizer: boolean): Promise<void> {
    const path = resourcePath({ ...POD, namespace: pod.metadata.namespace, name: pod.metadata.name });
    try {
      if (dropFinalizer && hasTrackingFinalizer(pod)) {
        const stuck = await this.removeFinalizers([pod], cause);
        if (stuck.size > 0) throw new Error(`removing the tracking finalizer of ${pod.metadata.name}`);
      }
      await this.o.api.delete(path, undefined, { cause });
      this.record(job, 'Normal', 'SuccessfulDelete', `Deleted pod: ${pod.metadata.name}`, cause);
    } catch (e) {
      if (!ApiError.isNotFound(e))
        this.record(job, 'Warning', 'FailedDelete', `Error deleting: ${(e as Error).message}`, cause);
      throw e;
    }
  }

  /** Removes the tracking finalizer; returns the uids whose finalizer could not be removed. */
  private async removeFinalizers(pods: JobPod[], cause: number): Promise<Set<string>> {
    const stuck = new Set<string>();
    await Promise.all(
      pods.map(async (p) => {
        const finalizers = ((p.metadata.finalizers as string[] | undefined) ?? []).filter(
          (f) => f !== JOB_TRACKING_FINALIZER,
        );
        try {
          await this.o.api.patch(
            resourcePath({ ...POD, namespace: p.metadata.namespace, name: p.metadata.name }),
            // Guarded by the resourceVersion: another finalizer added meanwhile must not be dropped.
            {
              metadata: {
                resourceVersion: p.metadata.resourceVersion,
                finalizers: finalizers.length > 0 ? finalizers : null,
              },
            },
            { cause },
          );
          this.untracking.add(p.metadata.uid ?? '');
        } catch (e) {
          if (ApiError.isNotFound(e)) return;
          stuck.add(p.metadata.uid ?? '');
          this.o.onTrouble?.(e as Error, objectKey(p));
        }
      }),
    );
    return stuck;
  }

  /**
   * updateJobStatus: a PUT of /status at the version read, so a stale cache conflicts (and
   * the sync is retried) instead of counting a pod twice.
   */
  private async writeStatus(key: string, job: Job, status: JobStatus, cause: number): Promise<Job> {
    const path = resourcePath({
      ...JOBS,
      namespace: job.metadata.namespace,
      name: job.metadata.name,
      subresource: 'status',
    });
    const updated = await this.o.api.update<Job>(path, { ...job, status }, { cause });
    this.written.set(key, Number(updated.metadata.resourceVersion));
    return updated;
  }

  private record(job: Job, type: 'Normal' | 'Warning', reason: string, message: string, cause: number): void {
    const object = { ...job, apiVersion: 'batch/v1', kind: 'Job' };
    this.o.events.record({ object, type, reason, message, cause });
  }
}
