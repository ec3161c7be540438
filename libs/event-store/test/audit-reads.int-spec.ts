import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';

import { cm, configMap, ctx, openStore, type StoreFixture } from './store-fixture.js';

const configmaps = { group: '', resource: 'configmaps' };

describe('audit reads: objects as of a seq, folded from the log; causal chains', () => {
  let f: StoreFixture;
  beforeAll(async () => {
    f = await openStore();
  });
  afterAll(async () => {
    await f?.close();
  });

  it('gives each object`s last event at or before a seq, without deleted ones, per namespace and name', async () => {
    const a1 = await f.store.create(cm('audit-a', 'x'), configMap('x', { v: '1' }), ctx('alice'));
    const b1 = await f.store.create(cm('audit-b', 'x'), configMap('x', { v: 'b' }), ctx('bob'));
    const a2 = await f.store.update(
      cm('audit-a', 'x'),
      { ...a1.object, data: { v: '2' } },
      ctx('carol', { verb: 'update' }),
    );
    const gone = await f.store.delete(cm('audit-a', 'x'), ctx('dave', { verb: 'delete' }));
    const again = await f.store.create(cm('audit-a', 'x'), configMap('x', { v: '3' }), ctx('erin'));

    const at = (seq: number, o = {}) =>
      f.store
        .objectsAt(configmaps, seq, o)
        .then((es) =>
          es
            .filter((e) => e.namespace.startsWith('audit-'))
            .map((e) => [e.seq, e.namespace, e.actor.user, (e.object?.data as { v: string }).v]),
        );
    expect(await at(a1.resourceVersion - 1)).toEqual([]);
    expect(await at(a1.resourceVersion)).toEqual([[a1.resourceVersion, 'audit-a', 'alice', '1']]);
    expect(await at(a2.resourceVersion)).toEqual([
      [a2.resourceVersion, 'audit-a', 'carol', '2'],
      [b1.resourceVersion, 'audit-b', 'bob', 'b'],
    ]);
    expect(await at(gone.resourceVersion)).toEqual([[b1.resourceVersion, 'audit-b', 'bob', 'b']]);
    expect(await at(again.resourceVersion, { namespace: 'audit-a' })).toEqual([
      [again.resourceVersion, 'audit-a', 'erin', '3'],
    ]);
    expect(await at(again.resourceVersion, { namespace: 'audit-b', name: 'y' })).toEqual([]);

    // From the log, not the projection: a projection row rewritten behind the log's back does not show.
    await f.store.adminSql`UPDATE wake.resources SET object = jsonb_set(object, '{data,v}', '"forged"')
      WHERE namespace = 'audit-b' AND name = 'x'`;
    expect(await at(again.resourceVersion, { namespace: 'audit-b', name: 'x' })).toEqual([
      [b1.resourceVersion, 'audit-b', 'bob', 'b'],
    ]);
  });

  it('walks cause links back to the event nothing caused, root first; a dangling cause is left on the root', async () => {
    const request = await f.store.create(cm('chain', 'deploy'), configMap('deploy'), ctx('alice'));
    const rs = await f.store.create(
      cm('chain', 'rs'),
      configMap('rs'),
      ctx('system:controller', { cause: request.resourceVersion }),
    );
    const pod = await f.store.create(
      cm('chain', 'pod'),
      configMap('pod'),
      ctx('system:controller', { cause: rs.resourceVersion }),
    );
    const bound = await f.store.update(
      cm('chain', 'pod'),
      { ...pod.object, data: { node: 'n1' } },
      ctx('system:kube-scheduler', { verb: 'create', cause: pod.resourceVersion }),
    );

    const chain = await f.store.causalChain(bound.resourceVersion);
    expect(chain.map((e) => [e.seq, e.name, e.actor.user, e.cause])).toEqual([
      [request.resourceVersion, 'deploy', 'alice', null],
      [rs.resourceVersion, 'rs', 'system:controller', request.resourceVersion],
      [pod.resourceVersion, 'pod', 'system:controller', rs.resourceVersion],
      [bound.resourceVersion, 'pod', 'system:kube-scheduler', pod.resourceVersion],
    ]);
    expect(await f.store.causalChain(request.resourceVersion)).toHaveLength(1);
    expect(await f.store.causalChain(bound.resourceVersion + 1000)).toEqual([]);

    const orphan = await f.store.create(
      cm('chain', 'orphan'),
      configMap('orphan'),
      ctx('bob', { cause: 987654 }),
    );
    const broken = await f.store.causalChain(orphan.resourceVersion);
    expect(broken.map((e) => [e.seq, e.cause])).toEqual([[orphan.resourceVersion, 987654]]);
  });
});
