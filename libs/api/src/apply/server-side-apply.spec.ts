import { describe, expect, it } from '@jest/globals';

import { StatusError } from '../errors/index.js';
import { emptySet, fromFieldsV1, insert, members, pathString, toFieldsV1 } from './field-set.js';
import { type ManagedFieldsEntry } from './managed-fields.js';
import { compareObjects, fieldSetOf, mergeApplied } from './object-fields.js';
import { serverSideApply, trackUpdate, UNTRACKED } from './server-side-apply.js';

const DEPLOY = { group: 'apps', plural: 'deployments' };
const SERVICE = { group: '', plural: 'services' };
type Obj = Record<string, unknown>;

const ctx = (manager: string, now = '2026-01-01T00:00:00Z') => ({
  kind: DEPLOY,
  apiVersion: 'apps/v1',
  manager,
  now,
  ignored: [...UNTRACKED, ['f:status']],
});

function deployment(spec: Obj, labels: Record<string, string> = { app: 'web' }): Obj {
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: 'web', namespace: 'default', labels },
    spec,
  };
}

const container = (extra: Obj = {}) => ({ name: 'app', image: 'nginx:1.25', ...extra });
const spec = (replicas: number, containers: Obj[] = [container()]) => ({
  replicas,
  template: { spec: { containers } },
});

function entries(o: Obj): ManagedFieldsEntry[] {
  return ((o.metadata as Obj).managedFields ?? []) as ManagedFieldsEntry[];
}

function fieldsOf(o: Obj, manager: string, operation = 'Apply'): Obj | undefined {
  return entries(o).find((e) => e.manager === manager && e.operation === operation)?.fieldsV1 as
    Obj | undefined;
}

function conflictOf(fn: () => unknown): StatusError {
  try {
    fn();
  } catch (e) {
    if (e instanceof StatusError) return e;
    throw e;
  }
  throw new Error('expected a conflict');
}

describe('field sets (FieldsV1)', () => {
  it('names associative-list items by their keys, sets by value, and leaves as members', () => {
    const obj = {
      metadata: { labels: { app: 'web' }, finalizers: ['a'] },
      spec: {
        template: {
          spec: {
            containers: [{ name: 'app', image: 'x', ports: [{ containerPort: 80 }], args: ['-v'] }],
          },
        },
      },
    };
    expect(toFieldsV1(fieldSetOf(DEPLOY, obj))).toEqual({
      'f:metadata': { 'f:finalizers': { 'v:"a"': {} }, 'f:labels': { 'f:app': {} } },
      'f:spec': {
        'f:template': {
          'f:spec': {
            'f:containers': {
              'k:{"name":"app"}': {
                '.': {},
                'f:args': {},
                'f:image': {},
                'f:name': {},
                'f:ports': { 'k:{"containerPort":80,"protocol":"TCP"}': { '.': {}, 'f:containerPort': {} } },
              },
            },
          },
        },
      },
    });
  });

  it('keys Service ports by port and protocol, and treats selectors as atomic', () => {
    const svc = { spec: { selector: { app: 'web' }, ports: [{ port: 80, protocol: 'UDP' }] } };
    expect(toFieldsV1(fieldSetOf(SERVICE, svc))).toEqual({
      'f:spec': {
        'f:ports': { 'k:{"port":80,"protocol":"UDP"}': { '.': {}, 'f:port': {}, 'f:protocol': {} } },
        'f:selector': {},
      },
    });
  });

  it('falls back to positions nowhere: unkeyed or duplicate items make the list atomic', () => {
    const obj = { spec: { template: { spec: { containers: [{ image: 'a' }, { image: 'b' }] } } } };
    expect(members(fieldSetOf(DEPLOY, obj))).toEqual([['f:spec', 'f:template', 'f:spec', 'f:containers']]);
  });

  it('round-trips FieldsV1 and prints paths as upstream does', () => {
    const json = { 'f:spec': { 'f:containers': { 'k:{"name":"app"}': { '.': {}, 'f:image': {} } } } };
    const set = fromFieldsV1(json);
    expect(toFieldsV1(set)).toEqual(json);
    expect(members(set).map(pathString)).toEqual([
      '.spec.containers[name="app"]',
      '.spec.containers[name="app"].image',
    ]);
    const s = emptySet();
    insert(s, ['f:metadata', 'f:finalizers', 'v:"x"']);
    insert(s, ['f:spec', 'f:ports', 'k:{"port":80,"protocol":"TCP"}']);
    expect(members(s).map(pathString)).toEqual([
      '.metadata.finalizers[="x"]',
      '.spec.ports[port=80,protocol="TCP"]',
    ]);
  });
});

describe('the apply merge', () => {
  it('merges associative lists by key, keeping live-only items, and replaces atomic lists', () => {
    const live = {
      spec: {
        template: {
          spec: {
            containers: [
              { name: 'app', image: 'a', args: ['x', 'y'], imagePullPolicy: 'Always' },
              { name: 'sidecar', image: 's' },
            ],
          },
        },
      },
    };
    const config = {
      spec: { template: { spec: { containers: [{ name: 'app', image: 'b', args: ['z'] }] } } },
    };
    expect(mergeApplied(DEPLOY, live, config)).toEqual({
      spec: {
        template: {
          spec: {
            containers: [
              { name: 'app', image: 'b', args: ['z'], imagePullPolicy: 'Always' },
              { name: 'sidecar', image: 's' },
            ],
          },
        },
      },
    });
  });

  it('orders shared items as the configuration does and appends new ones', () => {
    const live = { metadata: { finalizers: ['a', 'b', 'c'] } };
    const config = { metadata: { finalizers: ['c', 'a', 'd'] } };
    expect((mergeApplied(DEPLOY, live, config).metadata as Obj).finalizers).toEqual(['b', 'c', 'a', 'd']);
  });

  it('merges labels key by key and unsets a field applied as null', () => {
    const live = { metadata: { labels: { a: '1', b: '2' } }, spec: { paused: true } };
    const config = { metadata: { labels: { b: '3' } }, spec: { paused: null } };
    expect(mergeApplied(DEPLOY, live, config)).toEqual({
      metadata: { labels: { a: '1', b: '3' } },
      spec: {},
    });
  });
});

describe('compare', () => {
  it('reports changed leaves, added items with their own path, and removed items', () => {
    const before = { spec: { replicas: 1, template: { spec: { containers: [{ name: 'a', image: 'x' }] } } } };
    const after = { spec: { replicas: 2, template: { spec: { containers: [{ name: 'b', image: 'x' }] } } } };
    const { changed, removed } = compareObjects(DEPLOY, before, after);
    expect(members(changed).map(pathString)).toEqual([
      '.spec.replicas',
      '.spec.template.spec.containers[name="b"]',
      '.spec.template.spec.containers[name="b"].image',
      '.spec.template.spec.containers[name="b"].name',
    ]);
    expect(members(removed).map(pathString)).toEqual([
      '.spec.template.spec.containers[name="a"]',
      '.spec.template.spec.containers[name="a"].image',
      '.spec.template.spec.containers[name="a"].name',
    ]);
  });
});

describe('server-side apply', () => {
  it('creates with one Apply entry owning exactly what was applied (identity fields untracked)', () => {
    const out = serverSideApply({
      ...ctx('kubectl'),
      live: undefined,
      config: deployment(spec(1)),
      force: false,
    });
    expect(entries(out)).toEqual([
      {
        manager: 'kubectl',
        operation: 'Apply',
        apiVersion: 'apps/v1',
        time: '2026-01-01T00:00:00Z',
        fieldsType: 'FieldsV1',
        fieldsV1: {
          'f:metadata': { 'f:labels': { 'f:app': {} } },
          'f:spec': {
            'f:replicas': {},
            'f:template': {
              'f:spec': { 'f:containers': { 'k:{"name":"app"}': { '.': {}, 'f:image': {}, 'f:name': {} } } },
            },
          },
        },
      },
    ]);
  });

  it('refuses a different value for a field another manager owns, naming the field and the manager', () => {
    const live = serverSideApply({
      ...ctx('kubectl'),
      live: undefined,
      config: deployment(spec(1)),
      force: false,
    });
    const e = conflictOf(() =>
      serverSideApply({ ...ctx('other'), live, config: deployment({ replicas: 3 }, {}), force: false }),
    );
    expect(e.code).toBe(409);
    expect(e.reason).toBe('Conflict');
    expect(e.message).toBe('Apply failed with 1 conflict: conflict with "kubectl": .spec.replicas');
    expect(e.details?.causes).toEqual([
      { reason: 'FieldManagerConflict', message: 'conflict with "kubectl"', field: '.spec.replicas' },
    ]);
  });

  it('lists several conflicts per manager, Update managers with their apiVersion', () => {
    const created = deployment(spec(1));
    const live = { ...created, metadata: { ...(created.metadata as Obj) } };
    (live.metadata as Obj).managedFields = trackUpdate({
      ...ctx('kubectl-client-side-apply'),
      live: undefined,
      next: live,
    });
    const e = conflictOf(() =>
      serverSideApply({
        ...ctx('mgr'),
        live,
        config: deployment(spec(5, [container({ image: 'nginx:2' })])),
        force: false,
      }),
    );
    expect(e.message).toBe(
      'Apply failed with 2 conflicts: conflicts with "kubectl-client-side-apply" using apps/v1:\n' +
        '- .spec.replicas\n' +
        '- .spec.template.spec.containers[name="app"].image',
    );
    expect(e.details?.causes?.map((c) => c.message)).toEqual([
      'conflict with "kubectl-client-side-apply" using apps/v1',
      'conflict with "kubectl-client-side-apply" using apps/v1',
    ]);
  });

  it('shares ownership when the value is the same, without a conflict', () => {
    const live = serverSideApply({
      ...ctx('kubectl'),
      live: undefined,
      config: deployment(spec(1)),
      force: false,
    });
    const out = serverSideApply({
      ...ctx('other'),
      live,
      config: deployment({ replicas: 1 }, {}),
      force: false,
    });
    expect(fieldsOf(out, 'kubectl')).toEqual(fieldsOf(live, 'kubectl'));
    expect(fieldsOf(out, 'other')).toEqual({ 'f:spec': { 'f:replicas': {} } });
  });

  it('with force, takes the field over from its owner', () => {
    const live = serverSideApply({
      ...ctx('kubectl'),
      live: undefined,
      config: deployment(spec(1)),
      force: false,
    });
    const out = serverSideApply({
      ...ctx('other'),
      live,
      config: deployment({ replicas: 3 }, {}),
      force: true,
    });
    expect((out.spec as Obj).replicas).toBe(3);
    expect(fieldsOf(out, 'other')).toEqual({ 'f:spec': { 'f:replicas': {} } });
    expect((fieldsOf(out, 'kubectl')?.['f:spec'] as Obj)['f:replicas']).toBeUndefined();
  });

  it('removes what the applier no longer applies, unless another manager owns it', () => {
    let live = serverSideApply({
      ...ctx('kubectl'),
      live: undefined,
      config: deployment(spec(1, [container(), { name: 'sidecar', image: 's' }]), {
        app: 'web',
        tier: 'front',
      }),
      force: false,
    });
    live = serverSideApply({
      ...ctx('other'),
      live,
      config: deployment({}, { tier: 'front' }),
      force: false,
    });
    const out = serverSideApply({ ...ctx('kubectl'), live, config: deployment(spec(1), {}), force: false });
    // app was only kubectl's: gone; tier is other's too: kept; the sidecar container: gone.
    expect((out.metadata as Obj).labels).toEqual({ tier: 'front' });
    expect(((out.spec as Obj).template as Obj).spec).toEqual({ containers: [container()] });
    expect(fieldsOf(out, 'kubectl')?.['f:metadata']).toBeUndefined();
  });

  it('drops a whole block the applier stopped setting, defaults inside it included', () => {
    const first = deployment({
      ...spec(1),
      strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: 1 } },
    });
    let live = serverSideApply({ ...ctx('kubectl'), live: undefined, config: first, force: false });
    // A default nobody owns, inside the block.
    ((live.spec as Obj).strategy as Obj).rollingUpdate = { maxSurge: 1, maxUnavailable: '25%' };
    live = serverSideApply({ ...ctx('kubectl'), live, config: deployment(spec(1)), force: false });
    expect((live.spec as Obj).strategy).toBeUndefined();
  });

  it('keeps the entry (and its time) when the same configuration is applied again: a no-op', () => {
    const live = serverSideApply({
      ...ctx('kubectl'),
      live: undefined,
      config: deployment(spec(1)),
      force: false,
    });
    const again = serverSideApply({
      ...ctx('kubectl', '2026-02-02T00:00:00Z'),
      live,
      config: deployment(spec(1)),
      force: false,
    });
    expect(again).toEqual(live);
  });

  it('gives the fields of an untracked object to before-first-apply', () => {
    const live = deployment(spec(2));
    const e = conflictOf(() =>
      serverSideApply({ ...ctx('kubectl'), live, config: deployment(spec(4)), force: false }),
    );
    expect(e.message).toBe(
      'Apply failed with 1 conflict: conflict with "before-first-apply" using apps/v1: .spec.replicas',
    );
  });

  it('lets kubectl take over fields of its own client-side last-applied configuration', () => {
    const csa = deployment(spec(1));
    const annotation = JSON.stringify(csa);
    const live = deployment(spec(1));
    (live.metadata as Obj).annotations = { 'kubectl.kubernetes.io/last-applied-configuration': annotation };
    (live.metadata as Obj).managedFields = trackUpdate({
      ...ctx('kubectl-client-side-apply'),
      live: undefined,
      next: live,
    });
    const out = serverSideApply({ ...ctx('kubectl'), live, config: deployment(spec(2)), force: false });
    expect((out.spec as Obj).replicas).toBe(2);
    // Another manager name gets the conflict.
    expect(
      conflictOf(() => serverSideApply({ ...ctx('x'), live, config: deployment(spec(2)), force: false }))
        .code,
    ).toBe(409);
  });

  it('keeps an existing last-applied annotation in step when kubectl applies', () => {
    const live = deployment(spec(1));
    (live.metadata as Obj).annotations = {
      'kubectl.kubernetes.io/last-applied-configuration': '{}',
      keep: 'x',
    };
    (live.metadata as Obj).managedFields = trackUpdate({
      ...ctx('kubectl-client-side-apply'),
      live: undefined,
      next: live,
    });
    const config = deployment({ replicas: 1 });
    const out = serverSideApply({ ...ctx('kubectl'), live, config, force: false });
    expect((out.metadata as Obj).annotations).toEqual({
      keep: 'x',
      'kubectl.kubernetes.io/last-applied-configuration':
        '{"apiVersion":"apps/v1","kind":"Deployment","metadata":{"labels":{"app":"web"},"name":"web","namespace":"default"},"spec":{"replicas":1}}\n',
    });
    const other = serverSideApply({ ...ctx('helm'), live, config, force: false });
    expect(
      ((other.metadata as Obj).annotations as Obj)['kubectl.kubernetes.io/last-applied-configuration'],
    ).toBe('{}');
  });

  it('ignores status on the main resource (no ownership, no conflict)', () => {
    const out = serverSideApply({
      ...ctx('kubectl'),
      live: undefined,
      config: { ...deployment({ replicas: 1 }), status: { replicas: 9 } },
      force: false,
    });
    expect(fieldsOf(out, 'kubectl')).toEqual({
      'f:metadata': { 'f:labels': { 'f:app': {} } },
      'f:spec': { 'f:replicas': {} },
    });
  });
});

describe('Update tracking', () => {
  it('records the fields a write changed and takes them from other managers, even Apply ones', () => {
    const live = serverSideApply({
      ...ctx('kubectl'),
      live: undefined,
      config: deployment(spec(1)),
      force: false,
    });
    const next = structuredClone(live);
    (next.spec as Obj).replicas = 4;
    const managed = trackUpdate({ ...ctx('kubectl-scale', '2026-03-03T00:00:00Z'), live, next }) ?? [];
    const scale = managed.find((e) => e.manager === 'kubectl-scale');
    expect(scale).toMatchObject({ operation: 'Update', apiVersion: 'apps/v1', time: '2026-03-03T00:00:00Z' });
    expect(scale?.fieldsV1).toEqual({ 'f:spec': { 'f:replicas': {} } });
    const applier = managed.find((e) => e.manager === 'kubectl')?.fieldsV1 as Obj;
    expect((applier['f:spec'] as Obj)['f:replicas']).toBeUndefined();
    // Apply entries sort before Update ones.
    expect(managed.map((e) => e.operation)).toEqual(['Apply', 'Update']);
  });

  it('changes nothing when the write changes nothing (the entries are the same objects)', () => {
    const live = serverSideApply({
      ...ctx('kubectl'),
      live: undefined,
      config: deployment(spec(1)),
      force: false,
    });
    const managed = trackUpdate({
      ...ctx('kubectl-edit', '2026-04-04T00:00:00Z'),
      live,
      next: structuredClone(live),
    });
    expect(managed).toEqual(entries(live));
  });

  it('records a status write under its subresource', () => {
    const live = serverSideApply({
      ...ctx('kubectl'),
      live: undefined,
      config: deployment(spec(1)),
      force: false,
    });
    const next = { ...structuredClone(live), status: { replicas: 1 } };
    const managed =
      trackUpdate({ ...ctx('controller'), subresource: 'status', ignored: UNTRACKED, live, next }) ?? [];
    expect(managed.find((e) => e.manager === 'controller')).toMatchObject({
      operation: 'Update',
      subresource: 'status',
      fieldsV1: { 'f:status': { 'f:replicas': {} } },
    });
  });

  it('leaves an untracked object untracked, and [{}] clears managedFields', () => {
    const live = deployment(spec(1));
    expect(trackUpdate({ ...ctx('x'), live, next: deployment(spec(2)) })).toBeUndefined();
    const tracked = serverSideApply({
      ...ctx('kubectl'),
      live: undefined,
      config: deployment(spec(1)),
      force: false,
    });
    const reset = structuredClone(tracked);
    (reset.metadata as Obj).managedFields = [{}];
    expect(trackUpdate({ ...ctx('x'), live: tracked, next: reset })).toBeUndefined();
  });

  it('takes managedFields the client sent as the starting point (how they are edited)', () => {
    const live = serverSideApply({
      ...ctx('kubectl'),
      live: undefined,
      config: deployment(spec(1)),
      force: false,
    });
    const next = structuredClone(live);
    const edited = entries(next).map((e) => ({ ...e, manager: 'renamed' }));
    (next.metadata as Obj).managedFields = edited;
    expect(trackUpdate({ ...ctx('x'), live, next })).toEqual(edited);
  });
});
