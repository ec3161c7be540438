import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';

import { fromFieldsV1, toFieldsV1 } from './field-set.js';
import { type ManagedFieldsEntry } from './managed-fields.js';
import { fieldSetOf } from './object-fields.js';
import { compareObjects } from './object-fields.js';
import { serverSideApply, trackUpdate, UNTRACKED } from './server-side-apply.js';

const DEPLOY = { group: 'apps', plural: 'deployments' };
type Obj = Record<string, unknown>;

const name = fc.constantFrom('a', 'b', 'c', 'd');
const labels = fc.dictionary(fc.constantFrom('app', 'tier', 'team', 'x.io/y'), fc.constantFrom('1', '2'), {
  maxKeys: 3,
});
const container = fc.record({
  name,
  image: fc.constantFrom('nginx:1', 'nginx:2'),
  env: fc.uniqueArray(fc.record({ name, value: fc.constantFrom('1', '2') }), {
    selector: (e) => e.name,
    maxLength: 3,
  }),
  args: fc.array(fc.constantFrom('-v', '-q'), { maxLength: 2 }),
});
/** A Deployment apply configuration over a small space, so runs often overlap in fields. */
const config = fc
  .record({
    labels,
    replicas: fc.option(fc.integer({ min: 0, max: 3 }), { nil: undefined }),
    containers: fc.uniqueArray(container, { selector: (c) => c.name, maxLength: 3 }),
  })
  .map(({ labels, replicas, containers }): Obj => ({
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: 'web', namespace: 'default', labels },
    spec: { ...(replicas !== undefined ? { replicas } : {}), template: { spec: { containers } } },
  }));

const ctx = (manager: string) => ({
  kind: DEPLOY,
  apiVersion: 'apps/v1',
  manager,
  now: '2026-01-01T00:00:00Z',
  ignored: [...UNTRACKED, ['f:status']],
});

/** The value at a FieldsV1 path, or undefined when the object does not have it. */
function valueAt(obj: unknown, path: string[]): unknown {
  let v = obj;
  for (const el of path) {
    if (v === undefined) return undefined;
    const body = el.slice(2);
    if (el.startsWith('f:')) v = (v as Obj)[body];
    else if (el.startsWith('k:')) {
      const key = JSON.parse(body) as Obj;
      v = (v as Obj[]).find((item) => Object.entries(key).every(([k, x]) => item[k] === x));
    } else if (el.startsWith('v:'))
      v = (v as unknown[]).includes(JSON.parse(body)) ? JSON.parse(body) : undefined;
  }
  return v;
}

/** The member paths with nothing under them: single values (or atomic ones). */
function leaves(set: ReturnType<typeof fieldSetOf>, prefix: string[] = []): string[][] {
  if (set.children.size === 0) return set.member ? [prefix] : [];
  return [...set.children].flatMap(([el, child]) => leaves(child, [...prefix, el]));
}

describe('server-side apply properties', () => {
  it('field sets survive FieldsV1 round trips', () => {
    fc.assert(
      fc.property(config, (c) => {
        const json = toFieldsV1(fieldSetOf(DEPLOY, c));
        expect(toFieldsV1(fromFieldsV1(json))).toEqual(json);
      }),
    );
  });

  it('applying the same configuration twice changes nothing the second time', () => {
    fc.assert(
      fc.property(config, config, (first, second) => {
        const live = serverSideApply({ ...ctx('a'), live: undefined, config: first, force: false });
        const once = serverSideApply({ ...ctx('a'), live, config: second, force: false });
        expect(serverSideApply({ ...ctx('a'), live: once, config: second, force: false })).toEqual(once);
      }),
    );
  });

  it('after a forced apply, every field the applier owns holds the applied value', () => {
    fc.assert(
      fc.property(config, config, config, (mine, theirs, next) => {
        let live = serverSideApply({ ...ctx('a'), live: undefined, config: mine, force: false });
        live = serverSideApply({ ...ctx('b'), live, config: theirs, force: true });
        live = serverSideApply({ ...ctx('a'), live, config: next, force: true });
        const entry = (((live.metadata as Obj).managedFields ?? []) as ManagedFieldsEntry[]).find(
          (e) => e.manager === 'a',
        );
        for (const path of leaves(fromFieldsV1(entry?.fieldsV1 ?? {})))
          expect(valueAt(live, path)).toEqual(valueAt(next, path));
      }),
    );
  });

  it('without force, an apply either conflicts or leaves the other manager its values', () => {
    fc.assert(
      fc.property(config, config, (theirs, mine) => {
        const live = serverSideApply({ ...ctx('b'), live: undefined, config: theirs, force: false });
        let out: Obj;
        try {
          out = serverSideApply({ ...ctx('a'), live, config: mine, force: false });
        } catch (e) {
          expect((e as { code: number }).code).toBe(409);
          return;
        }
        const entry = (((out.metadata as Obj).managedFields ?? []) as ManagedFieldsEntry[]).find(
          (e) => e.manager === 'b',
        );
        for (const path of leaves(fromFieldsV1(entry?.fieldsV1 ?? {})))
          expect(valueAt(out, path)).toEqual(valueAt(theirs, path));
      }),
    );
  });

  it('after an Update, the writer alone owns each value it changed; an unchanged write keeps the entries', () => {
    fc.assert(
      fc.property(config, config, config, (mine, theirs, written) => {
        let live = serverSideApply({ ...ctx('a'), live: undefined, config: mine, force: false });
        live = serverSideApply({ ...ctx('b'), live, config: theirs, force: true });
        const next = {
          ...written,
          metadata: { ...(written.metadata as Obj), managedFields: (live.metadata as Obj).managedFields },
        };
        const entries = trackUpdate({ ...ctx('w'), live, next }) ?? [];
        const { changed } = compareObjects(
          DEPLOY,
          { ...live, metadata: { ...(live.metadata as Obj), managedFields: undefined } },
          written,
        );
        const owners = (path: string[]) =>
          entries.filter((e) => {
            let node: ReturnType<typeof fromFieldsV1> | undefined = fromFieldsV1(e.fieldsV1 ?? {});
            for (const el of path) node = node?.children.get(el);
            return node?.member === true;
          });
        for (const path of leaves(changed).filter((p) => p[0] !== 'f:apiVersion' && p[0] !== 'f:kind'))
          if (!(path[0] === 'f:metadata' && ['f:name', 'f:namespace'].includes(path[1])))
            expect(owners(path).map((e) => e.manager)).toEqual(['w']);
        expect(trackUpdate({ ...ctx('w'), live, next: structuredClone(live) })).toEqual(
          (live.metadata as Obj).managedFields ?? [],
        );
      }),
    );
  });
});
