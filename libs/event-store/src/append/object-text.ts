import { canonicalJson, writeMembers } from '../chain/canonical-json.js';
import { type StoredMeta, type StoredObject } from '../model/index.js';

/** [start, end) in an object's JSON text. */
type Span = [number, number];

/**
 * A stored object as its canonical JSON, with where in that text the planner looks when it
 * plans an update against it: the values of metadata.generation and metadata.resourceVersion
 * (which the no-op check ignores) and the top-level members that count as spec (which decide
 * whether generation moves). An update is then judged by comparing parts of two strings the
 * writer builds anyway, instead of parsing the stored version and walking both objects (a
 * parse and three walks were a sixth of the writer's CPU per append at 32 writers).
 */
export interface ObjectText {
  /** Exactly `canonicalJson(object)`. */
  readonly json: string;
  readonly generationAt?: Span;
  readonly resourceVersionAt?: Span;
  /** Start and end of each member counting as spec (key included), in key order, flat. */
  readonly spec: readonly number[];
  /** The metadata fields an update carries over from the stored version. */
  readonly meta: Pick<StoredMeta, 'uid' | 'creationTimestamp' | 'generation'>;
}

/** Top-level members Kubernetes does not count as spec when it decides to bump generation. */
const NOT_SPEC = new Set(['metadata', 'status', 'apiVersion', 'kind']);

/** The canonical JSON of `object`, cut as `ObjectText` says, in one walk. */
export function objectText(object: StoredObject): ObjectText {
  const spec: number[] = [];
  let generationAt: Span | undefined;
  let resourceVersionAt: Span | undefined;
  let meta: ObjectText['meta'] = {};
  const json = writeMembers(object, '', (k, v, out, start) => {
    if (k === 'metadata' && isRecord(v)) {
      // Written here rather than by canonicalJson, to see where its two store-owned values land.
      const metadata = v as StoredMeta;
      meta = {
        uid: metadata.uid,
        creationTimestamp: metadata.creationTimestamp,
        generation: metadata.generation,
      };
      out = writeMembers(metadata, out, (mk, mv, o) => {
        const at = o.length;
        o += canonicalJson(mv);
        if (mk === 'generation') generationAt = [at, o.length];
        else if (mk === 'resourceVersion') resourceVersionAt = [at, o.length];
        return o;
      });
    } else {
      out += canonicalJson(v);
    }
    if (!NOT_SPEC.has(k)) spec.push(start, out.length);
    return out;
  });
  return { json, generationAt, resourceVersionAt, spec, meta };
}

/**
 * Equal but for metadata.resourceVersion and metadata.generation, the fields the store
 * recomputes: a write that changes nothing else appends nothing. Compared piece by piece
 * around the two values, without building the texts without them. A version that lacks one
 * of the two members differs from one that has it.
 */
export function sameContent(a: ObjectText, b: ObjectText): boolean {
  const ac = storeOwned(a);
  const bc = storeOwned(b);
  if (ac.length !== bc.length) return false;
  let aFrom = 0;
  let bFrom = 0;
  for (let i = 0; i < ac.length; i++) {
    if (a.json.slice(aFrom, ac[i][0]) !== b.json.slice(bFrom, bc[i][0])) return false;
    aFrom = ac[i][1];
    bFrom = bc[i][1];
  }
  return a.json.slice(aFrom) === b.json.slice(bFrom);
}

/** Equal in every member that counts as spec: generation stays. */
export function sameSpec(a: ObjectText, b: ObjectText): boolean {
  if (a.spec.length !== b.spec.length) return false;
  for (let i = 0; i < a.spec.length; i += 2) {
    if (a.json.slice(a.spec[i], a.spec[i + 1]) !== b.json.slice(b.spec[i], b.spec[i + 1])) return false;
  }
  return true;
}

/** `text` with metadata.generation's value set to `generation` (which it must have). */
export function withGeneration(text: ObjectText, generation: number): ObjectText {
  const at = text.generationAt;
  if (!at) throw new Error('the object has no metadata.generation to set');
  const value = String(generation);
  const delta = value.length - (at[1] - at[0]);
  const shift = (i: number) => (i >= at[1] ? i + delta : i);
  const rv = text.resourceVersionAt;
  return {
    json: text.json.slice(0, at[0]) + value + text.json.slice(at[1]),
    generationAt: [at[0], at[0] + value.length],
    resourceVersionAt: rv && [shift(rv[0]), shift(rv[1])],
    spec: text.spec.map(shift),
    meta: { ...text.meta, generation },
  };
}

/** Where the values of generation and resourceVersion are, in text order (g sorts before r). */
function storeOwned(t: ObjectText): Span[] {
  return [t.generationAt, t.resourceVersionAt].filter((s): s is Span => s !== undefined);
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
