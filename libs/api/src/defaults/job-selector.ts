import { randomUUID } from 'node:crypto';

type Json = Record<string, unknown>;

const isJson = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);
const child = (o: Json, key: string): Json => {
  if (!isJson(o[key])) o[key] = {};
  return o[key] as Json;
};

/** The labels a Job's pods carry and its generated selector uses (batch/v1 types.go). */
export const JOB_LABELS = {
  legacyJobName: 'job-name',
  jobName: 'batch.kubernetes.io/job-name',
  legacyControllerUid: 'controller-uid',
  controllerUid: 'batch.kubernetes.io/controller-uid',
} as const;

/**
 * The Job strategy's create step (pkg/registry/batch/job/strategy.go, Validate →
 * generateSelector): unless `spec.manualSelector` is true, the Job gets its uid now — before
 * the store would give it one — so its pod template can carry the job-name and controller-uid
 * labels (legacy and batch.kubernetes.io/ forms; labels already set are kept) and its selector
 * can match `batch.kubernetes.io/controller-uid` = that uid. Returns the uid assigned, if any.
 */
export function prepareJobForCreate(job: Json): string | undefined {
  const spec = child(job, 'spec');
  if (spec.manualSelector === true) return undefined;
  const meta = child(job, 'metadata');
  // A retried create (another generated name) keeps the uid its labels already carry.
  const uid = typeof meta.uid === 'string' ? meta.uid : randomUUID();
  meta.uid = uid;
  const labels = child(child(child(spec, 'template'), 'metadata'), 'labels');
  const name = typeof meta.name === 'string' ? meta.name : '';
  for (const key of [JOB_LABELS.legacyJobName, JOB_LABELS.jobName]) labels[key] ??= name;
  for (const key of [JOB_LABELS.legacyControllerUid, JOB_LABELS.controllerUid]) labels[key] ??= uid;
  const matchLabels = child(child(spec, 'selector'), 'matchLabels');
  matchLabels[JOB_LABELS.controllerUid] ??= uid;
  return uid;
}
