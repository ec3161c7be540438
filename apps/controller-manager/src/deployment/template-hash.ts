import { canonicalJson } from '@app/event-store';

import { POD_TEMPLATE_HASH_LABEL, type PodTemplate } from './deployment-types.js';

/** rand.SafeEncodeString's alphabet: no vowels (no words), no 0/1/3 (no look-alikes). */
const SAFE_ALPHANUMS = 'bcdfghjklmnpqrstvwxz2456789';

/** FNV-1a, 32 bits (hash/fnv New32a). */
export function fnv32a(bytes: Uint8Array, seed = 0x811c9dc5): number {
  let h = seed;
  for (const b of bytes) h = Math.imul(h ^ b, 0x01000193) >>> 0;
  return h >>> 0;
}

/** rand.SafeEncodeString: each byte of s mapped onto the safe alphabet. */
export function safeEncodeString(s: string): string {
  let out = '';
  for (const b of Buffer.from(s, 'utf8')) out += SAFE_ALPHANUMS[b % SAFE_ALPHANUMS.length];
  return out;
}

/**
 * The template as Go would see it once decoded into its typed struct: null, empty maps and
 * empty lists are all the zero value there (kubectl's `rollout undo` sends
 * `creationTimestamp: null` and `resources: {}`), so they are dropped before hashing or comparing.
 */
export function canonicalTemplate(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(canonicalTemplate);
  if (value === null || typeof value !== 'object') return value;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) {
    const c = canonicalTemplate(v);
    if (c === null || c === undefined) continue;
    if (typeof c === 'object' && Object.keys(c).length === 0) continue;
    out[k] = c;
  }
  return out;
}

/**
 * ComputeHash (pkg/controller/controller_utils.go): FNV-32a over the template, then the
 * collision count as 4 little-endian bytes padded to 8, printed in decimal and safe-encoded.
 * Upstream hashes Go's DeepHashObject (spew) output, whose bytes a TypeScript server cannot
 * reproduce: we hash the canonical JSON of the normalised template instead. The hash is thus
 * deterministic and stable across restarts but differs from the one a Kubernetes
 * controller would give the same template — nothing outside this controller compares them.
 */
export function computeHash(template: PodTemplate | undefined, collisionCount?: number): string {
  let h = fnv32a(Buffer.from(canonicalJson(canonicalTemplate(template ?? {})), 'utf8'));
  if (collisionCount !== undefined) {
    const bytes = Buffer.alloc(8);
    bytes.writeUInt32LE(collisionCount >>> 0, 0);
    h = fnv32a(bytes, h);
  }
  return safeEncodeString(String(h));
}

function withoutHash(template: PodTemplate | undefined): unknown {
  const labels = { ...(template?.metadata?.labels ?? {}) };
  delete labels[POD_TEMPLATE_HASH_LABEL];
  return canonicalTemplate({ ...template, metadata: { ...template?.metadata, labels } });
}

/**
 * EqualIgnoreHash (deployment_util.go): the templates are semantically equal once the
 * pod-template-hash label is removed from both.
 */
export function equalIgnoreHash(a: PodTemplate | undefined, b: PodTemplate | undefined): boolean {
  return canonicalJson(withoutHash(a)) === canonicalJson(withoutHash(b));
}
