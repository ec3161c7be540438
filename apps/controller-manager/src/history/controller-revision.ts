import { canonicalJson, type StoredObject } from '@app/event-store';

import { type OwnerReference } from '../owner-reference.js';
import { fnv32a, safeEncodeString } from '../hash.js';

/** The apps/v1 controllerrevisions resource. */
export const CONTROLLER_REVISIONS = { group: 'apps', version: 'v1', plural: 'controllerrevisions' };

/** The label a ControllerRevision carries its hash in (apps/v1 ControllerRevisionHashLabelKey). */
export const CONTROLLER_REVISION_HASH_LABEL = 'controller.kubernetes.io/hash';

/** A StatefulSet's or DaemonSet's snapshot of its template (apps/v1 ControllerRevision). */
export interface ControllerRevision extends StoredObject {
  apiVersion?: 'apps/v1';
  kind?: 'ControllerRevision';
  metadata: StoredObject['metadata'] & {
    labels?: Record<string, string>;
    annotations?: Record<string, string>;
    ownerReferences?: OwnerReference[];
    creationTimestamp?: string;
  };
  /** The patch a controller applies to its template to get this revision's (any JSON). */
  data?: unknown;
  revision: number;
}

/**
 * ControllerRevisionName (pkg/controller/history/controller_history.go): the parent's name,
 * cut so that name, dash and hash fit in a DNS subdomain, then the hash.
 */
export function controllerRevisionName(prefix: string, hash: string): string {
  return `${prefix.length > 223 ? prefix.slice(0, 223) : prefix}-${hash}`;
}

/**
 * HashControllerRevision: FNV-32a over the revision's data, then the collision count's
 * 4 little-endian bytes when there is one, printed in decimal and safe-encoded. Upstream
 * hashes data.Raw, the JSON bytes its encoder wrote; we hash the canonical JSON of the data,
 * which any two equal revisions share.
 */
export function hashControllerRevision(data: unknown, collisionCount?: number): string {
  let h = fnv32a(Buffer.from(canonicalJson(data ?? null), 'utf8'));
  if (collisionCount !== undefined) {
    const bytes = Buffer.alloc(4);
    bytes.writeUInt32LE(collisionCount >>> 0, 0);
    h = fnv32a(bytes, h);
  }
  return safeEncodeString(String(h));
}

/**
 * NewControllerRevision: a revision of `parent` holding `data`, labelled with the parent's
 * template labels and its hash, controlled by the parent. Its name is the parent's name and
 * the hash; `collisionCount` (the parent's status.collisionCount) changes the hash when two
 * different revisions would otherwise share a name.
 */
export function newControllerRevision(
  parent: StoredObject,
  parentRef: OwnerReference,
  templateLabels: Record<string, string> | undefined,
  data: unknown,
  revision: number,
  collisionCount?: number,
): ControllerRevision {
  const hash = hashControllerRevision(data, collisionCount);
  return {
    apiVersion: 'apps/v1',
    kind: 'ControllerRevision',
    metadata: {
      name: controllerRevisionName(parent.metadata.name ?? '', hash),
      namespace: parent.metadata.namespace,
      labels: { ...(templateLabels ?? {}), [CONTROLLER_REVISION_HASH_LABEL]: hash },
      ownerReferences: [parentRef],
    },
    data,
    revision,
  };
}

/** EqualRevision: the same hash label and the same data. */
export function equalRevision(a: ControllerRevision | undefined, b: ControllerRevision | undefined): boolean {
  if (!a || !b) return a === b;
  const ha = a.metadata.labels?.[CONTROLLER_REVISION_HASH_LABEL];
  const hb = b.metadata.labels?.[CONTROLLER_REVISION_HASH_LABEL];
  if (ha !== hb) return false;
  return canonicalJson(a.data ?? null) === canonicalJson(b.data ?? null);
}

/** FindEqualRevisions: the revisions equal to `needle`. */
export function findEqualRevisions(
  revisions: readonly ControllerRevision[],
  needle: ControllerRevision,
): ControllerRevision[] {
  return revisions.filter((r) => equalRevision(r, needle));
}

/** SortControllerRevisions: by revision, then creation time, then name. */
export function sortControllerRevisions(revisions: readonly ControllerRevision[]): ControllerRevision[] {
  return [...revisions].sort(
    (a, b) =>
      a.revision - b.revision ||
      (a.metadata.creationTimestamp ?? '').localeCompare(b.metadata.creationTimestamp ?? '') ||
      (a.metadata.name ?? '').localeCompare(b.metadata.name ?? ''),
  );
}

/** NextRevision: one more than the highest revision, 1 for none. */
export function nextRevision(revisions: readonly ControllerRevision[]): number {
  return revisions.reduce((max, r) => Math.max(max, r.revision), 0) + 1;
}
