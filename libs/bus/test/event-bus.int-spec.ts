import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { spawn, type ChildProcess } from 'node:child_process';
import { resolve } from 'node:path';

import { type ConsumerMessages, DeliverPolicy, jetstream, jetstreamManager } from '@nats-io/jetstream';
import { connect as natsConnect, type NatsConnection } from '@nats-io/transport-node';

import {
  eventFilter,
  eventSubject,
  EventWatch,
  HASH_HEADER,
  type HubWatch,
  Relay,
  subjectMatches,
  WATCH_PULL_BATCH,
  watchConsumerOptions,
  WatchHub,
  type WatchHubOptions,
  type WatchItem,
  WatchTooSlow,
} from '@app/bus';
import { checkWatch, type WatchRecord } from '@app/checkers';
import { NatsServer, waitFor } from '@app/dev-servers';
import { type AuditContext, connectPostgres, EventStore, type StoredEvent } from '@app/event-store';
import { testDatabase, type TestDatabase } from '@app/testing';

import { runMixedLoad } from '../../event-store/test/mixed-load.js';
import { wholeLog } from '../../event-store/test/store-fixture.js';

const ctx: AuditContext = { actor: { user: 'bus-test', groups: [] }, verb: 'create' };

/** A raw watch's events, or a hub watch's items, as the items the checker reads. */
async function* watchItems(watch: EventWatch | HubWatch): AsyncGenerator<WatchItem> {
  if (!(watch instanceof EventWatch)) return yield* watch;
  for await (const bus of watch) yield { kind: 'event', event: bus.event };
}

/** Runs a watch until it has seen the log up to `until`, recording what it delivered. */
async function record(
  watch: EventWatch | HubWatch,
  until: () => number,
  limit?: number,
): Promise<WatchRecord[]> {
  const out: WatchRecord[] = [];
  let timedOut = false;
  // Bounded: a watch that stops delivering is stopped, and the test fails saying where it was.
  const timer = setTimeout(() => {
    timedOut = true;
    watch.stop();
  }, 60_000);
  try {
    for await (const item of watchItems(watch)) {
      out.push(
        item.kind === 'event' ? { kind: 'event', seq: item.event.seq } : { kind: 'bookmark', seq: item.seq },
      );
      if (watch.seen >= until() || (limit && out.filter((o) => o.kind === 'event').length >= limit)) break;
    }
  } finally {
    clearTimeout(timer);
    watch.stop();
  }
  if (timedOut) throw new Error(`watch stuck at seq ${watch.seen}, wanted ${until()}`);
  return out;
}

/** `real`'s first `n` messages, then none until closed: a consumer that stalls without failing. */
function stallingAfter(real: ConsumerMessages, n: number): ConsumerMessages {
  let closed!: () => void;
  const whenClosed = new Promise<void>((r) => (closed = r));
  const stalling = {
    async *[Symbol.asyncIterator]() {
      let delivered = 0;
      for await (const m of real) {
        if (delivered++ >= n) return void (await whenClosed);
        yield m;
      }
    },
    close: async () => {
      closed();
      await real.close();
    },
  };
  return stalling as unknown as ConsumerMessages;
}

/** The stream's sequences and whether each message is the log's event at that seq. */
async function streamMatchesLog(nats: NatsConnection, stream: string, log: StoredEvent[]) {
  const jsm = await jetstreamManager(nats);
  const { state } = await jsm.streams.info(stream);
  const problems: string[] = [];
  for (let seq = state.first_seq; seq <= state.last_seq; seq++) {
    const m = await jsm.streams.getMessage(stream, { seq });
    if (m?.header.get(HASH_HEADER) !== log[seq - 1]?.hash)
      problems.push(`stream seq ${seq} is not event ${seq}`);
  }
  return { first: state.first_seq, last: state.last_seq, messages: state.messages, problems };
}

describe('event bus: relay and watch on real Postgres and nats-server', () => {
  let db: TestDatabase;
  let store: EventStore;
  let nats: NatsServer;
  let nc: NatsConnection;
  const stream = { name: 'BUS_TEST', maxMessages: 400 };

  beforeAll(async () => {
    db = await testDatabase('bus');
    store = await EventStore.open({ url: db.url });
    nats = await NatsServer.temporary('wake-bus-test-');
    nc = await natsConnect({ servers: nats.url, maxReconnectAttempts: -1, reconnectTimeWait: 100 });
  });
  afterAll(async () => {
    await nc?.close();
    await nats?.destroy();
    await store?.close();
    await db?.drop();
  });

  /** The real `wake relay` command in its own process, so the test can kill -9 it. */
  function relayProcess(): { child: ChildProcess; active: Promise<void> } {
    const root = resolve(import.meta.dirname, '../../..');
    const child = spawn(
      process.execPath,
      [
        '--import',
        'tsx',
        resolve(root, 'apps/cli/src/main.ts'),
        'relay',
        '--database-url',
        db.url,
        '--nats-url',
        nats.url,
        '--stream',
        stream.name,
        '--max-messages',
        String(stream.maxMessages),
      ],
      { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let stderr = '';
    child.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
    const active = new Promise<void>((resolveActive, reject) => {
      child.stdout?.on('data', (d: Buffer) => d.toString().includes('relay active') && resolveActive());
      child.once('exit', (code) => reject(new Error(`relay process exited ${code}: ${stderr}`)));
    });
    return { child, active };
  }

  it('relays under 32 writers, survives kill -9 of the relay, and every watcher checks out', async () => {
    let relay = relayProcess();
    await relay.active;
    // Unfiltered watches are consumers of their own; filtered ones are a hub's (which filters).
    const hub = new WatchHub({ nats: nc, log: store.events, stream });
    await hub.start();
    const seeded = await store.create(
      { group: '', resource: 'configmaps', namespace: 'load', name: 'seed' },
      { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'seed' } },
      ctx,
    );
    const watches: { after: number; filter?: string; records: Promise<WatchRecord[]> }[] = [];
    let finalHead = Number.MAX_SAFE_INTEGER;
    const startWatch = (after: number, filter?: string, limit?: number) => {
      const watch = filter
        ? hub.watch({ after, filter })
        : new EventWatch({ nats: nc, log: store.events, stream, after, retryMs: 50 });
      const w = { after, filter, records: record(watch, () => finalHead, limit) };
      watches.push(w);
      return w;
    };
    startWatch(0); // before the stream's hot tail once the load is done: served from the log
    startWatch(seeded.resourceVersion, eventFilter({ resource: 'configmaps', group: '', namespace: 'load' }));

    const load = runMixedLoad(store, { writers: 32, opsPerWriter: 30, keys: 40, seed: 99 });
    // Kill the relay mid-load, then start another.
    await waitFor('some load', async () => ((await store.head()).seq > 300 ? true : undefined), {
      timeoutMs: 60_000,
    });
    const midway = (await store.head()).seq;
    startWatch(
      midway - 5,
      eventFilter({ resource: 'configmaps', group: '', namespace: 'load', name: 'obj-3' }),
    );
    const restarted = startWatch(midway - 50, undefined, 40); // stops after 40 events; resumed below
    relay.child.kill('SIGKILL');
    await new Promise((r) => relay.child.once('exit', r));
    relay = relayProcess();
    await relay.active;
    await load;
    finalHead = (await store.head()).seq;

    // Resume the restarted watch from the last seq it delivered.
    const firstPart = await restarted.records;
    const lastSeen = Math.max(...firstPart.map((r) => r.seq));
    const resumed = new EventWatch({ nats: nc, log: store.events, stream, after: lastSeen, retryMs: 50 });
    const secondPart = await record(resumed, () => finalHead);

    const log = await wholeLog(store);
    const matching = (filter?: string) =>
      log.filter((e) => !filter || subjectMatches(filter, eventSubject(e))).map((e) => e.seq);
    for (const w of watches) {
      if (w === restarted) continue;
      expect(
        checkWatch({ after: w.after, delivered: await w.records, matching: matching(w.filter) }),
      ).toEqual([]);
    }
    expect(
      checkWatch({ after: restarted.after, delivered: [...firstPart, ...secondPart], matching: matching() }),
    ).toEqual([]);

    await waitFor('the relay to catch up', async () => {
      const s = await streamMatchesLog(nc, stream.name, log);
      return s.last === finalHead ? s : undefined;
    });
    const s = await streamMatchesLog(nc, stream.name, log);
    expect(s.problems).toEqual([]);
    expect(s.messages).toBe(stream.maxMessages);
    expect(watches[0].after).toBeLessThan(s.first); // that watcher really started before the tail
    await hub.stop();
    relay.child.kill('SIGTERM');
    await new Promise((r) => relay.child.once('exit', r));
  });

  it('rebuilds a wiped stream from the log; watchers converge without a gap or duplicate', async () => {
    // More events than the hot tail, so the rebuilt stream must start past seq 1 (purge-to-seq).
    await Promise.all(
      Array.from({ length: stream.maxMessages + 50 }, (_, i) =>
        store.create(
          { group: '', resource: 'configmaps', namespace: 'pre-wipe', name: `p-${i}` },
          { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: `p-${i}` } },
          ctx,
        ),
      ),
    );
    const relay = new Relay({ sql: store.sql, nats: nc, stream, pollMs: 50 });
    await relay.start();
    try {
      const before = (await store.head()).seq;
      await relay.caughtUp(before);
      const watch = new EventWatch({
        nats: nc,
        log: store.events,
        stream,
        after: Math.max(0, before - 10),
        retryMs: 50,
      });
      let target = Number.MAX_SAFE_INTEGER;
      const records = record(watch, () => target);
      await nats.stop();
      await nats.wipeStore();
      const during = await Promise.all(
        Array.from({ length: 20 }, (_, i) =>
          store.create(
            { group: '', resource: 'configmaps', namespace: 'wiped', name: `w-${i}` },
            { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: `w-${i}` } },
            ctx,
          ),
        ),
      );
      await nats.start();
      target = Math.max(...during.map((d) => d.resourceVersion));
      await relay.caughtUp(target);
      const log = await wholeLog(store);
      expect(
        checkWatch({
          after: Math.max(0, before - 10),
          delivered: await records,
          matching: log.map((e) => e.seq),
        }),
      ).toEqual([]);
      const s = await streamMatchesLog(nc, stream.name, log);
      expect(s.problems).toEqual([]);
      expect(s.last).toBe(target);
      // Seeded at the hot tail, past seq 1: stream sequence = event seq.
      expect(s.first).toBe(target - stream.maxMessages + 1);
      expect(s.first).toBeGreaterThan(1);
    } finally {
      await relay.stop();
    }
  });

  it('keeps one relay active: a second waits on the lock and takes over when the first stops', async () => {
    const first = new Relay({ sql: store.sql, nats: nc, stream, pollMs: 50 });
    const second = new Relay({ sql: store.sql, nats: nc, stream, pollMs: 50 });
    await first.start();
    let secondActive = false;
    const secondStarted = second.start().then(() => (secondActive = true));
    const key = (name: string) => ({ group: '', resource: 'configmaps', namespace: 'standby', name });
    const obj = (name: string) => ({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name } });
    const a = await store.create(key('a'), obj('a'), ctx);
    await first.caughtUp(a.resourceVersion);
    // Let the standby poll the lock a few times (every 50 ms): it must still be waiting.
    await new Promise((r) => setTimeout(r, 200));
    expect(secondActive).toBe(false);
    expect(second.stats.published).toBe(0);
    await first.stop();
    await secondStarted;
    const b = await store.create(key('b'), obj('b'), ctx);
    await second.caughtUp(b.resourceVersion);
    const s = await streamMatchesLog(nc, stream.name, await wholeLog(store));
    expect(s.problems).toEqual([]);
    expect(s.last).toBe(b.resourceVersion);
    await second.stop();
  });

  it('halts, publishing nothing, on a stream that is ahead of its log or belongs to another log', async () => {
    // Its own nats-server: a second stream on ev.> would overlap the suite's.
    const server = await NatsServer.temporary('wake-bus-halt-');
    const conn = await natsConnect({ servers: server.url });
    const haltStream = { name: 'BUS_HALT', maxMessages: 10_000 };
    const lastInStream = async () =>
      (await (await jetstreamManager(conn)).streams.info(haltStream.name)).state.last_seq;
    const cm = (name: string) => ({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name } });
    const fill = (target: EventStore, n: number, ns: string) =>
      Promise.all(
        Array.from({ length: n }, (_, i) =>
          target.create(
            { group: '', resource: 'configmaps', namespace: ns, name: `h-${i}` },
            cm(`h-${i}`),
            ctx,
          ),
        ),
      );
    const otherDb = await testDatabase('bus-other');
    const other = await EventStore.open({ url: otherDb.url });
    const relays: Relay[] = [];
    const relayOn = (target: EventStore, onHalt?: (e: Error) => void) => {
      const relay = new Relay({ sql: target.sql, nats: conn, stream: haltStream, pollMs: 50, onHalt });
      relays.push(relay);
      return relay;
    };
    const runOn = async (target: EventStore) => {
      let halted: Error | undefined;
      const relay = relayOn(target, (e) => (halted = e));
      await relay.start();
      await waitFor('the relay to halt', () => halted);
      await relay.stop();
      expect(relay.stats.published).toBe(0);
      return halted;
    };
    try {
      // Fill the stream from this log.
      await fill(store, 20, 'halt-source');
      const source = relayOn(store);
      await source.start();
      await source.caughtUp((await store.head()).seq);
      await source.stop();
      const streamLast = await lastInStream();
      // A shorter log: the stream holds seqs the log has not reached.
      await fill(other, 5, 'other');
      expect((await runOn(other))?.message).toMatch(/beyond the log head/);
      // As long a log, with other events: the stream's last message is not this log's event.
      await fill(other, streamLast, 'more');
      expect((await runOn(other))?.message).toMatch(/does not match the log's event/);
      expect(await lastInStream()).toBe(streamLast);
    } finally {
      await Promise.all(relays.map((r) => r.stop()));
      await other.close();
      await otherDb.drop();
      await conn.close();
      await server.destroy();
    }
  });

  /** Starts a relay, writes `count` ConfigMaps in `namespace` and waits until they are in the stream. */
  async function relayedWrites(namespace: string, count: number) {
    const relay = new Relay({ sql: store.sql, nats: nc, stream, pollMs: 50 });
    await relay.start();
    const from = (await store.head()).seq;
    for (let i = 0; i < count; i++)
      await store.create(
        { group: '', resource: 'configmaps', namespace, name: `cm-${i}` },
        { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: `cm-${i}` } },
        ctx,
      );
    const head = (await store.head()).seq;
    await relay.caughtUp(head);
    return { relay, from, head };
  }

  /**
   * A hub with these options over a relay of its own, and a watch of `namespace`'s ConfigMaps
   * from the log's head, for `use`; all stopped after.
   */
  async function withConfigMapWatch(
    namespace: string,
    options: Pick<WatchHubOptions, 'dispatchIntervalMs' | 'maxQueue'>,
    use: (watch: HubWatch) => Promise<void>,
  ): Promise<void> {
    const { relay, head } = await relayedWrites(namespace, 0);
    const hub = new WatchHub({ nats: nc, log: store.events, stream, ...options });
    try {
      await hub.start();
      await use(
        hub.watch({ after: head, filter: eventFilter({ resource: 'configmaps', group: '', namespace }) }),
      );
    } finally {
      await hub.stop();
      await relay.stop();
    }
  }

  /** `count` ConfigMaps created in `namespace` all at once. */
  function concurrentCreates(namespace: string, count: number) {
    return Promise.all(
      Array.from({ length: count }, (_, i) =>
        store.create(
          { group: '', resource: 'configmaps', namespace, name: `cm-${i}` },
          { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: `cm-${i}` } },
          ctx,
        ),
      ),
    );
  }

  /** A watch of the bus test stream from `after` with a short stall check, reporting its troubles. */
  function stallCheckedWatch(
    after: number,
    stallMs: number,
    troubles: Error[],
    openMessages?: (after: number) => Promise<ConsumerMessages>,
  ): EventWatch {
    return new EventWatch({
      nats: nc,
      stream,
      after,
      stallMs,
      onTrouble: (e) => troubles.push(e),
      openMessages,
    });
  }

  it('reopens a consumer that stops delivering while the stream is ahead of it', async () => {
    const { relay, from, head } = await relayedWrites('stall', 20);
    try {
      // The first consumer delivers 5 messages, then nothing: as a client library's ordered
      // consumer was seen to do under load, neither failing nor pulling. No log to fall back on.
      const opened: number[] = [];
      const troubles: Error[] = [];
      const js = jetstream(nc);
      const watch = stallCheckedWatch(from, 300, troubles, async (after) => {
        opened.push(after);
        // The consumer EventWatch itself opens, wrapped.
        const consumer = await js.consumers.get(stream.name, watchConsumerOptions(after));
        const real = await consumer.consume({ max_messages: WATCH_PULL_BATCH });
        return opened.length === 1 ? stallingAfter(real, 5) : real;
      });
      const records = await record(watch, () => head);
      expect(records.filter((r) => r.kind === 'event').map((r) => r.seq)).toEqual(
        Array.from({ length: head - from }, (_, i) => from + 1 + i),
      );
      expect(opened).toEqual([from, from + 5]);
      expect(troubles.map((e) => e.message).join('\n')).toMatch(/delivered nothing for 300 ms at seq \d+/);
    } finally {
      await relay.stop();
    }
  });

  it('does not take a slow reader for a stalled consumer', async () => {
    const { relay, from } = await relayedWrites('slow', 3);
    try {
      const troubles: Error[] = [];
      const watch = stallCheckedWatch(from, 200, troubles);
      const seqs: number[] = [];
      for await (const event of watch) {
        seqs.push(event.seq);
        // Four stall periods per item, spent here rather than waiting for the consumer.
        await new Promise((r) => setTimeout(r, 800));
        if (seqs.length === 3) break;
      }
      watch.stop();
      expect(seqs).toEqual([from + 1, from + 2, from + 3]);
      expect(troubles).toEqual([]);
    } finally {
      await relay.stop();
    }
  });

  it('carries a 3 MiB object to a watcher', async () => {
    const relay = new Relay({ sql: store.sql, nats: nc, stream, pollMs: 50 });
    await relay.start();
    try {
      const from = (await store.head()).seq;
      const big = 'x'.repeat(3 * 1024 * 1024);
      const created = await store.create(
        { group: '', resource: 'configmaps', namespace: 'big', name: 'big' },
        { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'big' }, data: { big } },
        ctx,
      );
      const watch = new EventWatch({ nats: nc, log: store.events, stream, after: from });
      for await (const event of watch) {
        if (event.seq !== created.resourceVersion) continue;
        expect((event.event.object?.data as { big: string }).big).toHaveLength(big.length);
        break;
      }
      watch.stop();
      // It came over the stream, not from the log.
      const m = await (
        await jetstreamManager(nc)
      ).streams.getMessage(stream.name, { seq: created.resourceVersion });
      expect(m?.data.length).toBeGreaterThan(big.length);
    } finally {
      await relay.stop();
    }
  });

  it('serves 100 watches from one hub at random RVs (ring and log catch-up, filters, a restart, a slow reader)', async () => {
    const relay = new Relay({ sql: store.sql, nats: nc, stream, pollMs: 50 });
    await relay.start();
    const hub = new WatchHub({ nats: nc, log: store.events, stream, bufferSize: 150, maxQueue: 50 });
    try {
      await relay.caughtUp((await store.head()).seq);
      await hub.start();
      const start = hub.head;
      let finalHead = Number.MAX_SAFE_INTEGER;
      const rand = (n: number) => Math.floor(Math.random() * n);
      const watches: { after: number; filter?: string; records: Promise<WatchRecord[]> }[] = [];
      const filters = [
        undefined,
        eventFilter({ resource: 'configmaps', group: '', namespace: 'hub' }),
        eventFilter({ resource: 'configmaps', group: '', namespace: 'hub', name: 'obj-1' }),
      ];
      const open = (after: number, filter?: string) => {
        const w = hub.watch({ after, filter });
        watches.push({ after, filter, records: record(w, () => finalHead) });
      };
      // Before the ring (served from the log), inside it, and at the head.
      for (let i = 0; i < 30; i++) open(Math.max(0, start - rand(1000)), filters[i % 3]);
      // A reader that never reads falls behind and is ended; it resumes from where it was.
      const slow = hub.watch({ after: start });
      const slowIt = slow[Symbol.asyncIterator]();
      // Asked for its first event now: it joins the hub live, then stops reading.
      const firstSlowAsked = slowIt.next();
      const load = runMixedLoad(store, {
        writers: 32,
        opsPerWriter: 25,
        keys: 30,
        seed: 5,
        namespace: 'hub',
      });
      for (let i = 0; i < 69; i++) {
        await new Promise((r) => setTimeout(r, 5));
        open(Math.max(0, hub.head - rand(300)), filters[i % 3]);
      }
      const firstSlow = await firstSlowAsked;
      await load;
      finalHead = (await store.head()).seq;
      await relay.caughtUp(finalHead);
      const slowRecords: WatchRecord[] = [];
      if (!firstSlow.done && firstSlow.value.kind === 'event')
        slowRecords.push({ kind: 'event', seq: firstSlow.value.event.seq });
      let ended: unknown;
      const bound = setTimeout(() => slow.stop(), 60_000);
      try {
        for (let r = await slowIt.next(); !r.done; r = await slowIt.next())
          if (r.value.kind === 'event') slowRecords.push({ kind: 'event', seq: r.value.event.seq });
      } catch (e) {
        ended = e;
      } finally {
        clearTimeout(bound);
      }
      expect(ended).toBeInstanceOf(WatchTooSlow);
      // `ended` tells a reader busy elsewhere the same: the cut-off's error, or nothing for a stop.
      expect(await slow.ended).toBe(ended);
      const idle = hub.watch({ after: finalHead });
      idle.stop();
      expect(await idle.ended).toBeUndefined();
      const resumed = await record(hub.watch({ after: slow.seen }), () => finalHead);
      const slowAfter = slowRecords.length ? slowRecords[0].seq - 1 : slow.seen;

      const log = await wholeLog(store);
      const matching = (filter?: string) =>
        log.filter((e) => !filter || subjectMatches(filter, eventSubject(e))).map((e) => e.seq);
      for (const w of watches)
        expect(
          checkWatch({ after: w.after, delivered: await w.records, matching: matching(w.filter) }),
        ).toEqual([]);
      expect(watches).toHaveLength(99);
      expect(
        checkWatch({ after: slowAfter, delivered: [...slowRecords, ...resumed], matching: matching() }),
      ).toEqual([]);
    } finally {
      await hub.stop();
      await relay.stop();
    }
  });

  it('serves the watches of a hub without a log: from its first watch, back for an earlier one, ended by WatchGap when the stream cannot serve them, afresh after', async () => {
    const written = await relayedWrites('feed', 30);
    const from = written.from;
    let { relay, head } = written;
    // A process's informers: no log behind the hub, a small ring.
    const hub = new WatchHub({ nats: nc, stream, bufferSize: 40 });
    const events = (records: WatchRecord[]) => records.filter((r) => r.kind === 'event').map((r) => r.seq);
    const range = (a: number, b: number) => Array.from({ length: b - a + 1 }, (_, i) => a + i);
    const write = async (names: string[]) => {
      for (const name of names)
        await store.create(
          { group: '', resource: 'configmaps', namespace: 'feed', name },
          { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name } },
          ctx,
        );
      const last = (await store.head()).seq;
      await relay.caughtUp(last);
      return last;
    };
    const failure = async (watch: HubWatch) => {
      try {
        for await (const item of watch) void item;
      } catch (e) {
        return e as Error;
      }
      return undefined;
    };
    try {
      let until = Number.MAX_SAFE_INTEGER;
      const first = hub.watch({ after: from + 15 });
      const firstRecords = record(first, () => until);
      await waitFor('the first watch at the head', () => (first.seen >= head ? true : undefined), {
        timeoutMs: 30_000,
      });
      // Listed earlier than the hub has got to: the hub moves back; the first watch sees nothing twice.
      const earlier = hub.watch({ after: from, filter: eventFilter({ resource: 'configmaps', group: '' }) });
      const earlierRecords = record(earlier, () => until);
      // Nobody else writes: the watches know where the writes will end before they are made.
      until = head + 3;
      expect(await write(['more-1', 'more-2', 'more-3'])).toBe(until);
      expect(events(await firstRecords)).toEqual(range(from + 16, until));
      expect(events(await earlierRecords)).toEqual(range(from + 1, until));

      // The stream goes away: with no log to read instead, the hub ends its watches (informers list again).
      const lost = failure(hub.watch({ after: until }));
      await relay.stop();
      await (await jetstreamManager(nc)).streams.delete(stream.name);
      expect((await lost)?.name).toBe('WatchGap');
      // The next watch starts the hub afresh on the stream the relay rebuilds.
      relay = new Relay({ sql: store.sql, nats: nc, stream, pollMs: 50 });
      await relay.start();
      head = until;
      await relay.caughtUp(head);
      const again = hub.watch({ after: head });
      until = head + 2;
      const againRecords = record(again, () => until);
      expect(await write(['after-1', 'after-2'])).toBe(until);
      expect(events(await againRecords)).toEqual([head + 1, head + 2]);

      // A watch that waits while the ring turns over has nothing to catch up from.
      const behind = hub.watch({ after: until });
      const last = await write(Array.from({ length: 45 }, (_, i) => `turn-${i}`));
      await waitFor('the hub at the head', () => (hub.head >= last ? true : undefined), {
        timeoutMs: 30_000,
      });
      const gap = await failure(behind);
      expect(gap?.name).toBe('WatchGap');
      expect(gap?.message).toContain('left the watch buffer');
    } finally {
      await hub.stop();
      await relay.stop();
    }
  });

  it('says a hub watch has seen only what its reader was given: a bookmark or a resume from it misses nothing', async () => {
    const { relay, head } = await relayedWrites('seen', 0);
    const hub = new WatchHub({ nats: nc, log: store.events, stream });
    const write = async (namespace: string, name: string) =>
      (
        await store.create(
          { group: '', resource: 'configmaps', namespace, name },
          { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name } },
          ctx,
        )
      ).resourceVersion;
    const atHead = (seq: number) =>
      waitFor('the hub at the head', () => (hub.head >= seq ? true : undefined), { timeoutMs: 30_000 });
    try {
      await hub.start();
      const watch = hub.watch({
        after: head,
        filter: eventFilter({ resource: 'configmaps', group: '', namespace: 'seen' }),
      });
      const items = watch[Symbol.asyncIterator]();
      const step = async (next = items.next()) => {
        const item = (await next).value as WatchItem;
        return { seq: item.kind === 'event' ? item.event.seq : item.seq, kind: item.kind, seen: watch.seen };
      };
      // Written before the reader asks: it catches up on all of them (and the filtered-out
      // last one) in one batch, yet has seen each only once it has it.
      const early = [await write('seen', 'a'), await write('seen', 'b'), await write('seen', 'c')];
      const skipped = await write('other', 'x');
      await atHead(skipped);
      expect([await step(), await step(), await step(), await step()]).toEqual([
        { kind: 'event', seq: early[0], seen: early[0] },
        { kind: 'event', seq: early[1], seen: early[1] },
        { kind: 'event', seq: early[2], seen: skipped },
        { kind: 'bookmark', seq: skipped, seen: skipped },
      ]);
      // Live: the reader waits, both events are queued for it, it has seen the first only.
      const waiting = items.next();
      const late = [await write('seen', 'd'), await write('seen', 'e')];
      await atHead(late[1]);
      expect([await step(waiting), await step()]).toEqual([
        { kind: 'event', seq: late[0], seen: late[0] },
        { kind: 'event', seq: late[1], seen: late[1] },
      ]);
    } finally {
      await hub.stop();
      await relay.stop();
    }
  });

  it('hands a steady stream to its watches at most once per dispatch interval, everything that came meanwhile together', async () => {
    const intervalMs = 1000;
    const count = 20;
    await withConfigMapWatch('paced', { dispatchIntervalMs: intervalMs }, async (watch) => {
      const writes = concurrentCreates('paced', count);
      const batches: { at: number; seqs: number[] }[] = [];
      let events = 0;
      for await (const batch of watch.batches()) {
        const seqs = batch.flatMap((item) => (item.kind === 'event' ? [item.event.seq] : []));
        if (seqs.length === 0) continue;
        batches.push({ at: performance.now(), seqs });
        events += seqs.length;
        if (events >= count) break;
      }
      watch.stop();
      await writes;
      // Every event once, in order; taken in fewer hand-overs than events, each at least an
      // interval after the one before (a timer may fire up to a millisecond early by this clock).
      const seqs = batches.flatMap((b) => b.seqs);
      expect(seqs).toEqual([...seqs].sort((a, b) => a - b));
      expect(new Set(seqs).size).toBe(count);
      expect(batches.length).toBeLessThan(count);
      for (let i = 1; i < batches.length; i++)
        expect(batches[i].at - batches[i - 1].at).toBeGreaterThanOrEqual(intervalMs - 2);
    });
  });

  it('passes over a watch stopped while it waits for a hand-over; the others get every burst whole', async () => {
    const { relay, head } = await relayedWrites('due', 0);
    // Long enough that the second write's hand-over is still to come when the watch stops.
    const hub = new WatchHub({ nats: nc, log: store.events, stream, dispatchIntervalMs: 1_000 });
    const write = async (name: string) =>
      (
        await store.create(
          { group: '', resource: 'configmaps', namespace: 'due', name },
          { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name } },
          ctx,
        )
      ).resourceVersion;
    const seqsOf = (batch: WatchItem[]) =>
      batch.flatMap((item) => (item.kind === 'event' ? [item.event.seq] : []));
    try {
      await hub.start();
      const filter = eventFilter({ resource: 'configmaps', group: '', namespace: 'due' });
      const stopped = hub.watch({ after: head, filter });
      const kept = hub.watch({ after: head, filter });
      // Each burst's seqs, as it is handed over.
      const keptBursts = (async () => {
        const seen: number[][] = [];
        for await (const batch of kept.batches()) {
          seen.push(seqsOf(batch));
          if (seen.flat().length >= 3) return seen;
        }
        return seen;
      })();
      const stoppedBatches = stopped.batches()[Symbol.asyncIterator]();
      const first = await write('a');
      expect(seqsOf((await stoppedBatches.next()).value as WatchItem[])).toEqual([first]);
      const second = await write('b');
      await waitFor('the hub at the second write', () => (hub.head >= second ? true : undefined), {
        timeoutMs: 30_000,
      });
      stopped.stop();
      const third = await write('c');
      const bursts = await keptBursts;
      expect(bursts.flat()).toEqual([first, second, third]);
      // What was queued for the stopped watch before it stopped is still its reader's; then it ends.
      const rest: number[] = [];
      for (let r = await stoppedBatches.next(); !r.done; r = await stoppedBatches.next())
        rest.push(...seqsOf(r.value as WatchItem[]));
      expect(rest.filter((seq) => seq !== second)).toEqual([]);
    } finally {
      await hub.stop();
      await relay.stop();
    }
  });

  it('reads a steady stream of single appends at most once per read interval, and relays every one in order', async () => {
    // No poll: only NOTIFYs wake this relay, so every read it counts is one a NOTIFY asked for.
    const relay = new Relay({ sql: store.sql, nats: nc, stream, pollMs: 60_000, readIntervalMs: 1_000 });
    await relay.start();
    try {
      await relay.caughtUp((await store.head()).seq);
      const readsBefore = relay.stats.reads;
      const count = 20;
      // One append at a time, each its own transaction and NOTIFY, spread over about half a second.
      for (let i = 0; i < count; i++) {
        await store.create(
          { group: '', resource: 'configmaps', namespace: 'read-paced', name: `cm-${i}` },
          { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: `cm-${i}` } },
          ctx,
        );
        await new Promise((r) => setTimeout(r, 25));
      }
      await relay.caughtUp((await store.head()).seq);
      // Read on every NOTIFY, this is about 20; paced, the NOTIFYs of one interval share a read.
      expect(relay.stats.reads - readsBefore).toBeLessThanOrEqual(3);
      const check = await streamMatchesLog(nc, stream.name, await wholeLog(store));
      expect(check.problems).toEqual([]);
      expect(check.last).toBe((await store.head()).seq);
    } finally {
      await relay.stop();
    }
  });

  it('still reads at every poll when NOTIFYs come faster than its read interval', async () => {
    // A read interval far longer than the poll: a NOTIFY that waits for the interval must not
    // stretch the poll it interrupts, or a steady stream of commits would wait a minute.
    const relay = new Relay({ sql: store.sql, nats: nc, stream, pollMs: 50, readIntervalMs: 60_000 });
    await relay.start();
    try {
      await relay.caughtUp((await store.head()).seq);
      for (let i = 0; i < 10; i++)
        await store.create(
          { group: '', resource: 'configmaps', namespace: 'poll-bound', name: `cm-${i}` },
          { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: `cm-${i}` } },
          ctx,
        );
      // Half the read interval: only the poll can get it there.
      await relay.caughtUp((await store.head()).seq, 30_000);
    } finally {
      await relay.stop();
    }
  });

  it('backs off after a failed resync however many NOTIFYs come meanwhile', async () => {
    // A relay whose role may LISTEN and take its lock but not read the log: every resync fails
    // at once, with a 200 ms backoff (pollMs is far longer), while commits keep notifying it.
    await store.adminSql.unsafe(
      `DO $$ BEGIN CREATE ROLE wake_bus_no_log NOLOGIN; EXCEPTION WHEN duplicate_object THEN NULL; END $$`,
    );
    const denied = connectPostgres(db.url, { max: 3, connection: { role: 'wake_bus_no_log' } });
    const relay = new Relay({ sql: denied, nats: nc, stream, pollMs: 60_000, readIntervalMs: 0 });
    await relay.start();
    try {
      await waitFor('a failed resync', () => (relay.stats.resyncs > 0 ? true : undefined));
      const resyncsBefore = relay.stats.resyncs;
      const started = performance.now();
      for (let i = 0; i < 40; i++) {
        await store.create(
          { group: '', resource: 'configmaps', namespace: 'resync-backoff', name: `cm-${i}` },
          { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: `cm-${i}` } },
          ctx,
        );
        await new Promise((r) => setTimeout(r, 10));
      }
      const elapsedMs = performance.now() - started;
      // One resync per backoff, counted against the time the commits took (so never a speed
      // bound): with each NOTIFY ending the backoff, it is one per commit, 40.
      expect(relay.stats.resyncs - resyncsBefore).toBeLessThanOrEqual(Math.ceil(elapsedMs / 200) + 1);
      expect(relay.stats.published).toBe(0);
    } finally {
      await relay.stop();
      await denied.end();
    }
  });

  it('does not take a watch that keeps up for too slow when one interval gathers more than its queue holds', async () => {
    const count = 40;
    await withConfigMapWatch('burst', { dispatchIntervalMs: 5_000, maxQueue: 10 }, async (watch) => {
      // The reader is waiting, live, before the writes: the first event is handed over at once,
      // the rest come within the long interval after it.
      const recording = record(watch, () => Infinity, count);
      await concurrentCreates('burst', count);
      const records = await recording;
      expect(records.filter((r) => r.kind === 'event')).toHaveLength(count);
    });
  });

  it('negative control: a relay that skips one event is caught by the watch checker', async () => {
    const skipStream = { name: 'BUS_SKIP', maxMessages: 10_000 };
    const js = jetstream(nc);
    const jsm = await jetstreamManager(nc);
    await jsm.streams.add({ name: skipStream.name, subjects: ['skip.>'] });
    const log = await wholeLog(store);
    const slice = log.slice(0, 50);
    const skipped = slice[20].seq;
    // The broken relay: no msgID chaining, no ack check, and it drops one event.
    for (const e of slice) if (e.seq !== skipped) await js.publish(`skip.${e.seq}`, JSON.stringify(e));
    const consumer = await js.consumers.get(skipStream.name, { deliver_policy: DeliverPolicy.All });
    const raw: WatchRecord[] = [];
    const messages = await consumer.consume();
    for await (const m of messages) {
      raw.push({ kind: 'event', seq: (JSON.parse(m.string()) as StoredEvent).seq });
      if (raw.length === slice.length - 1) break;
    }
    await messages.close();
    const matching = slice.map((e) => e.seq);
    expect(checkWatch({ after: 0, delivered: raw, matching })).toEqual([
      { checker: 'watch', message: `missed 1 matching events, first ${skipped}` },
    ]);
  });
});
