import { parseArgs } from 'node:util';

import { jetstreamManager } from '@nats-io/jetstream';
import { connect as natsConnect } from '@nats-io/transport-node';

import { Relay, WatchHub } from '@app/bus';
import { createDatabase, NatsServer, PostgresServer } from '@app/dev-servers';
import { type AuditContext, EventStore, type StoredObject } from '@app/event-store';

import { startRelayProcess } from './lib/relay-process.js';
import { progress, table, writeResult } from './lib/report.js';
import { round, summarize } from './lib/stats.js';

export const description = 'commit -> watch delivery latency, and relay catch-up rate over a backlog';

const HELP = `npm run bench -- event-bus [options]

Starts a throwaway Postgres and JetStream nats-server, an event store and a relay. Measures
commit -> watcher delivery latency (from the write's start to each watcher's receipt) at a
paced write rate with 1 and 100 watchers; then stops the relay, builds a backlog and measures
how fast a fresh relay publishes it.

  --rate N         writes per second during the latency runs (default 1000)
  --duration S     measured seconds per latency run, after one second of warm-up (default 10)
  --watchers LIST  comma-separated watcher counts (default 1,100)
  --backlog N      events in the catch-up backlog (default 1000000)
  --relay MODE     process (default: 'wake relay' in its own process, as wake up runs it) or
                   inline (in the benchmark's process)
  --help           this text`;

const ctx: AuditContext = { actor: { user: 'bench', groups: [] }, verb: 'update', userAgent: 'wake-bench' };

function object(name: string, i: number): StoredObject {
  return {
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: { name, labels: { app: 'bench' } },
    data: { counter: String(i), payload: 'x'.repeat(800) },
  };
}

export async function run(argv: string[]): Promise<void> {
  const { values } = parseArgs({
    args: argv,
    options: {
      rate: { type: 'string' },
      duration: { type: 'string' },
      watchers: { type: 'string' },
      backlog: { type: 'string' },
      relay: { type: 'string' },
      help: { type: 'boolean' },
    },
  });
  if (values.help) return void console.log(HELP);
  const rate = Number(values.rate ?? 1000);
  const seconds = Number(values.duration ?? 10);
  const levels = (values.watchers ?? '1,100').split(',').map(Number);
  const backlog = Number(values.backlog ?? 1_000_000);
  const inline = values.relay === 'inline';

  progress('starting a throwaway Postgres 15 and nats-server (JetStream)');
  const [pg, nats] = await Promise.all([
    PostgresServer.temporary('wake-bench-', { fsync: true }),
    NatsServer.temporary('wake-bench-nats-'),
  ]);
  const nc = await natsConnect({ servers: nats.url });
  const url = await createDatabase(pg.url(), 'bench');
  const store = await EventStore.open({ url, poolSize: 8 });
  const stream = { name: 'BENCH_EVENTS', maxMessages: Math.max(backlog, 100_000) + 100_000 };
  try {
    // The relay runs as `wake up` runs it: its own process (--relay inline: in this one).
    const startRelay = async () => {
      if (!inline) return startRelayProcess(url, nats.url, stream);
      const r = new Relay({ sql: store.sql, nats: nc, stream, pollMs: 100 });
      await r.start();
      return r;
    };
    let relay = await startRelay();

    const cells = [];
    for (const watchers of levels) {
      progress(`latency: ${rate} writes/s for ${seconds} s, ${watchers} watcher(s)`);
      const started = new Map<number, number>();
      // Receipts are matched to write start times afterwards: a watcher may see an event
      // before the writer's promise has resolved with its seq.
      const receipts: [number, number][] = [];
      const committed = new Map<number, number>();
      const hub = new WatchHub({ nats: nc, log: store.events, stream });
      await hub.start();
      const from = hub.head;
      // Watches in one process share one stream consumer, as the API server's do.
      const watches = Array.from({ length: watchers }, () => hub.watch({ after: from }));
      const consumers = watches.map(async (w) => {
        for await (const item of w) {
          if (item.kind !== 'event') continue;
          receipts.push([item.event.seq, performance.now()]);
        }
      });
      // The first second warms up (JIT, consumer creation) and is not measured.
      const warmup = rate;
      const total = Math.round(rate * seconds) + warmup;
      const t = performance.now();
      const writes: Promise<void>[] = [];
      for (let i = 0; i < total; i++) {
        const due = t + (i * 1000) / rate;
        const wait = due - performance.now();
        if (wait > 1) await new Promise((r) => setTimeout(r, wait));
        const t0 = performance.now();
        writes.push(
          store
            .update(
              { group: '', resource: 'configmaps', namespace: 'bench', name: `o-${i % 100}` },
              object(`o-${i % 100}`, i),
              ctx,
            )
            .catch(() =>
              store.create(
                { group: '', resource: 'configmaps', namespace: 'bench', name: `o-${i % 100}` },
                object(`o-${i % 100}`, i),
                { ...ctx, verb: 'create' },
              ),
            )
            .then((r) => {
              if (i < warmup) return;
              started.set(r.resourceVersion, t0);
              committed.set(r.resourceVersion, performance.now());
            }),
        );
      }
      await Promise.all(writes);
      const last = (await store.head()).seq;
      const deadline = performance.now() + 30_000;
      while (watches.some((w) => w.seen < last) && performance.now() < deadline)
        await new Promise((r) => setTimeout(r, 20));
      watches.forEach((w) => w.stop());
      await Promise.all(consumers);
      await hub.stop();
      const latencies = receipts.flatMap(([seq, at]) => {
        const t0 = started.get(seq);
        return t0 === undefined ? [] : [at - t0];
      });
      const s = summarize(latencies);
      // From the write's acknowledgement (the commit) to the watcher, where it came after it.
      const fromCommit = summarize(
        receipts.flatMap(([seq, at]) => {
          const t1 = committed.get(seq);
          return t1 === undefined ? [] : [Math.max(0, at - t1)];
        }),
      );
      cells.push({
        watchers,
        writesPerSec: Math.round(total / ((performance.now() - t) / 1000)),
        deliveries: s.count,
        p50ms: round(s.p50),
        p99ms: round(s.p99),
        maxms: round(s.max),
        commitToWatchP50ms: round(fromCommit.p50),
        commitToWatchP99ms: round(fromCommit.p99),
      });
    }

    progress('stopping the relay and building a backlog');
    await relay.stop();
    let next = 0;
    let lastReport = performance.now();
    await Promise.all(
      Array.from({ length: 256 }, async () => {
        while (next < backlog) {
          const i = next++;
          const name = `b-${i % 50_000}`;
          const key = { group: '', resource: 'configmaps', namespace: 'backlog', name };
          if (i < 50_000) await store.create(key, object(name, i), { ...ctx, verb: 'create' });
          else await store.update(key, object(name, i), ctx);
          if (performance.now() - lastReport > 5000) {
            lastReport = performance.now();
            progress(`backlog: ${i.toLocaleString()} / ${backlog.toLocaleString()}`);
          }
        }
      }),
    );
    const head = (await store.head()).seq;
    progress(`catching up ${head.toLocaleString()} events with a fresh relay`);
    const jsm = await jetstreamManager(nc);
    const streamLast = async () => (await jsm.streams.info(stream.name)).state.last_seq;
    const already = await streamLast();
    relay = await startRelay();
    // Timed from the moment the relay is active (process start-up excluded).
    const t0 = performance.now();
    let lastCatchUpReport = performance.now();
    for (let last = already; last < head; last = await streamLast()) {
      if (performance.now() - lastCatchUpReport > 5000) {
        lastCatchUpReport = performance.now();
        progress(`catch-up: ${last.toLocaleString()} / ${head.toLocaleString()}`);
      }
      await new Promise((r) => setTimeout(r, 20));
    }
    const catchUpSec = (performance.now() - t0) / 1000;
    const published = head - already;
    await relay.stop();

    const result = {
      latency: cells,
      relay: inline ? 'inline' : 'process',
      catchUp: {
        events: published,
        seconds: round(catchUpSec),
        eventsPerSec: Math.round(published / catchUpSec),
      },
      goals: { p99ms: '<= 10', catchUpEventsPerSec: '>= 20000' },
    };
    const file = await writeResult('event-bus', result);
    console.log(
      '\nWrite start -> watch delivery (p50/p99/max) and commit ack -> watch delivery latency (~1 KiB objects)\n',
    );
    console.log(table(cells));
    console.log(
      `\nRelay catch-up: ${published.toLocaleString()} events in ${result.catchUp.seconds} s = ${result.catchUp.eventsPerSec.toLocaleString()} events/s`,
    );
    console.log(`\nwritten: ${file}`);
  } finally {
    await store.close();
    await nc.close();
    await Promise.all([pg.destroy(), nats.destroy()]);
  }
}
