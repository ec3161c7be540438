import { type Operation } from 'fast-json-patch';

/** One changed leaf: `-` its old value, `+` its new one. */
export interface DiffLine {
  sign: '-' | '+';
  path: (string | number)[];
  value: unknown;
}

export interface FieldDiffOptions {
  /**
   * Keep metadata.managedFields and metadata.resourceVersion. Left out by default: the first
   * changes with every write (as `kubectl get` hides it) and the second is the revision itself.
   */
  all?: boolean;
}

/**
 * An RFC 6902 patch (from `objectHistory`) as a field-path diff: every changed leaf once, the
 * old value `-` before the new `+`, ordered by path. Whole subtrees a patch adds, removes or
 * replaces are spelled out leaf by leaf, so a diff reads the same however the patch grouped it.
 */
export function fieldDiff(
  before: unknown,
  after: unknown,
  patch: Operation[],
  options: FieldDiffOptions = {},
): DiffLine[] {
  // Each operation's old leaves before its new ones (a replaced subtree reads as - then +),
  // the operations in path order.
  const groups = patch.map((op) => {
    const path = typedPath(op.path, before, after);
    const removed = op.op === 'remove' || op.op === 'replace' ? leaves(valueAt(before, path), path) : [];
    const added = op.op === 'add' || op.op === 'replace' ? leaves(op.value, path) : [];
    const side = (sign: DiffLine['sign'], found: [(string | number)[], unknown][]) =>
      found
        .filter(([p]) => options.all || !hidden(p))
        .sort(([a], [b]) => comparePaths(a, b))
        .map(([p, value]): DiffLine => ({ sign, path: p, value }));
    return { path, lines: [...side('-', removed), ...side('+', added)] };
  });
  return groups.sort((a, b) => comparePaths(a.path, b.path)).flatMap((g) => g.lines);
}

/** `  - spec.replicas: 1` / `  + spec.replicas: 3`, one line per changed leaf. */
export function formatDiff(lines: DiffLine[], indent = '  '): string[] {
  return lines.map((l) => `${indent}${l.sign} ${fieldPath(l.path)}: ${JSON.stringify(l.value)}`);
}

/**
 * The fields a patch touched, cut at `depth` segments (`spec.nodeName`, `status.conditions`),
 * each once, in path order: a one-line summary of a change.
 */
export function changedFields(before: unknown, after: unknown, patch: Operation[], depth = 2): string[] {
  const seen = new Map<string, (string | number)[]>();
  for (const l of fieldDiff(before, after, patch)) {
    const cut = l.path.slice(0, depth);
    seen.set(fieldPath(cut), cut);
  }
  return [...seen.entries()].sort((a, b) => comparePaths(a[1], b[1])).map(([text]) => text);
}

/** `spec.containers[0].image`, `metadata.labels["app.kubernetes.io/name"]`. */
export function fieldPath(path: (string | number)[]): string {
  let out = '';
  for (const seg of path) {
    if (typeof seg === 'number') out += `[${seg}]`;
    else if (/^[A-Za-z_][A-Za-z0-9_-]*$/.test(seg)) out += out ? `.${seg}` : seg;
    else out += `[${JSON.stringify(seg)}]`;
  }
  return out;
}

function hidden(path: (string | number)[]): boolean {
  return path[0] === 'metadata' && (path[1] === 'managedFields' || path[1] === 'resourceVersion');
}

/**
 * A JSON pointer's segments (RFC 6901 unescaped), a segment an index where the object it
 * steps into (before or after the change) is an array: a label named "0" stays a key.
 */
function typedPath(pointer: string, before: unknown, after: unknown): (string | number)[] {
  if (pointer === '') return [];
  const path: (string | number)[] = [];
  let a = before;
  let b = after;
  for (const raw of pointer.slice(1).split('/')) {
    const key = raw.replace(/~1/g, '/').replace(/~0/g, '~');
    const seg = Array.isArray(a) || Array.isArray(b) ? Number(key) : key;
    path.push(seg);
    a = step(a, seg);
    b = step(b, seg);
  }
  return path;
}

function step(v: unknown, seg: string | number): unknown {
  return v !== null && typeof v === 'object' ? (v as Record<string | number, unknown>)[seg] : undefined;
}

function valueAt(root: unknown, path: (string | number)[]): unknown {
  return path.reduce<unknown>(step, root);
}

/** The leaves under `value` with their paths; an empty object or array is a leaf itself. */
function leaves(value: unknown, path: (string | number)[]): [(string | number)[], unknown][] {
  if (value === undefined) return [];
  if (Array.isArray(value) && value.length) return value.flatMap((v, i) => leaves(v, [...path, i]));
  if (value !== null && typeof value === 'object' && !Array.isArray(value)) {
    const entries = Object.entries(value);
    if (entries.length) return entries.flatMap(([k, v]) => leaves(v, [...path, k]));
  }
  return [[path, value]];
}

/** Path order: segment by segment, indexes numerically, keys as strings, a prefix first. */
function comparePaths(a: (string | number)[], b: (string | number)[]): number {
  for (let i = 0; i < Math.min(a.length, b.length); i++) {
    const x = a[i];
    const y = b[i];
    if (x === y) continue;
    if (typeof x === 'number' && typeof y === 'number') return x - y;
    return String(x) < String(y) ? -1 : 1;
  }
  return a.length - b.length;
}
