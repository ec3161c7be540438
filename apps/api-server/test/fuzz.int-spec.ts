import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import fc from 'fast-check';

import { deploymentBody } from '@app/testing/fixtures.js';
import { type ApiCluster, startApiCluster } from '@app/testing/api-cluster.js';

/**
 * Property-based fuzzing of the API server's decoders, patches and validation (reliability §6.2
 * item 23): random JSON bodies, and random mutations of valid objects, POSTed, PUT and PATCHed
 * (merge, JSON and strategic) against the real server. Every answer is a 2xx, or a 4xx with a
 * Status body; never a 5xx, never a hang; what was accepted reads back as it was returned.
 *
 * FUZZ_RUNS sets the runs of each property (default 60, five properties: 300 cases); FUZZ_SEED
 * replays a failure, whose seed and counterexample fast-check prints.
 */
const RUNS = Number(process.env.FUZZ_RUNS ?? 60);
const SEED = process.env.FUZZ_SEED === undefined ? undefined : Number(process.env.FUZZ_SEED);
const ns = 'fuzz';

/** A JSON value as text is written: numbers keep their literal (1e400, -0, 2^53+1 survive). */
type J =
  | { t: 'num'; lit: string }
  | { t: 'str'; v: string }
  | { t: 'bool'; v: boolean }
  | { t: 'null' }
  | { t: 'arr'; items: J[] }
  | { t: 'obj'; entries: [string, J][] };

function text(j: J): string {
  switch (j.t) {
    case 'num':
      return j.lit;
    case 'str':
      return JSON.stringify(j.v);
    case 'bool':
      return String(j.v);
    case 'null':
      return 'null';
    case 'arr':
      return `[${j.items.map(text).join(',')}]`;
    case 'obj':
      return `{${j.entries.map(([k, v]) => `${JSON.stringify(k)}:${text(v)}`).join(',')}}`;
  }
}

function fromValue(v: unknown): J {
  if (v === null) return { t: 'null' };
  if (typeof v === 'number') return { t: 'num', lit: String(v) };
  if (typeof v === 'string') return { t: 'str', v };
  if (typeof v === 'boolean') return { t: 'bool', v };
  if (Array.isArray(v)) return { t: 'arr', items: v.map(fromValue) };
  return { t: 'obj', entries: Object.entries(v as object).map(([k, x]) => [k, fromValue(x)]) };
}

const key = fc.oneof(
  fc.constantFrom(
    '__proto__',
    'constructor',
    'prototype',
    'toString',
    'hasOwnProperty',
    'metadata',
    'spec',
    'data',
    'name',
    'labels',
    'annotations',
    'replicas',
    'containers',
    'items',
    '$patch',
    '$retainKeys',
    '',
    'app',
  ),
  fc.string({ maxLength: 12 }),
  fc.string({ unit: 'binary', maxLength: 6 }),
  // Any UTF-16 unit: lone surrogates and NUL included.
  fc.string({ unit: fc.integer({ min: 0, max: 0xffff }).map((c) => String.fromCharCode(c)), maxLength: 4 }),
);

const numberLiteral = fc.oneof(
  fc.integer().map(String),
  fc.integer({ min: -5, max: 100 }).map(String),
  fc.double({ noNaN: true, noDefaultInfinity: true }).map((d) => JSON.stringify(d)),
  fc.constantFrom(
    '1e400',
    '-1e400',
    '-0',
    '9007199254740993',
    '9007199254740991',
    '1.0',
    '-1',
    '2147483648',
    '1e-400',
    '0.5',
  ),
);

const leaf: fc.Arbitrary<J> = fc.oneof(
  numberLiteral.map((lit): J => ({ t: 'num', lit })),
  fc
    .oneof(fc.string({ maxLength: 20 }), fc.string({ unit: 'grapheme', maxLength: 8 }), key)
    .map((v): J => ({ t: 'str', v })),
  fc.boolean().map((v): J => ({ t: 'bool', v })),
  fc.constant<J>({ t: 'null' }),
);

const { json } = fc.letrec<{ json: J }>((tie) => ({
  json: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    leaf,
    fc.array(tie('json'), { maxLength: 4 }).map((items): J => ({ t: 'arr', items })),
    fc
      .uniqueArray(fc.tuple(key, tie('json')), { maxLength: 5, selector: ([k]) => k })
      .map((entries): J => ({ t: 'obj', entries })),
  ),
}));

/** One change to a valid object: replace or remove the node picked, or add a key to it. */
interface Mutation {
  pick: number;
  op: 'replace' | 'remove' | 'insert';
  key: string;
  value: J;
}
const mutation: fc.Arbitrary<Mutation> = fc.record({
  pick: fc.nat(),
  op: fc.constantFrom('replace', 'remove', 'insert'),
  key,
  value: json,
});

function nodes(j: J, out: { node: J; parent?: J; index?: number }[] = [], parent?: J, index?: number) {
  out.push({ node: j, parent, index });
  if (j.t === 'arr') j.items.forEach((x, i) => nodes(x, out, j, i));
  if (j.t === 'obj') j.entries.forEach(([, x], i) => nodes(x, out, j, i));
  return out;
}

function mutate(base: unknown, mutations: Mutation[]): J {
  const root = fromValue(structuredClone(base));
  for (const m of mutations) {
    const all = nodes(root);
    const { node, parent, index } = all[m.pick % all.length];
    if (m.op === 'insert' && node.t === 'obj') {
      node.entries = node.entries.filter(([k]) => k !== m.key);
      node.entries.push([m.key, m.value]);
    } else if (m.op === 'remove' && parent && index !== undefined) {
      if (parent.t === 'arr') parent.items.splice(index, 1);
      if (parent.t === 'obj') parent.entries.splice(index, 1);
    } else if (parent && index !== undefined) {
      if (parent.t === 'arr') parent.items[index] = m.value;
      if (parent.t === 'obj') parent.entries[index] = [parent.entries[index][0], m.value];
    }
  }
  return root;
}

let counter = 0;
const unique = () => `f${(counter++).toString(36)}`;

const configMap = (name: string) => ({
  apiVersion: 'v1',
  kind: 'ConfigMap',
  metadata: { name, labels: { app: 'fuzz' }, annotations: { note: 'x' } },
  data: { a: '1', b: 'two' },
});
const pod = (name: string) => ({
  apiVersion: 'v1',
  kind: 'Pod',
  metadata: { name, labels: { app: 'fuzz' } },
  spec: {
    containers: [
      { name: 'c', image: 'nginx:1.25', ports: [{ containerPort: 80 }], env: [{ name: 'A', value: '1' }] },
    ],
  },
});
const KINDS = [
  { path: `/api/v1/namespaces/${ns}/configmaps`, make: configMap },
  { path: `/api/v1/namespaces/${ns}/pods`, make: pod },
  { path: `/apis/apps/v1/namespaces/${ns}/deployments`, make: (name: string) => deploymentBody(name) },
];
const kind = fc.constantFrom(...KINDS);

interface Reply {
  status: number;
  text: string;
  body: { kind?: string; code?: number; metadata?: { name?: string }; [k: string]: unknown } | undefined;
}

describe('fuzzing the API server with random and mutated bodies', () => {
  let c: ApiCluster;
  const prototypeBefore = Object.getOwnPropertyNames(Object.prototype).sort();

  beforeAll(async () => {
    c = await startApiCluster();
    expect(
      (await send('POST', '/api/v1/namespaces', JSON.stringify({ metadata: { name: ns } }))).status,
    ).toBe(201);
  });
  afterAll(() => c?.close());

  async function send(
    method: string,
    path: string,
    body?: string,
    contentType = 'application/json',
  ): Promise<Reply> {
    const r = await c.api<Reply['body'] | string>(method, path, body, { 'content-type': contentType });
    return { status: r.status, text: r.text, body: typeof r.body === 'object' ? r.body : undefined };
  }

  /** Answers by class over the whole run: a fuzzer whose inputs all bounce off (or all pass) tests little. */
  const seen = { accepted: 0, refused: 0 };

  /** The invariant of every answer: 2xx, or 4xx with its Status; an accepted object reads back as returned. */
  async function check(res: Reply, collection: string, what: string): Promise<void> {
    if (res.status >= 200 && res.status < 300) seen.accepted++;
    else seen.refused++;
    if (res.status >= 500 || res.status < 200 || (res.status >= 300 && res.status < 400))
      throw new Error(`${what}: ${res.status} ${res.text.slice(0, 500)}`);
    if (res.status >= 400) {
      if (res.body?.kind !== 'Status' || res.body.code !== res.status)
        throw new Error(`${what}: ${res.status} without its Status: ${res.text.slice(0, 300)}`);
      return;
    }
    const name = res.body?.metadata?.name;
    if (typeof name !== 'string')
      throw new Error(`${what}: accepted without a name: ${res.text.slice(0, 300)}`);
    const read = await send('GET', `${collection}/${encodeURIComponent(name)}`);
    if (read.status !== 200)
      throw new Error(`${what}: accepted, then GET answered ${read.status} ${read.text.slice(0, 300)}`);
    expect(read.body).toEqual(res.body);
  }

  const options = () => ({
    numRuns: RUNS,
    ...(SEED !== undefined ? { seed: SEED } : {}),
    endOnFailure: true,
  });

  it('POSTs random JSON objects: never a 5xx', async () => {
    await fc.assert(
      fc.asyncProperty(
        kind,
        fc.uniqueArray(fc.tuple(key, json), { maxLength: 6, selector: ([k]) => k }),
        async (k, entries) => {
          const body = text({
            t: 'obj',
            entries: [
              ['apiVersion', { t: 'str', v: k.path.startsWith('/apis/') ? 'apps/v1' : 'v1' }],
              ['metadata', { t: 'obj', entries: [['name', { t: 'str', v: unique() }]] }],
              ...entries.filter(([key]) => key !== 'apiVersion'),
            ],
          });
          await check(await send('POST', k.path, body), k.path, `POST ${body.slice(0, 300)}`);
        },
      ),
      options(),
    );
  });

  it('POSTs mutated valid objects: never a 5xx; accepted ones read back as returned', async () => {
    await fc.assert(
      fc.asyncProperty(kind, fc.array(mutation, { minLength: 0, maxLength: 3 }), async (k, mutations) => {
        const body = text(mutate(k.make(unique()), mutations));
        await check(await send('POST', k.path, body), k.path, `POST ${body.slice(0, 300)}`);
      }),
      options(),
    );
  });

  it('PUTs mutated objects over existing ones: never a 5xx', async () => {
    await fc.assert(
      fc.asyncProperty(kind, fc.array(mutation, { minLength: 1, maxLength: 3 }), async (k, mutations) => {
        const created = await send('POST', k.path, JSON.stringify(k.make(unique())));
        expect(created.status).toBe(201);
        const name = created.body?.metadata?.name as string;
        const body = text(mutate(created.body, mutations));
        await check(await send('PUT', `${k.path}/${name}`, body), k.path, `PUT ${body.slice(0, 300)}`);
      }),
      options(),
    );
  });

  it('PATCHes with random merge and strategic patches: never a 5xx', async () => {
    await fc.assert(
      fc.asyncProperty(
        kind,
        fc.constantFrom('application/merge-patch+json', 'application/strategic-merge-patch+json'),
        fc.oneof(
          json,
          fc.array(mutation, { maxLength: 3 }).map((m) => ({ mutations: m })),
        ),
        async (k, type, patch) => {
          const created = await send('POST', k.path, JSON.stringify(k.make(unique())));
          expect(created.status).toBe(201);
          const name = created.body?.metadata?.name as string;
          // Either a random value, or a mutation of the object itself (a patch that mostly applies).
          const body = 'mutations' in patch ? text(mutate(created.body, patch.mutations)) : text(patch);
          await check(
            await send('PATCH', `${k.path}/${name}`, body, type),
            k.path,
            `PATCH ${type} ${body.slice(0, 300)}`,
          );
        },
      ),
      options(),
    );
  });

  it('PATCHes with random JSON patches: never a 5xx', async () => {
    const pointer = fc.oneof(
      fc.constantFrom(
        '/metadata/labels/x',
        '/data/a',
        '/spec/replicas',
        '/spec/containers/0/image',
        '/spec/containers/-',
        '/metadata/annotations',
        '/metadata/name',
        '/metadata/uid',
        '',
        '/',
      ),
      fc
        .array(key, { maxLength: 4 })
        .map((ks) => ks.map((s) => `/${s.replaceAll('~', '~0').replaceAll('/', '~1')}`).join('')),
      fc.string({ maxLength: 10 }),
    );
    const op: fc.Arbitrary<J> = fc
      .record({
        op: fc.constantFrom('add', 'remove', 'replace', 'move', 'copy', 'test', 'bogus'),
        path: pointer,
        from: pointer,
        value: json,
      })
      .map(({ op: o, path, from, value }) => ({
        t: 'obj',
        entries: [
          ['op', { t: 'str', v: o }],
          ['path', { t: 'str', v: path }],
          ...(o === 'move' || o === 'copy' ? [['from', { t: 'str', v: from }] as [string, J]] : []),
          ...(o === 'add' || o === 'replace' || o === 'test' ? [['value', value] as [string, J]] : []),
        ],
      }));
    await fc.assert(
      fc.asyncProperty(kind, fc.array(op, { maxLength: 5 }), async (k, ops) => {
        const created = await send('POST', k.path, JSON.stringify(k.make(unique())));
        expect(created.status).toBe(201);
        const name = created.body?.metadata?.name as string;
        const body = text({ t: 'arr', items: ops });
        await check(
          await send('PATCH', `${k.path}/${name}`, body, 'application/json-patch+json'),
          k.path,
          `PATCH json ${body.slice(0, 300)}`,
        );
      }),
      options(),
    );
  });

  it('leaves the server answering and Object.prototype untouched, having both accepted and refused inputs', async () => {
    expect(seen.accepted).toBeGreaterThan(RUNS / 10);
    expect(seen.refused).toBeGreaterThan(RUNS / 10);
    expect((await send('GET', '/healthz')).status).toBe(200);
    expect(Object.getOwnPropertyNames(Object.prototype).sort()).toEqual(prototypeBefore);
  });
});
