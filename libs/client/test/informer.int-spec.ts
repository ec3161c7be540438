import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { jetstreamManager } from '@nats-io/jetstream';
import { connect, type NatsConnection } from '@nats-io/transport-node';

import { podsOnNode } from '@app/bus';
import { waitFor } from '@app/dev-servers';
import { type ApiCluster, startApiCluster } from '@app/testing/api-cluster.js';

import { ApiClient } from '../src/api/api-client.js';
import { byNode, STANDARD_INDEXES } from '../src/cache/indexers.js';
import { Informer } from '../src/informer/informer.js';
import { SharedInformers } from '../src/informer/shared-informers.js';

const PODS = { group: '', version: 'v1', plural: 'pods' };

function pod(name: string, node?: string) {
  return {
    metadata: { name, labels: { app: 'inf' } },
    spec: { ...(node ? { nodeName: node } : {}), containers: [{ name: 'c', image: 'busybox:1.36' }] },
  };
}

describe('informer: list through the API, follow the bus, relist after a gap', () => {
  let cluster: ApiCluster;
  let nats: NatsConnection;
  let api: ApiClient;
  const informers: Informer[] = [];
  const create = async (ns: string, name: string, node?: string) => {
    const r = await cluster.api<{ metadata: { resourceVersion: string } }>(
      'POST',
      `/api/v1/namespaces/${ns}/pods`,
      pod(name, node),
    );
    expect(r.status).toBe(201);
    return Number(r.body.metadata.resourceVersion);
  };
  const informer = (o: Partial<ConstructorParameters<typeof Informer>[0]> = {}) => {
    const i = new Informer({
      api,
      nats,
      resource: PODS,
      indexers: { ...STANDARD_INDEXES, node: byNode },
      relistBackoffMs: [20, 200],
      ...o,
    }).start();
    informers.push(i);
    return i;
  };

  beforeAll(async () => {
    cluster = await startApiCluster();
    nats = await connect({ servers: cluster.natsUrl });
    api = new ApiClient(cluster.connection, { userAgent: 'informer-test' });
    for (const ns of ['inf', 'gap', 'node', 'share'])
      expect((await cluster.api('POST', '/api/v1/namespaces', { metadata: { name: ns } })).status).toBe(201);
  });
  afterAll(async () => {
    for (const i of informers) await i.stop();
    api?.close();
    await nats?.close();
    await cluster?.close();
  });

  it('lists what exists, then tells of every change in order, with indexes in step', async () => {
    for (const n of ['a', 'b', 'c']) await create('inf', n);
    const changes: string[] = [];
    const i = informer().onChange((c) => changes.push(`${c.type} ${c.object.metadata.name}`));
    await i.synced();
    expect(
      i.cache
        .byIndex('namespace', 'inf')
        .map((p) => p.metadata.name)
        .sort(),
    ).toEqual(['a', 'b', 'c']);

    await create('inf', 'd', 'node-1');
    const bound = await cluster.api(
      'PATCH',
      '/api/v1/namespaces/inf/pods/a',
      { metadata: { labels: { x: 'y' } } },
      {
        'content-type': 'application/merge-patch+json',
      },
    );
    expect(bound.status).toBe(200);
    expect((await cluster.api('DELETE', '/api/v1/namespaces/inf/pods/b?gracePeriodSeconds=0')).status).toBe(
      200,
    );
    await waitFor('six changes', () => (changes.length >= 6 ? true : undefined), { timeoutMs: 20_000 });
    expect(changes.filter((c) => /\s[abcd]$/.test(c))).toEqual([
      'added a',
      'added b',
      'added c',
      'added d',
      'updated a',
      'deleted b',
    ]);
    expect(i.cache.byIndex('node', 'node-1').map((p) => p.metadata.name)).toEqual(['d']);
    expect(i.cache.byIndex('label', 'x=y').map((p) => p.metadata.name)).toEqual(['a']);
    expect(i.cache.get('inf/b')).toBeUndefined();
    expect(i.listCount).toBe(1);
  });

  it('follows one node`s pods only, when scoped as a node agent is', async () => {
    const i = informer({ scope: { fieldSelector: 'spec.nodeName=node-7', subject: podsOnNode('node-7') } });
    await create('node', 'elsewhere', 'node-8');
    await create('node', 'here-1', 'node-7');
    await i.synced();
    await create('node', 'here-2', 'node-7');
    const last = await create('node', 'elsewhere-2', 'node-8');
    // Once the informer has passed the last write, it has seen (and skipped) the other node's.
    await waitFor('the informer past the last write', () => (i.seen >= last ? true : undefined), {
      timeoutMs: 20_000,
    });
    const names = () =>
      i.cache
        .list()
        .map((p) => p.metadata.name)
        .sort();
    expect(names()).toEqual(['here-1', 'here-2']);
  });

  it('shares one reader of the stream among the informers of a process', async () => {
    // A connection of its own, to count what NATS delivers to these informers alone.
    const own = await connect({ servers: cluster.natsUrl });
    const shared = new SharedInformers({ api, nats: own });
    try {
      const seen = new Set<string>();
      const kinds = [PODS, ...['configmaps', 'services', 'endpoints'].map((plural) => ({ ...PODS, plural }))];
      const informers = kinds.map((kind) =>
        shared.informer(kind).onChange((c) => seen.add(`${c.type} ${c.object.metadata.name}`)),
      );
      await shared.start();
      const before = own.stats().inMsgs;
      const n = 20;
      let last = 0;
      for (let i = 0; i < n; i++) last = await create('share', `s-${i}`);
      await waitFor(
        'every informer past the last write',
        () => (informers.every((i) => i.seen >= last) ? true : undefined),
        { timeoutMs: 20_000 },
      );
      expect([...seen].filter((s) => s.startsWith('added s-'))).toHaveLength(n);
      // Each event crossed once (with a few pull-request statuses), not once per informer (4n).
      expect(own.stats().inMsgs - before).toBeLessThan(2 * n);
    } finally {
      await shared.stop();
      await own.close();
    }
  });

  it('follows a stream the relay rebuilds after it was lost, missing nothing', async () => {
    const i = informer();
    await i.synced();
    const seen = new Set<string>();
    i.onChange((c) => seen.add(`${c.type} ${c.object.metadata.namespace}/${c.object.metadata.name}`));
    const jsm = await jetstreamManager(nats);
    const [stream] = await jsm.streams.names().next();
    expect(await jsm.streams.delete(stream)).toBe(true);
    for (const n of ['g1', 'g2', 'g3']) await create('gap', n);
    await waitFor(
      'the pods made while the stream was gone',
      () => (['g1', 'g2', 'g3'].every((n) => seen.has(`added gap/${n}`)) ? true : undefined),
      { timeoutMs: 30_000 },
    );
    await create('gap', 'after');
    await waitFor('the pod made after', () => (i.cache.get('gap/after') ? true : undefined), {
      timeoutMs: 30_000,
    });
  });

  it('lists again, with backoff, while it cannot follow the stream, and reports what changed meanwhile', async () => {
    const troubles: Error[] = [];
    const i = informer({ stream: { name: 'NO_SUCH_STREAM' }, onTrouble: (e) => troubles.push(e) });
    await i.synced();
    const seen = new Set<string>();
    i.onChange((c) => seen.add(`${c.type} ${c.object.metadata.name}`));
    await create('gap', 'relisted');
    await waitFor('the pod, seen by a relist', () => (seen.has('added relisted') ? true : undefined), {
      timeoutMs: 30_000,
    });
    expect(i.listCount).toBeGreaterThanOrEqual(2);
    expect(troubles[0]?.name).toBe('WatchGap');
    expect(troubles[0]?.message).toContain('NO_SUCH_STREAM');
  });

  it('shared informers tell of the feed`s troubles and each informer`s, by name', async () => {
    const troubles: string[] = [];
    const shared = new SharedInformers({
      api,
      nats,
      stream: { name: 'NO_SUCH_STREAM' },
      onTrouble: (what, e) => troubles.push(`${what}: ${e.name}`),
    });
    try {
      shared.informer(PODS);
      await shared.start();
      await waitFor(
        'both troubles',
        () =>
          troubles.includes('event feed: WatchGap') && troubles.includes('pods informer: WatchGap')
            ? true
            : undefined,
        { timeoutMs: 20_000 },
      );
    } finally {
      await shared.stop();
    }
  });

  it('refuses to inform on Secrets, whose data the bus does not carry', () => {
    expect(
      () => new Informer({ api, nats, resource: { group: '', version: 'v1', plural: 'secrets' } }),
    ).toThrow('read them through the API instead');
  });
});
