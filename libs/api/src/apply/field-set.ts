/**
 * Sets of field paths in upstream's FieldsV1 form. A path is a list of elements, each written
 * as FieldsV1 writes it: `f:<field>`, `k:<JSON of the list-map keys>`, `v:<JSON value>` (a
 * set item) or `i:<index>`. A node is a member when the path ending there is in the set
 * (written `".": {}` when the node also has children, `{}` when it has none).
 */
export interface FieldSet {
  member: boolean;
  children: Map<string, FieldSet>;
}

export type FieldPath = readonly string[];

export function emptySet(): FieldSet {
  return { member: false, children: new Map() };
}

export function isEmpty(s: FieldSet | undefined): boolean {
  if (!s) return true;
  if (s.member) return false;
  for (const c of s.children.values()) if (!isEmpty(c)) return false;
  return true;
}

export function insert(s: FieldSet, path: FieldPath): void {
  let node = s;
  for (const el of path) {
    let next = node.children.get(el);
    if (!next) node.children.set(el, (next = emptySet()));
    node = next;
  }
  node.member = true;
}

export function nodeAt(s: FieldSet | undefined, path: FieldPath): FieldSet | undefined {
  let node = s;
  for (const el of path) node = node?.children.get(el);
  return node;
}

export function has(s: FieldSet, path: FieldPath): boolean {
  return nodeAt(s, path)?.member === true;
}

/** The member paths, in FieldsV1 order. */
export function members(s: FieldSet, prefix: FieldPath = []): string[][] {
  const out: string[][] = s.member && prefix.length > 0 ? [[...prefix]] : [];
  for (const el of sortedElements(s.children.keys()))
    out.push(...members(s.children.get(el) as FieldSet, [...prefix, el]));
  return out;
}

export function union(a: FieldSet, b: FieldSet): FieldSet {
  const out: FieldSet = { member: a.member || b.member, children: new Map() };
  for (const el of new Set([...a.children.keys(), ...b.children.keys()])) {
    const x = a.children.get(el);
    const y = b.children.get(el);
    out.children.set(el, x && y ? union(x, y) : clone((x ?? y) as FieldSet));
  }
  return out;
}

/** The members of `a` that are not members of `b`. */
export function difference(a: FieldSet, b: FieldSet | undefined): FieldSet {
  const out: FieldSet = { member: a.member && !b?.member, children: new Map() };
  for (const [el, x] of a.children) {
    const d = difference(x, b?.children.get(el));
    if (!isEmpty(d)) out.children.set(el, d);
  }
  return out;
}

export function intersection(a: FieldSet, b: FieldSet | undefined): FieldSet {
  const out: FieldSet = { member: a.member && b?.member === true, children: new Map() };
  if (!b) return out;
  for (const [el, x] of a.children) {
    const y = b.children.get(el);
    if (!y) continue;
    const i = intersection(x, y);
    if (!isEmpty(i)) out.children.set(el, i);
  }
  return out;
}

/** `s` without any path that starts with one of `prefixes` (upstream's RecursiveDifference). */
export function withoutPrefixes(s: FieldSet, prefixes: readonly FieldPath[]): FieldSet {
  const out = clone(s);
  for (const p of prefixes) {
    if (p.length === 0) return emptySet();
    const parent = nodeAt(out, p.slice(0, -1));
    parent?.children.delete(p[p.length - 1]);
  }
  return difference(out, undefined);
}

export function equalSets(a: FieldSet, b: FieldSet): boolean {
  return isEmpty(difference(a, b)) && isEmpty(difference(b, a));
}

export function clone(s: FieldSet): FieldSet {
  return { member: s.member, children: new Map([...s.children].map(([k, v]) => [k, clone(v)])) };
}

/** The set as a FieldsV1 object: children in upstream's order, `"."` first. */
export function toFieldsV1(s: FieldSet): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  if (s.member && s.children.size > 0) out['.'] = {};
  for (const el of sortedElements(s.children.keys())) out[el] = toFieldsV1(s.children.get(el) as FieldSet);
  return out;
}

export function fromFieldsV1(json: unknown): FieldSet {
  if (typeof json !== 'object' || json === null || Array.isArray(json))
    throw new Error('fieldsV1 must be an object');
  const out = emptySet();
  for (const [k, v] of Object.entries(json)) {
    if (k === '.') {
      out.member = true;
      continue;
    }
    if (!/^[fkvi]:/.test(k)) throw new Error(`invalid fieldsV1 element ${JSON.stringify(k)}`);
    const child = fromFieldsV1(v);
    // A leaf is written `{}`: it is a member.
    if (child.children.size === 0) child.member = true;
    out.children.set(k, child);
  }
  return out;
}

const KIND_ORDER: Record<string, number> = { f: 0, k: 1, v: 2, i: 3 };

/** Elements sorted as upstream serialises them: fields, then keys, values and indexes. */
function sortedElements(els: Iterable<string>): string[] {
  return [...els].sort((a, b) => {
    const d = (KIND_ORDER[a[0]] ?? 9) - (KIND_ORDER[b[0]] ?? 9);
    if (d !== 0) return d;
    if (a[0] === 'i') return Number(a.slice(2)) - Number(b.slice(2));
    return a < b ? -1 : a > b ? 1 : 0;
  });
}

/** A path as upstream prints it in conflicts: `.spec.containers[name="app"].image`. */
export function pathString(path: FieldPath): string {
  return path
    .map((el) => {
      const body = el.slice(2);
      switch (el[0]) {
        case 'f':
          return `.${body}`;
        case 'i':
          return `[${body}]`;
        case 'v':
          return `[=${body}]`;
        default: {
          const keys = JSON.parse(body) as Record<string, unknown>;
          return `[${Object.entries(keys)
            .map(([k, v]) => `${k}=${JSON.stringify(v)}`)
            .join(',')}]`;
        }
      }
    })
    .join('');
}
