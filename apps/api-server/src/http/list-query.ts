import {
  type FieldSelector,
  parseFieldSelector,
  parseLabelSelector,
  StatusError,
  type ResourceType,
} from '@app/api';

import { type ListQuery } from '../objects/object-service.js';

const COMMON_FIELDS = ['metadata.name', 'metadata.namespace'];

/** The fields each kind can be selected by (upstream's per-kind field label conversion funcs). */
const SELECTABLE: Record<string, string[]> = {
  '/pods': [
    'spec.nodeName',
    'spec.restartPolicy',
    'spec.schedulerName',
    'spec.serviceAccountName',
    'spec.hostNetwork',
    'status.phase',
    'status.podIP',
    'status.nominatedNodeName',
  ],
  '/events': [
    'involvedObject.kind',
    'involvedObject.namespace',
    'involvedObject.name',
    'involvedObject.uid',
    'involvedObject.apiVersion',
    'involvedObject.resourceVersion',
    'involvedObject.fieldPath',
    'reason',
    'reportingComponent',
    'source',
    'type',
  ],
  '/secrets': ['type'],
  '/namespaces': ['status.phase'],
  '/nodes': ['spec.unschedulable'],
  '/replicationcontrollers': ['status.replicas'],
  'apps/replicasets': ['status.replicas'],
  'batch/jobs': ['status.successful'],
  'certificates.k8s.io/certificatesigningrequests': ['spec.signerName'],
};

/** Field labels that name a different path in the object. */
const FIELD_PATHS: Record<string, string> = { source: 'source.component' };

export interface RawQuery {
  labelSelector?: string;
  fieldSelector?: string;
  limit?: string;
  continue?: string;
  resourceVersion?: string;
  resourceVersionMatch?: string;
}

/** The field selector of a request, checked against what the kind can be selected by. */
export function parseKindFieldSelector(t: ResourceType, raw: string | undefined): FieldSelector | undefined {
  if (!raw) return undefined;
  const sel = parseFieldSelector(raw);
  // Postgres text cannot hold NUL: such a value matches nothing, but must not reach the query.
  if (sel.requirements.some((r) => r.value.includes('\0')))
    throw StatusError.badRequest('invalid field selector: values may not contain NUL characters');
  const allowed = new Set([...COMMON_FIELDS, ...(SELECTABLE[`${t.group}/${t.plural}`] ?? [])]);
  for (const r of sel.requirements) {
    if (!allowed.has(r.field)) throw StatusError.badRequest(`field label not supported: ${r.field}`);
  }
  return {
    ...sel,
    requirements: sel.requirements.map((r) => ({ ...r, field: FIELD_PATHS[r.field] ?? r.field })),
  };
}

/** A page size: a non-negative integer in decimal digits, as Go's ParseInt reads it (not `1e9`, not `-1`). */
export function parseLimit(raw: string | undefined): number | undefined {
  if (raw === undefined || raw === '') return undefined;
  const n = /^\d{1,15}$/.test(raw) ? Number(raw) : NaN;
  if (!Number.isSafeInteger(n)) throw StatusError.badRequest(`invalid limit: ${JSON.stringify(raw)}`);
  return n === 0 ? undefined : n;
}

/**
 * A watch's timeoutSeconds, capped at `maxMs` (the server's own longest watch): a timer cannot
 * wait longer than 2^31-1 ms, and a huge value would otherwise fire at once.
 */
export function parseTimeoutSeconds(raw: string | undefined, maxMs: number): number | undefined {
  if (raw === undefined || raw === '') return undefined;
  if (!/^\d+$/.test(raw)) throw StatusError.badRequest(`invalid timeoutSeconds: ${JSON.stringify(raw)}`);
  return Math.min(Number(raw), Math.floor(Math.min(maxMs, 2 ** 31 - 1) / 1000));
}

/** A resourceVersion query parameter: a non-negative integer, as opaque as clients treat it. */
export function parseResourceVersion(raw: string | undefined): number | undefined {
  if (raw === undefined || raw === '') return undefined;
  if (!/^\d+$/.test(raw)) throw StatusError.badRequest(`invalid resource version: ${JSON.stringify(raw)}`);
  return Number(raw);
}

/**
 * A list's options, with upstream's resourceVersion semantics: unset or "0" is the latest;
 * with a limit (or resourceVersionMatch=Exact) the list is exactly as of that version; without
 * one it is "not older than" (the latest, if the log has reached it).
 */
export function parseListQuery(t: ResourceType, q: RawQuery): ListQuery {
  const limit = parseLimit(q.limit);
  const rv = parseResourceVersion(q.resourceVersion);
  if (q.continue && rv !== undefined && rv !== 0)
    throw StatusError.badRequest('specifying resource version is not allowed when using continue');
  if (q.resourceVersionMatch && !['Exact', 'NotOlderThan'].includes(q.resourceVersionMatch))
    throw StatusError.badRequest(
      `resourceVersionMatch: Unsupported value: ${JSON.stringify(q.resourceVersionMatch)}: supported values: "Exact", "NotOlderThan"`,
    );
  if (q.resourceVersionMatch && rv === undefined)
    throw StatusError.badRequest('resourceVersionMatch is forbidden unless resourceVersion is provided');
  const query: ListQuery = {
    labelSelector: q.labelSelector ? parseLabelSelector(q.labelSelector) : undefined,
    fieldSelector: parseKindFieldSelector(t, q.fieldSelector),
    limit,
    continue: q.continue || undefined,
  };
  if (rv !== undefined && rv !== 0) {
    const exact =
      q.resourceVersionMatch === 'Exact' ||
      (limit !== undefined && q.resourceVersionMatch !== 'NotOlderThan');
    // The store refuses (504) a resourceVersion the log has not reached, in the list's snapshot.
    if (exact) query.resourceVersion = rv;
    else query.notOlderThan = rv;
  }
  return query;
}
