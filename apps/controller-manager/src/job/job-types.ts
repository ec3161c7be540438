import { type StoredObject } from '@app/event-store';

import { type Pod } from '../replicaset/pod-types.js';
import { type PodFailurePolicy } from './pod-failure-policy.js';

export const JOBS = { group: 'batch', version: 'v1', plural: 'jobs' } as const;

/** batch/v1 well-known names (staging/src/k8s.io/api/batch/v1/types.go). */
export const JOB_TRACKING_FINALIZER = 'batch.kubernetes.io/job-tracking';
export const JOB_COMPLETION_INDEX = 'batch.kubernetes.io/job-completion-index';
export const JOB_COMPLETION_INDEX_ENV = 'JOB_COMPLETION_INDEX';

export interface JobCondition {
  type: string;
  status: string;
  reason?: string;
  message?: string;
  lastProbeTime?: string;
  lastTransitionTime?: string;
}

export interface UncountedTerminatedPods {
  succeeded?: string[];
  failed?: string[];
}

export interface JobStatus {
  conditions?: JobCondition[];
  startTime?: string;
  completionTime?: string;
  active?: number;
  succeeded?: number;
  failed?: number;
  terminating?: number;
  ready?: number;
  completedIndexes?: string;
  uncountedTerminatedPods?: UncountedTerminatedPods;
}

export interface PodTemplate {
  metadata?: StoredObject['metadata'];
  spec?: {
    restartPolicy?: string;
    hostname?: string;
    containers?: { name: string; env?: unknown[] }[];
    initContainers?: { name: string; env?: unknown[] }[];
  } & Record<string, unknown>;
}

export type Job = StoredObject & {
  spec?: {
    parallelism?: number;
    completions?: number;
    activeDeadlineSeconds?: number;
    backoffLimit?: number;
    completionMode?: string;
    suspend?: boolean;
    selector?: unknown;
    ttlSecondsAfterFinished?: number;
    podReplacementPolicy?: string;
    podFailurePolicy?: PodFailurePolicy;
    template?: PodTemplate;
  };
  status?: JobStatus;
};

/** A Job's pod (the fields read beyond Pod's are reached through `terminatedAt`). */
export type JobPod = Pod;

/** When each container terminated (containerStatuses[].state.terminated.finishedAt). */
export function terminatedAt(p: Pod): string[] {
  const statuses = (p.status?.containerStatuses ?? []) as {
    state?: { terminated?: { finishedAt?: string } };
  }[];
  return statuses.map((c) => c.state?.terminated?.finishedAt ?? '');
}

/** IsJobFinished: a Complete or Failed condition that is True. */
export function finishedCondition(job: Job): JobCondition | undefined {
  return job.status?.conditions?.find(
    (c) => (c.type === 'Complete' || c.type === 'Failed') && c.status === 'True',
  );
}

export const isIndexed = (job: Job): boolean => job.spec?.completionMode === 'Indexed';
export const isSuspended = (job: Job): boolean => job.spec?.suspend === true;
export const hasTrackingFinalizer = (p: Pod): boolean =>
  (p.metadata.finalizers as string[] | undefined)?.includes(JOB_TRACKING_FINALIZER) === true;
