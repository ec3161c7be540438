/**
 * A reader for the `.d.ts` files kubernetes-models generates from upstream's OpenAPI document:
 * one interface (or type alias) per definition, each property with its JSDoc description, `?`
 * when optional, and a type that is a primitive, a literal union (an enum), `Array<…>`, a
 * `{ [key: string]: … }` map or another definition's interface. The files are machine-written
 * and regular, so a line reader is enough; anything else is an error, never a guess.
 */

/** A property's or alias's type, as the generator writes it. */
export type DtsType =
  | { kind: 'string' | 'number' | 'boolean' }
  | { kind: 'enum'; values: string[] }
  | { kind: 'array'; items: DtsType }
  | { kind: 'map'; values: DtsType }
  /** An object type written inline rather than named. */
  | { kind: 'object'; properties: DtsProperty[] }
  | { kind: 'union'; of: ('string' | 'number')[] }
  /** Another definition: its TypeScript name and the module it is imported from. */
  | { kind: 'ref'; name: string; from: string };

export interface DtsProperty {
  name: string;
  optional: boolean;
  description?: string;
  type: DtsType;
}

export type DtsModel =
  | { kind: 'interface'; description?: string; properties: DtsProperty[] }
  | { kind: 'alias'; description?: string; type: DtsType };

export interface DtsFile {
  model: DtsModel;
  /** The definition's full TypeScript name (`IIoK8sApiCoreV1Pod`), from the file's last export. */
  fullName: string;
}

/** Reads one generated model file. */
export function parseDts(text: string, file = '<text>'): DtsFile {
  const lines = text.split('\n');
  const imports = new Map<string, string>();
  for (const line of lines) {
    const m = /^import \{ ([^}]+) \} from "([^"]+)";$/.exec(line);
    if (m) for (const name of m[1].split(',')) imports.set(name.trim(), m[2]);
  }
  const fail = (why: string): never => {
    throw new Error(`${file}: ${why}`);
  };
  const full = /^export type \{ I\w+ as (I\w+)(?:, \w+ as \w+)? \};$/.exec(
    lines.findLast((l) => l.startsWith('export type {')) ?? '',
  );
  if (!full) fail('no export naming the definition');
  const fullName = (full as RegExpExecArray)[1];

  let pending: string | undefined;
  let model: DtsModel | undefined;
  for (let i = 0; i < lines.length && !model; i++) {
    const line = lines[i];
    if (line === '/**') {
      [pending, i] = readComment(lines, i, '');
      continue;
    }
    const alias = /^export type I\w+ = (.+);$/.exec(line);
    if (alias) {
      model = { kind: 'alias', description: pending, type: parseType(alias[1], imports, fail) };
      break;
    }
    if (/^export interface I\w+( extends TypeMeta)? \{$/.test(line)) {
      const [properties] = readProperties(lines, i + 1, '    ', imports, fail);
      model = { kind: 'interface', description: pending, properties };
    }
  }
  if (!model) return fail('no interface or type alias');
  if (model.description === undefined) delete model.description;
  return { model, fullName };
}

/**
 * The properties of an interface (or of an object type written inline) from `lines[start]` on,
 * each line indented by `indent`, up to the closing brace one level out; and where that is.
 */
function readProperties(
  lines: string[],
  start: number,
  indent: string,
  imports: Map<string, string>,
  fail: (why: string) => never,
): [DtsProperty[], number] {
  const properties: DtsProperty[] = [];
  const close = indent.slice(4);
  let description: string | undefined;
  let i = start;
  for (; !lines[i]?.startsWith(`${close}}`); i++) {
    if (i >= lines.length) fail('unterminated interface');
    const l = lines[i];
    if (l === `${indent}/**`) {
      [description, i] = readComment(lines, i, indent);
      continue;
    }
    const prop = new RegExp(`^${indent}"([^"]+)"(\\?)?: (.*)$`).exec(l);
    if (!prop) return fail(`unexpected line ${JSON.stringify(l)}`);
    let type: DtsType;
    const opened = /^(Array<)?\{$/.exec(prop[3]);
    const mapLine = opened ? /^\s*\[key: string\]: (.+);$/.exec(lines[i + 1]) : null;
    if (opened && mapLine) {
      // `{`, `[key: string]: T;`, `};` (or `}>;` inside an Array).
      type = { kind: 'map', values: parseType(mapLine[1], imports, fail) };
      i += 2;
    } else if (opened) {
      const [inline, end] = readProperties(lines, i + 1, `${indent}    `, imports, fail);
      type = { kind: 'object', properties: inline };
      i = end;
    } else {
      type = parseType(prop[3].replace(/;$/, ''), imports, fail);
    }
    if (opened?.[1]) type = { kind: 'array', items: type };
    properties.push({
      name: prop[1],
      optional: prop[2] === '?',
      ...(description !== undefined ? { description } : {}),
      type,
    });
    description = undefined;
  }
  return [properties, i];
}

/** A JSDoc block starting at `lines[start]`: its text (lines joined as upstream's `\n`) and where it ends. */
function readComment(lines: string[], start: number, indent: string): [string, number] {
  const out: string[] = [];
  let i = start + 1;
  for (; lines[i] !== `${indent} */`; i++) {
    if (i >= lines.length) throw new Error('unterminated comment');
    out.push(
      lines[i]
        .slice(indent.length)
        .replace(/^ \* ?/, '')
        .replace(/^ \*$/, ''),
    );
  }
  return [out.join('\n').replaceAll('*\\/', '*/'), i];
}

function parseType(src: string, imports: Map<string, string>, fail: (why: string) => never): DtsType {
  const t = src.trim();
  if (t === 'string' || t === 'number' || t === 'boolean') return { kind: t };
  const array = /^Array<(.+)>$/.exec(t);
  if (array) return { kind: 'array', items: parseType(array[1], imports, fail) };
  const map = /^\{ \[key: string\]: (.+); \}$/.exec(t);
  if (map) return { kind: 'map', values: parseType(map[1], imports, fail) };
  const parts = t.split(' | ');
  if (parts.every((p) => /^"[^"\\]*"$/.test(p)))
    return { kind: 'enum', values: parts.map((p) => p.slice(1, -1)) };
  if (parts.length > 1 && parts.every((p) => p === 'string' || p === 'number'))
    return { kind: 'union', of: parts as ('string' | 'number')[] };
  if (/^I\w+$/.test(t)) {
    const from = imports.get(t);
    if (!from) return fail(`type ${t} is not imported`);
    return { kind: 'ref', name: t, from };
  }
  return fail(`unsupported type ${JSON.stringify(t)}`);
}
