import { PostgresServer } from '@app/dev-servers';
import { EventStore } from '@app/event-store';
import { rmSync } from 'node:fs';
(globalThis as any).T = [];
rmSync('/tmp/dbg/pg', { recursive: true, force: true });
const pg = await new PostgresServer({ dataDir: '/tmp/dbg/pg' }).start();
const store = await EventStore.open({ url: pg.url() });
const ctx = { actor: { user: 'a', groups: [] }, verb: 'update' };
const obj = (i: number) => ({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'x', labels: { a: 'b' } }, data: { c: String(i), p: 'x'.repeat(800) } });
const keys = Array.from({ length: 32 }, (_, w) => ({ group: '', resource: 'configmaps', namespace: 'd', name: `w${w}` }));
const rvs = await Promise.all(keys.map(async (k) => (await store.create(k, obj(0), ctx)).resourceVersion));
const t0 = performance.now(); let n = 0;
await Promise.all(keys.map(async (k, w) => { let rv = rvs[w]; for (let i = 1; i < 200; i++) { rv = (await store.update(k, obj(i), ctx, { resourceVersion: String(rv) })).resourceVersion; n++; } }));
console.log('32 writers', Math.round(n / ((performance.now() - t0) / 1000)), '/s', store.batchStats());
(globalThis as any).T = [];
const t1 = performance.now(); n = 0;
let rv = (await store.get(keys[0]))!.resourceVersion;
for (let i = 1; i < 500; i++) { rv = (await store.update(keys[0], obj(i + 1000), ctx, { resourceVersion: String(rv) })).resourceVersion; n++; }
console.log('1 writer', Math.round(n / ((performance.now() - t1) / 1000)), '/s');
const agg: Record<string, number[]> = {}; for (const [k, v] of (globalThis as any).T) (agg[k] ??= []).push(v); for (const [k, v] of Object.entries(agg)) { v.sort((a, b) => a - b); console.log(k, v[Math.floor(v.length / 2)].toFixed(3)); }
await store.close(); await pg.stop();
