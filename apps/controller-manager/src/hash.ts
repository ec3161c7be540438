/** The hashing upstream's controllers name their ReplicaSets and ControllerRevisions by (pkg/util/hash, rand.SafeEncodeString). */
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
