import { parseArgs } from 'node:util';

import { createDatabase, PostgresServer } from '@app/dev-servers';
import { type AuditContext, EventStore, type ObjectKey, type StoredObject } from '@app/event-store';

import { measureCpu, reapedChildrenCpuSeconds } from './lib/cpu-time.js';
import { pgbench } from './lib/pgbench.js';
import { progress, table, writeResult } from './lib/report.js';
import { round, summarize } from './lib/stats.js';

export const description = 'event-store append throughput vs plain INSERTs, replay and verify rate';

const HELP = `npm run bench -- event-store [options]

Appends ~1 KiB objects through the event store at 1, 8 and 32 concurrent writers, and runs
pgbench's plain single-row INSERT commits of the same size on the same Postgres, side by side;
then builds a log of --events events and measures replay (rebuild + compare) and chain verify.

  --duration S     seconds per throughput cell (default 10)
  --events N       log size for the replay measurement (default 1000000)
  --writers LIST   comma-separated concurrency levels (default 1,8,32)
  --depth N        batches the writer may pipeline (default: the store's, 2)
  --help           this text`;

const ctx: AuditContext = {
  actor: { user: 'bench', groups: ['system:masters'] },
  verb: 'update',
  userAgent: 'wake-bench',
};

/** A ConfigMap whose JSON is about 1 KiB. */
function object(name: string, i: number): StoredObject {
  return {
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: {
      name,
      labels: { app: 'bench', shard: String(i % 16) },
      annotations: { note: 'event-store benchmark' },
    },
    data: { counter: String(i), payload: 'x'.repeat(800) },
  };
}

const PLAIN_SCRIPT = (payload: string) => `\\set r random(1, 1000000000)
INSERT INTO plain_events (name, object) VALUES ('cm-' || :r, '${payload}');
`;

interface Cell {
  writers: number;
  appendsPerSec: number;
  p50ms: number;
  p99ms: number;
  plainPerSec: number;
  plainP50ms: number;
  plainP99ms: number;
  ratio: number;
  meanBatch: number;
  /** CPU microseconds per append: this process (planning, hashing) and Postgres. */
  nodeCpuUs: number;
  postgresCpuUs: number;
  /** CPU microseconds per plain INSERT commit: the pgbench client and Postgres. */
  plainClientCpuUs: number;
  plainPostgresCpuUs: number;
}

async function appendLoad(store: EventStore, writers: number, seconds: number, tag: string) {
  const latencies: number[] = [];
  const before = store.batchStats();
  const deadline = performance.now() + seconds * 1000;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: writers }, async (_, w) => {
      const key: ObjectKey = { group: '', resource: 'configmaps', namespace: `bench-${tag}`, name: `w-${w}` };
      let rv = (await store.create(key, object(key.name, 0), { ...ctx, verb: 'create' })).resourceVersion;
      for (let i = 1; performance.now() < deadline; i++) {
        const t0 = performance.now();
        const res = await store.update(key, object(key.name, i), ctx, { resourceVersion: String(rv) });
        latencies.push(performance.now() - t0);
        rv = res.resourceVersion;
      }
    }),
  );
  const elapsed = (performance.now() - started) / 1000;
  const after = store.batchStats();
  return {
    elapsed,
    perSec: latencies.length / elapsed,
    latency: summarize(latencies),
    meanBatch: (after.mutations - before.mutations) / Math.max(1, after.batches - before.batches),
  };
}

async function buildLog(store: EventStore, events: number): Promise<void> {
  const writers = 256;
  const objects = 100_000;
  let done = (await store.head()).seq;
  const target = done + events;
  let next = 0;
  let lastReport = performance.now();
  await Promise.all(
    Array.from({ length: writers }, async () => {
      while (next < events) {
        const i = next++;
        const key: ObjectKey = {
          group: '',
          resource: 'configmaps',
          namespace: `log-${i % 10}`,
          name: `o-${i % objects}`,
        };
        if (i < objects) await store.create(key, object(key.name, i), { ...ctx, verb: 'create' });
        else await store.update(key, object(key.name, i), ctx);
        done++;
        if (performance.now() - lastReport > 5000) {
          lastReport = performance.now();
          progress(`log: ${done.toLocaleString()} / ${target.toLocaleString()} events`);
        }
      }
    }),
  );
}

export async function run(argv: string[]): Promise<void> {
  const { values } = parseArgs({
    args: argv,
    options: {
      duration: { type: 'string' },
      events: { type: 'string' },
      writers: { type: 'string' },
      depth: { type: 'string' },
      help: { type: 'boolean' },
    },
  });
  if (values.help) return void console.log(HELP);
  const seconds = Number(values.duration ?? 10);
  const events = Number(values.events ?? 1_000_000);
  const levels = (values.writers ?? '1,8,32').split(',').map(Number);

  progress('starting a throwaway Postgres 15 (fsync on, synchronous_commit on)');
  const pg = await PostgresServer.temporary('wake-bench-', { fsync: true });
  try {
    await createDatabase(pg.url(), 'bench');
    // Over the Unix socket, for the store and pgbench alike: a local install reaches Postgres so.
    const url = pg.socketUrl('bench');
    const store = await EventStore.open({
      url,
      poolSize: 4,
      ...(values.depth ? { pipelineDepth: Number(values.depth) } : {}),
    });
    const payload = JSON.stringify(object('cm-x', 1)).replace(/'/g, "''");
    await store.adminSql.unsafe(
      `CREATE TABLE plain_events (seq bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, name text NOT NULL, object jsonb NOT NULL, at timestamptz NOT NULL DEFAULT now())`,
    );
    await store.adminSql.unsafe('GRANT ALL ON plain_events TO PUBLIC');

    const cells: Cell[] = [];
    for (const writers of levels) {
      progress(`pgbench: plain single-row INSERT commits, ${writers} clients, ${seconds} s`);
      await store.adminSql`CHECKPOINT`;
      const pgbenchCpu0 = reapedChildrenCpuSeconds();
      const plainMeasured = await measureCpu(pg.pid, () =>
        pgbench(url, PLAIN_SCRIPT(payload), writers, seconds),
      );
      const plain = plainMeasured.result;
      const plainTx = plain.tps * seconds;
      const pgbenchCpu = reapedChildrenCpuSeconds() - pgbenchCpu0;
      progress(`event store: conditional updates, ${writers} writers, ${seconds} s`);
      await store.adminSql`CHECKPOINT`;
      const measured = await measureCpu(pg.pid, () => appendLoad(store, writers, seconds, String(writers)));
      const ours = measured.result;
      const appended = ours.perSec * ours.elapsed;
      cells.push({
        writers,
        appendsPerSec: Math.round(ours.perSec),
        p50ms: round(ours.latency.p50),
        p99ms: round(ours.latency.p99),
        plainPerSec: Math.round(plain.tps),
        plainP50ms: round(plain.latency.p50),
        plainP99ms: round(plain.latency.p99),
        ratio: round(ours.perSec / plain.tps),
        meanBatch: round(ours.meanBatch, 1),
        nodeCpuUs: Math.round((measured.selfSec * 1e6) / appended),
        postgresCpuUs: Math.round((measured.serverSec * 1e6) / appended),
        plainClientCpuUs: Math.round((pgbenchCpu * 1e6) / plainTx),
        plainPostgresCpuUs: Math.round((plainMeasured.serverSec * 1e6) / plainTx),
      });
    }

    progress(`building a log of ${events.toLocaleString()} events for replay`);
    const buildStart = performance.now();
    await buildLog(store, events);
    const buildSec = (performance.now() - buildStart) / 1000;
    const head = (await store.head()).seq;
    progress(`replaying ${head.toLocaleString()} events into a fresh schema and comparing`);
    const replay = await store.replay();
    progress(`verifying the hash chain over ${head.toLocaleString()} events`);
    let lastVerifyReport = performance.now();
    const verify = await store.verify({
      pageSize: 10_000,
      onProgress: (seq) => {
        if (performance.now() - lastVerifyReport > 5000) {
          lastVerifyReport = performance.now();
          progress(`verify: ${seq.toLocaleString()} / ${head.toLocaleString()}`);
        }
      },
    });
    await store.close();

    const result = {
      appends: cells,
      log: {
        events: head,
        buildEventsPerSec: Math.round(events / buildSec),
        largestBatch: store.batchStats().largestBatch,
      },
      replay: {
        events: replay.events,
        objects: replay.objects,
        identical: replay.identical,
        seconds: round(replay.ms / 1000),
        eventsPerSec: Math.round(replay.events / (replay.ms / 1000)),
        phases: replay.phases,
      },
      verify: {
        ok: verify.ok,
        events: verify.checked,
        seconds: round(verify.ms / 1000),
        eventsPerSec: Math.round(verify.checked / (verify.ms / 1000)),
      },
      goals: { ratioAt32: '>= 1.0', replayEventsPerSec: '>= 50000' },
    };
    const file = await writeResult('event-store', result);
    console.log(
      '\nAppends (~1 KiB objects, each a conditional update = one event) vs plain INSERT commits (pgbench)\n',
    );
    console.log(table(cells.map((c) => ({ ...c }))));
    console.log(
      'CPU µs per append (node = this process: load, planning, hashing; postgres) and per plain INSERT (pgbench client; postgres).',
    );
    console.log(
      `\nLog build: ${result.log.events.toLocaleString()} events at ${result.log.buildEventsPerSec.toLocaleString()}/s (256 writers, largest batch ${result.log.largestBatch})`,
    );
    console.log(
      `Replay:    ${replay.events.toLocaleString()} events -> ${replay.objects.toLocaleString()} objects in ${result.replay.seconds} s = ${result.replay.eventsPerSec.toLocaleString()} events/s, identical: ${replay.identical} (fold ${replay.phases.foldMs} ms, compare ${replay.phases.compareMs} ms; grammar ${replay.phases.grammarMs} ms beside them)`,
    );
    console.log(
      `Verify:    ${verify.checked.toLocaleString()} events in ${result.verify.seconds} s = ${result.verify.eventsPerSec.toLocaleString()} events/s, ok: ${verify.ok}`,
    );
    console.log(`\nwritten: ${file}`);
  } finally {
    await pg.destroy();
  }
}
