import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';

import { waitFor } from '@app/dev-servers';
import { sampleSum } from '@app/metrics';
import { type ApiCluster, startApiCluster } from '@app/testing/api-cluster.js';

type Obj = {
  metadata: { name: string; namespace?: string; resourceVersion?: string; labels?: Record<string, string> };
};
type List = { kind: string; apiVersion: string; metadata: { resourceVersion: string }; items: Obj[] };
type Table = {
  kind: string;
  metadata: { resourceVersion: string };
  rows: { cells: unknown[]; object: { metadata: { name: string } } }[];
};

const TABLE = 'application/json;as=Table;v=v1;g=meta.k8s.io';

/** upstream's apiserver_watch_cache_consistent_read_total for one resource: served from memory vs fell back. */
async function consistentReads(
  c: ApiCluster,
  resource: string,
): Promise<{ cached: number; fallback: number }> {
  const scrape = await c.scrape();
  const count = (success: string, fallback: string) =>
    sampleSum(scrape, 'apiserver_watch_cache_consistent_read_total', { resource, success, fallback });
  return { cached: count('true', 'false'), fallback: count('false', 'true') };
}

/** upstream-style counter of writes computed from the cache's copy: guessed, and of those, stale. */
async function writeGuesses(c: ApiCluster, resource: string): Promise<{ guessed: number; stale: number }> {
  const scrape = await c.scrape();
  const count = (result: string) =>
    sampleSum(scrape, 'apiserver_watch_cache_write_guesses_total', { resource, result });
  return { guessed: count('guessed'), stale: count('stale') };
}

const MERGE = { 'content-type': 'application/merge-patch+json' };
type ConfigMap = Obj & { data?: Record<string, string> };

/** Lists until one is served from memory: the first list of a kind only starts its cache. */
async function warm(c: ApiCluster, path: string, resource: string): Promise<void> {
  await waitFor(`the ${resource} list cache`, async () => {
    const before = (await consistentReads(c, resource)).cached;
    expect((await c.api('GET', path)).status).toBe(200);
    return (await consistentReads(c, resource)).cached > before ? true : undefined;
  });
}

const names = (l: { items: Obj[] }) => l.items.map((o) => o.metadata.name);

describe('lists served from the API server cache', () => {
  let c: ApiCluster;
  const ns = 'lc';

  beforeAll(async () => {
    c = await startApiCluster({ listCache: { waitMs: 10_000 } });
    expect((await c.api('POST', '/api/v1/namespaces', { metadata: { name: ns } })).status).toBe(201);
    expect((await c.api('POST', '/api/v1/namespaces', { metadata: { name: `${ns}-empty` } })).status).toBe(
      201,
    );
    await warm(c, `/api/v1/namespaces/${ns}/configmaps`, 'configmaps');
  });
  afterAll(() => c?.close());

  /** The same list read from Postgres exactly as of `rv`. */
  const exact = async (path: string, rv: string, headers: Record<string, string> = {}) => {
    const r = await c.api<List>(
      'GET',
      `${path}${path.includes('?') ? '&' : '?'}resourceVersion=${rv}&resourceVersionMatch=Exact`,
      undefined,
      headers,
    );
    expect(r.status).toBe(200);
    return r.body;
  };

  it('reads its own writes: a create, then a delete, shows in the very next list', async () => {
    const path = `/api/v1/namespaces/${ns}/configmaps`;
    const before = await consistentReads(c, 'configmaps');
    for (let i = 0; i < 10; i++) {
      const name = `ryw-${i}`;
      const created = await c.api<Obj>('POST', path, { metadata: { name }, data: { i: String(i) } });
      expect(created.status).toBe(201);
      const listed = await c.api<List>('GET', path);
      expect(names(listed.body)).toContain(name);
      expect(Number(listed.body.metadata.resourceVersion)).toBeGreaterThanOrEqual(
        Number(created.body.metadata.resourceVersion),
      );
      expect((await c.api('DELETE', `${path}/${name}`)).status).toBe(200);
      expect(names((await c.api<List>('GET', path)).body)).not.toContain(name);
    }
    const after = await consistentReads(c, 'configmaps');
    expect(after.cached - before.cached).toBe(20);
    expect(after.fallback).toBe(before.fallback);
  });

  it('under a burst of concurrent writes, every list equals the Postgres list at its resourceVersion', async () => {
    const path = `/api/v1/namespaces/${ns}/configmaps`;
    const writers = Array.from({ length: 8 }, async (_, w) => {
      for (let i = 0; i < 25; i++) {
        const name = `burst-${w}-${i % 10}`;
        const labels = { writer: String(w), parity: String(i % 2) };
        if (i < 10) await c.api('POST', path, { metadata: { name, labels }, data: { v: String(i) } });
        else if (i < 20)
          await c.api(
            'PATCH',
            `${path}/${name}`,
            { metadata: { labels }, data: { v: String(i) } },
            { 'content-type': 'application/merge-patch+json' },
          );
        else await c.api('DELETE', `${path}/${name}`);
      }
    });
    const lists: List[] = [];
    const selected: { query: string; list: List }[] = [];
    let writing = true;
    const readers = Array.from({ length: 3 }, async (_, r) => {
      while (writing) {
        const query = ['', '?labelSelector=parity%3D1', '?labelSelector=writer+in+(1,2),parity!%3D0'][r];
        const got = await c.api<List>('GET', `${path}${query}`);
        expect(got.status).toBe(200);
        if (query) selected.push({ query, list: got.body });
        else lists.push(got.body);
      }
    });
    await Promise.all(writers);
    writing = false;
    await Promise.all(readers);
    expect(lists.length).toBeGreaterThan(0);
    expect(selected.length).toBeGreaterThan(0);
    for (const list of lists)
      expect((await exact(path, list.metadata.resourceVersion)).items).toEqual(list.items);
    for (const { query, list } of selected)
      expect((await exact(`${path}${query}`, list.metadata.resourceVersion)).items).toEqual(list.items);
  });

  it('answers selectors, namespaces and whole-cluster lists as Postgres does, Tables included', async () => {
    await warm(c, '/api/v1/pods', 'pods');
    for (const [i, space] of [ns, `${ns}-other`].entries()) {
      if (i > 0) await c.api('POST', '/api/v1/namespaces', { metadata: { name: space } });
      for (let p = 0; p < 6; p++) {
        const created = await c.api('POST', `/api/v1/namespaces/${space}/pods`, {
          metadata: { name: `pod-${p}`, labels: { app: p % 2 ? 'odd' : 'even', tier: String(p % 3) } },
          spec: {
            ...(p % 3 === 0 ? { nodeName: 'node-a' } : {}),
            containers: [{ name: 'c', image: 'busybox' }],
          },
        });
        expect(created.status).toBe(201);
      }
    }
    const queries = [
      `/api/v1/namespaces/${ns}/pods`,
      '/api/v1/pods',
      '/api/v1/pods?labelSelector=app%3Dodd',
      '/api/v1/pods?labelSelector=tier+notin+(1),!missing',
      `/api/v1/namespaces/${ns}-other/pods?fieldSelector=spec.nodeName%3Dnode-a`,
      '/api/v1/pods?fieldSelector=spec.nodeName%3D,metadata.namespace!%3Dlc',
      '/api/v1/pods?labelSelector=app%3Deven&fieldSelector=metadata.name%3Dpod-2',
      '/api/v1/namespaces',
    ];
    const before = await consistentReads(c, 'pods');
    for (const q of queries) {
      const got = await c.api<List>('GET', q);
      expect(got.status).toBe(200);
      const want = await exact(q, got.body.metadata.resourceVersion);
      expect(got.body).toEqual(want);
      if (q.startsWith('/api/v1/namespaces/lc/pods')) expect(got.body.items).toHaveLength(6);
    }
    // Every pod query above was a consistent read from memory.
    expect((await consistentReads(c, 'pods')).cached - before.cached).toBe(queries.length - 1);

    const table = await c.api<Table>('GET', '/api/v1/pods?labelSelector=app%3Dodd', undefined, {
      accept: TABLE,
    });
    expect(table.status).toBe(200);
    expect(table.body.kind).toBe('Table');
    const postgres = (await exact(
      '/api/v1/pods?labelSelector=app%3Dodd',
      table.body.metadata.resourceVersion,
      {
        accept: TABLE,
      },
    )) as unknown as Table;
    expect(table.body.rows.map((r) => r.object.metadata.name)).toEqual(
      postgres.rows.map((r) => r.object.metadata.name),
    );
    // Name, ready, status, restarts (age moves with the clock).
    expect(table.body.rows.map((r) => r.cells.slice(0, 4))).toEqual(
      postgres.rows.map((r) => r.cells.slice(0, 4)),
    );
    expect(table.body.rows).toHaveLength(6);
  });

  it('serves an empty list byte for byte as Postgres would shape it', async () => {
    // LimitRanges: a kind the admission cache already holds, so this list is from memory.
    const path = `/api/v1/namespaces/${ns}-empty/limitranges`;
    const before = await consistentReads(c, 'limitranges');
    const got = await c.api<List>('GET', path);
    expect(got.status).toBe(200);
    expect((await consistentReads(c, 'limitranges')).cached).toBe(before.cached + 1);
    expect(got.headers['content-type']).toMatch(/^application\/json/);
    // The shape a list streamed from Postgres has: items first, the snapshot's position last.
    expect(got.text).toBe(
      `{"kind":"LimitRangeList","apiVersion":"v1","items":[],"metadata":{"resourceVersion":"${got.body.metadata.resourceVersion}"}}`,
    );
    expect(await exact(path, got.body.metadata.resourceVersion)).toEqual(got.body);
  });

  it('serves resourceVersion=0 from memory as it stands, and leaves continues and exact reads to Postgres', async () => {
    const path = `/api/v1/namespaces/${ns}/configmaps`;
    await c.api('POST', path, { metadata: { name: 'rv0' } });
    const before = await consistentReads(c, 'configmaps');
    const head = Number((await c.api<List>('GET', path)).body.metadata.resourceVersion);
    const zero = await c.api<List>('GET', `${path}?resourceVersion=0`);
    expect(zero.status).toBe(200);
    // Any state no older than what the cache had: here it had caught up already.
    expect(Number(zero.body.metadata.resourceVersion)).toBeGreaterThanOrEqual(head);
    expect(await exact(path, zero.body.metadata.resourceVersion)).toEqual(zero.body);
    const tooNew = await c.api('GET', `${path}?resourceVersion=${head + 1000}`);
    expect(tooNew.status).toBe(504);
    // Only the one list with resourceVersion unset was a consistent read from memory.
    expect((await consistentReads(c, 'configmaps')).cached - before.cached).toBe(1);
  });

  it('cuts the first page of a limited list from memory; its continue token reads the rest of that snapshot from Postgres', async () => {
    const path = `/api/v1/namespaces/${ns}/configmaps`;
    for (let i = 0; i < 7; i++) await c.api('POST', path, { metadata: { name: `page-${i}` } });
    const before = await consistentReads(c, 'configmaps');
    type Page = List & { metadata: { continue?: string } };
    const first = (await c.api<Page>('GET', `${path}?limit=3`)).body;
    expect(first.items).toHaveLength(3);
    expect((await consistentReads(c, 'configmaps')).cached - before.cached).toBe(1);
    // Writes between pages do not reach the later pages: they are read at the first's position.
    await c.api('POST', path, { metadata: { name: 'aaa-between-pages' } });
    await c.api('DELETE', `${path}/page-6`);
    const items = [...first.items];
    let next = first.metadata.continue;
    while (next) {
      const page = (await c.api<Page>('GET', `${path}?limit=3&continue=${next}`)).body;
      expect(page.metadata.resourceVersion).toBe(first.metadata.resourceVersion);
      items.push(...page.items);
      next = page.metadata.continue;
    }
    expect(items).toEqual((await exact(path, first.metadata.resourceVersion)).items);
    expect(names({ items })).toContain('page-6');
  });

  it('serves kubectl get (a Table, 500 to a page) from memory', async () => {
    const space = `${ns}-kubectl`;
    await c.api('POST', '/api/v1/namespaces', { metadata: { name: space } });
    for (let p = 0; p < 4; p++)
      await c.api('POST', `/api/v1/namespaces/${space}/pods`, {
        metadata: { name: `pod-${p}`, labels: { app: p % 2 ? 'odd' : 'even' } },
        spec: { containers: [{ name: 'c', image: 'busybox' }] },
      });
    await warm(c, `/api/v1/namespaces/${space}/pods`, 'pods');
    const before = await consistentReads(c, 'pods');
    const got = await c.kubectl(33, ['get', 'pods', '-n', space, '-l', 'app=odd']);
    expect(got.stderr).toBe('');
    expect(got.code).toBe(0);
    expect(got.stdout).toMatch(/^NAME\s+READY\s+STATUS\s+RESTARTS\s+AGE\n/);
    expect(
      got.stdout
        .trim()
        .split('\n')
        .slice(1)
        .map((l) => l.split(/\s+/)[0]),
    ).toEqual(['pod-1', 'pod-3']);
    expect((await consistentReads(c, 'pods')).cached - before.cached).toBe(1);
  });
});

describe('updates and patches computed from the cache copy', () => {
  let c: ApiCluster;
  const ns = 'guess';

  beforeAll(async () => {
    c = await startApiCluster({ listCache: { waitMs: 10_000 }, controllers: [] });
    expect((await c.api('POST', '/api/v1/namespaces', { metadata: { name: ns } })).status).toBe(201);
    await warm(c, `/api/v1/namespaces/${ns}/configmaps`, 'configmaps');
  });
  afterAll(() => c?.close());

  it('start from the cached object when the cache has it, and land as a read of Postgres would', async () => {
    const path = `/api/v1/namespaces/${ns}/configmaps`;
    expect((await c.api('POST', path, { metadata: { name: 'g' }, data: { n: '0' } })).status).toBe(201);
    const before = await writeGuesses(c, 'configmaps');
    for (let i = 1; i <= 10; i++) {
      // Let the cache reach the last write, so the copy is current (the relay delivers it).
      await waitFor('the cache to reach the last write', async () => {
        const listed = (await c.api<List>('GET', `${path}?resourceVersion=0`)).body;
        const g = listed.items.find((o) => o.metadata.name === 'g') as ConfigMap | undefined;
        return g?.data?.n === String(i - 1) ? true : undefined;
      });
      const r = await c.api<ConfigMap>('PATCH', `${path}/g`, { data: { n: String(i) } }, MERGE);
      expect(r.status).toBe(200);
      expect(r.body.data).toEqual({ n: String(i) });
    }
    const after = await writeGuesses(c, 'configmaps');
    expect(after.guessed - before.guessed).toBe(10);
    expect(after.stale - before.stale).toBe(0);
    const stored = await c.ok<ConfigMap>('GET', `${path}/g`);
    expect(stored.data).toEqual({ n: '10' });
  });
});

describe('a list cache that cannot catch up', () => {
  let c: ApiCluster;
  const ns = 'stale';

  beforeAll(async () => {
    // No relay: events reach the hub only when it polls the log (every 200 ms), and a list
    // waits 1 ms for the cache: a list right after a write nearly always finds it behind.
    // No controller manager either: its informers' lists would count among the reads below.
    c = await startApiCluster({ relay: false, listCache: { waitMs: 1 }, controllers: [] });
    expect((await c.api('POST', '/api/v1/namespaces', { metadata: { name: ns } })).status).toBe(201);
  });
  afterAll(() => c?.close());

  it('falls back to Postgres after the configured wait, so lists still read their writes', async () => {
    const path = `/api/v1/namespaces/${ns}/configmaps`;
    // The first list starts the cache.
    await waitFor('the configmaps cache to load', async () => {
      await c.api('GET', path);
      const reads = await consistentReads(c, 'configmaps');
      return reads.cached + reads.fallback > 0 ? true : undefined;
    });
    const before = await consistentReads(c, 'configmaps');
    for (let i = 0; i < 5; i++) {
      const name = `late-${i}`;
      expect((await c.api('POST', path, { metadata: { name } })).status).toBe(201);
      expect(names((await c.api<List>('GET', path)).body)).toContain(name);
    }
    const after = await consistentReads(c, 'configmaps');
    // Every list was a consistent read; those the cache could not answer in time went to Postgres.
    expect(after.cached + after.fallback - (before.cached + before.fallback)).toBe(5);
    expect(after.fallback).toBeGreaterThan(before.fallback);
  });

  it('computes a write again from Postgres when the cache copy it started from is behind', async () => {
    const path = `/api/v1/namespaces/${ns}/configmaps`;
    await waitFor('the configmaps cache to load', async () => {
      await c.api('GET', path);
      return (await consistentReads(c, 'configmaps')).cached > 0 ? true : undefined;
    });
    const created = await c.ok<ConfigMap>('POST', path, { metadata: { name: 'behind' }, data: {} });
    // Let the cache hold the object, then write faster than it follows (the hub polls every 200 ms).
    await waitFor('the cache to hold the object', async () =>
      (await c.api<List>('GET', `${path}?resourceVersion=0`)).body.items.some(
        (o) => o.metadata.name === 'behind',
      )
        ? true
        : undefined,
    );
    const before = await writeGuesses(c, 'configmaps');
    let rv = created.metadata.resourceVersion;
    for (let i = 0; i < 5; i++) {
      // Two patches back to back: the second starts from a copy without the first.
      expect((await c.api('PATCH', `${path}/behind`, { data: { [`a${i}`]: '1' } }, MERGE)).status).toBe(200);
      const b = await c.api<ConfigMap>('PATCH', `${path}/behind`, { data: { [`b${i}`]: '1' } }, MERGE);
      expect(b.status).toBe(200);
      expect(b.body.data).toMatchObject({ [`a${i}`]: '1', [`b${i}`]: '1' });
      // An update naming the version just written is not a conflict, however far behind the cache is.
      const put = await c.api<ConfigMap>('PUT', `${path}/behind`, {
        ...b.body,
        data: { ...b.body.data, [`c${i}`]: '1' },
      });
      expect(put.status).toBe(200);
      rv = put.body.metadata.resourceVersion;
    }
    // One naming an older version is, as ever.
    const stale = await c.api('PUT', `${path}/behind`, { ...created, data: { lost: '1' } });
    expect(stale.status).toBe(409);
    const stored = await c.ok<ConfigMap>('GET', `${path}/behind`);
    expect(stored.metadata.resourceVersion).toBe(rv);
    expect(Object.keys(stored.data ?? {}).sort()).toEqual(
      ['a', 'b', 'c'].flatMap((k) => [0, 1, 2, 3, 4].map((i) => `${k}${i}`)).sort(),
    );
    const after = await writeGuesses(c, 'configmaps');
    expect(after.guessed).toBeGreaterThan(before.guessed);
    expect(after.stale).toBeGreaterThan(before.stale);
  });
});
