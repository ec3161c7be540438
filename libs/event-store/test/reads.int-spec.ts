import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';

import {
  matchesFields,
  matchesLabels,
  parseFieldSelector,
  parseLabelSelector,
  type StatusError,
} from '@app/api';
import { type StoredObject } from '@app/event-store';

import { prng } from './mixed-load.js';
import { ctx, openStore, type StoreFixture } from './store-fixture.js';

const pods = { group: '', resource: 'pods' };
const podKey = (ns: string, name: string) => ({ ...pods, namespace: ns, name });

function pod(name: string, rand: () => number): StoredObject {
  const pick = <T>(xs: T[]) => xs[Math.floor(rand() * xs.length)];
  const labels: Record<string, string> = {};
  if (rand() < 0.7) labels.app = pick(['web', 'db', 'cache']);
  if (rand() < 0.5) labels.tier = pick(['front', 'back']);
  if (rand() < 0.3) labels['example.com/team'] = pick(['a', 'b']);
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, labels },
    spec: {
      ...(rand() < 0.6 ? { nodeName: pick(['node-1', 'node-2']) } : {}),
      containers: [{ name: 'c', image: 'busybox' }],
    },
    status: { phase: pick(['Pending', 'Running', 'Succeeded']) },
  };
}

const SELECTORS: [string, string][] = [
  ['', ''],
  ['app=web', ''],
  ['app==web,tier=front', ''],
  ['app!=web', ''],
  ['app in (web,db)', ''],
  ['app notin (web,db)', ''],
  ['tier', ''],
  ['!tier', ''],
  ['example.com/team=a', ''],
  ['', 'spec.nodeName=node-1'],
  ['', 'spec.nodeName='],
  ['', 'spec.nodeName!=,status.phase=Running'],
  ['', 'metadata.namespace=ns-1'],
  ['app=web', 'metadata.name!=p-3,status.phase!=Succeeded'],
];

describe('reads', () => {
  let f: StoreFixture;
  let all: StoredObject[];
  beforeAll(async () => {
    f = await openStore();
    const rand = prng(7);
    for (let i = 0; i < 60; i++) {
      const ns = `ns-${i % 3}`;
      await f.store.create(podKey(ns, `p-${i}`), pod(`p-${i}`, rand), ctx());
    }
    all = (await f.store.list(pods)).items;
  });
  afterAll(() => f.close());

  it('lists in namespace/name order with the head as the list resourceVersion', async () => {
    const res = await f.store.list(pods);
    expect(res.items).toHaveLength(60);
    expect(res.resourceVersion).toBe((await f.store.head()).seq);
    const keys = res.items.map((p) => `${p.metadata.namespace}/${p.metadata.name}`);
    expect(keys).toEqual([...keys].sort());
    expect(
      (await f.store.list(pods, { namespace: 'ns-1' })).items.every((p) => p.metadata.namespace === 'ns-1'),
    ).toBe(true);
  });

  it.each(SELECTORS)(
    'label "%s" field "%s": SQL over the projection agrees with the in-memory matcher',
    async (l, fsel) => {
      const labelSelector = parseLabelSelector(l);
      const fieldSelector = parseFieldSelector(fsel);
      const expected = all.filter(
        (p) => matchesLabels(labelSelector, p.metadata.labels) && matchesFields(fieldSelector, p),
      );
      const got = await f.store.list(pods, { labelSelector, fieldSelector });
      expect(got.items.map((p) => p.metadata.name)).toEqual(expected.map((p) => p.metadata.name));
    },
  );

  it("pages with limit/continue form one snapshot at the first page's resourceVersion", async () => {
    const first = await f.store.list(pods, { limit: 25 });
    expect(first.items).toHaveLength(25);
    // Change the world between pages: delete one object still to come, add one, modify one.
    const later = first.items.length;
    const victim = all[later + 3];
    await f.store.delete(podKey(victim.metadata.namespace!, victim.metadata.name!), ctx());
    await f.store.create(podKey('ns-2', 'zz-new'), pod('zz-new', prng(1)), ctx());
    const changed = all[later + 5];
    await f.store.update(
      podKey(changed.metadata.namespace!, changed.metadata.name!),
      { ...changed, status: { phase: 'Failed' } },
      ctx(),
    );

    const pages = [first];
    while (pages[pages.length - 1].continue) {
      pages.push(await f.store.list(pods, { limit: 25, continue: pages[pages.length - 1].continue }));
    }
    expect(pages.map((p) => p.resourceVersion)).toEqual(pages.map(() => first.resourceVersion));
    expect(pages.flatMap((p) => p.items)).toEqual(all);
    // A fresh list sees the new world.
    const now = await f.store.list(pods);
    expect(now.items.map((p) => p.metadata.name)).toContain('zz-new');
    expect(now.items.map((p) => p.metadata.name)).not.toContain(victim.metadata.name);
  });

  it('serves an exact resourceVersion in the past, with selectors applied to rebuilt objects too', async () => {
    const labelSelector = parseLabelSelector('app');
    const past = await f.store.list(pods, { resourceVersion: all.length, labelSelector });
    expect(past.resourceVersion).toBe(all.length);
    expect(past.items).toEqual(all.filter((p) => matchesLabels(labelSelector, p.metadata.labels)));
  });

  it('answers "as of" a seq and a time', async () => {
    expect((await f.store.listAt(pods, 10)).items.map((p) => p.metadata.name).sort()).toEqual(
      Array.from({ length: 10 }, (_, i) => `p-${i}`).sort(),
    );
    const tenth = (await f.store.events.at(10))!;
    expect((await f.store.listAtTime(pods, new Date(tenth.at))).items.length).toBeGreaterThanOrEqual(10);
    expect((await f.store.listAtTime(pods, new Date(0))).items).toEqual([]);
  });

  it('refuses bad list requests with the right Status', async () => {
    const head = (await f.store.head()).seq;
    const tooLarge = (await f.store
      .list(pods, { resourceVersion: head + 100 })
      .catch((e: unknown) => e)) as StatusError;
    expect(tooLarge.toStatus()).toMatchObject({
      code: 504,
      reason: 'Timeout',
      details: { causes: [{ reason: 'ResourceVersionTooLarge' }] },
    });
    const badToken = (await f.store
      .list(pods, { continue: 'garbage' })
      .catch((e: unknown) => e)) as StatusError;
    expect(badToken.toStatus()).toMatchObject({ code: 400, reason: 'BadRequest' });
    const badLimit = (await f.store.list(pods, { limit: -1 }).catch((e: unknown) => e)) as StatusError;
    expect(badLimit.toStatus()).toMatchObject({ code: 400 });
  });

  it('tells the history of one object: versions, who, verb and the diff from the previous one', async () => {
    const key = podKey('hist', 'h');
    const created = await f.store.create(key, pod('h', prng(3)), ctx('alice'));
    const updated = await f.store.update(
      key,
      { ...created.object, status: { phase: 'Running' } },
      ctx('kubelet', { verb: 'update', cause: created.resourceVersion }),
    );
    await f.store.delete(key, ctx('bob', { verb: 'delete' }));
    await f.store.create(key, pod('h', prng(4)), ctx('carol'));
    const history = await f.store.history(key);
    expect(history.map((v) => [v.event.type, v.event.actor.user, v.event.verb])).toEqual([
      ['ADDED', 'alice', 'create'],
      ['MODIFIED', 'kubelet', 'update'],
      ['DELETED', 'bob', 'delete'],
      ['ADDED', 'carol', 'create'],
    ]);
    expect(history[1].event.cause).toBe(created.resourceVersion);
    expect(history[1].diff).toEqual(
      expect.arrayContaining([
        { op: 'replace', path: '/status/phase', value: 'Running' },
        { op: 'replace', path: '/metadata/resourceVersion', value: String(updated.resourceVersion) },
      ]),
    );
    expect(history[3].event.uid).not.toBe(history[0].event.uid);
    expect(history[3].diff?.[0]).toMatchObject({ op: 'add' }); // a new incarnation diffs from nothing
  });
});
