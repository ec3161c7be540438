import { parseArgs } from 'node:util';

import { httpsCall } from '@app/dev-servers';
import { type AuditContext, EventStore } from '@app/event-store';

import { apiCaller, type ApiCaller } from './lib/api-caller.js';
import { type ApiServerProcess } from './lib/api-server-process.js';
import { startControlPlane } from './lib/control-plane.js';
import { busyBetween, machineCpuSeconds, measureCpu, treeCpuSeconds } from './lib/cpu-time.js';
import { parseScrape, quantileBetween, type Scrape } from '@app/metrics';
import { startWatchWorkers } from './lib/watch-workers.js';
import { progress, table, writeResult } from './lib/report.js';
import { p99BySecond, round, summarize } from './lib/stats.js';

export const description =
  'API server over HTTPS: mixed-load latency, create rate, 10k-pod list, watch fan-out';

const HELP = `npm run bench -- api [options]

Starts Postgres (fsync on), nats-server, the relay and 'wake apiserver' as their own
processes, then drives the API from this process over HTTPS (keep-alive):

  1. creates --objects pods at 32 concurrent clients (the sustained create rate);
  2. lists all of them (JSON and Table), --list-runs times;
  3. mixed load (20% create, 30% merge patch, 35% get, 15% list of 100) at each of --rates
     requests/s for --duration seconds after --warmup unmeasured ones, open loop: latency
     counts from the scheduled start;
  4. watch fan-out, for each watchers@rate cell of --fanout: that many watches, that many
     writes/s for --warmup seconds unmeasured, then --duration seconds measured; delivery
     latency from the write's start to each watcher's receipt, overall and each second's
     p99. The writes are appended to the log by this process (--fanout-writes log, the
     default), so that the API server's CPU goes to the fan-out alone, or made as PATCHes
     through the API (--fanout-writes api).

  --objects N       pods to create and list (default 10000)
  --rates LIST      request rates of the mixed load (default 50,200,1000; none)
  --duration S      seconds per mixed-load cell and for the fan-out (default 10)
  --warmup S        seconds of the same load before each measured cell, mixed or fan-out
                    (default 3)
  --fanout LIST     watchers@writes-per-second cells (default 500@1000,500@100,100@1000; none)
  --fanout-writes W log or api (default log)
  --list-runs N     full lists to time (default 10)
  --help            this text`;

type Client = Pick<ApiCaller, 'call'>;

async function scrape(c: Client): Promise<Scrape> {
  return parseScrape((await c.call('GET', '/metrics')).text);
}

/**
 * Upstream's API call latency SLI between two scrapes: the API server's own measure, receipt
 * to last byte, p99 of mutating and of read-only calls (bucketed: interpolated within a bucket).
 */
function serverLatency(before: Scrape, after: Scrape) {
  const p99 = (verbs: RegExp) =>
    round(
      quantileBetween(before, after, 'apiserver_request_duration_seconds', 0.99, (l) => verbs.test(l)).value *
        1000,
    );
  return { mutatingP99ms: p99(/verb="(POST|PUT|PATCH|DELETE)"/), readP99ms: p99(/verb="(GET|LIST)"/) };
}

const pod = (name: string) => ({
  metadata: { name, labels: { app: 'bench', shard: String(name.length % 7) } },
  spec: {
    containers: [
      {
        name: 'app',
        image: 'nginx:1.25',
        ports: [{ containerPort: 80 }],
        resources: { requests: { cpu: '10m' } },
      },
    ],
  },
});

async function createPods(c: Client, n: number, concurrency: number) {
  const latencies: number[] = [];
  let next = 0;
  let failed = 0;
  const started = performance.now();
  let lastReport = started;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < n) {
        const i = next++;
        const t0 = performance.now();
        const r = await c.call('POST', '/api/v1/namespaces/bench/pods', pod(`p-${i}`));
        latencies.push(performance.now() - t0);
        if (r.status !== 201) failed++;
        if (performance.now() - lastReport > 5000) {
          lastReport = performance.now();
          progress(`created ${latencies.length.toLocaleString()} / ${n.toLocaleString()} pods`);
        }
      }
    }),
  );
  const seconds = (performance.now() - started) / 1000;
  return { perSec: Math.round(n / seconds), failed, latency: summarize(latencies) };
}

async function mixedLoad(c: Client, rate: number, seconds: number, objects: number, prefix = 'new') {
  const mutating: number[] = [];
  const reading: number[] = [];
  const errors: Record<string, number> = {};
  const inFlight: Promise<void>[] = [];
  const interval = 1000 / rate;
  const start = performance.now();
  const total = Math.floor(rate * seconds);
  let created = 0;
  for (let i = 0; i < total; i++) {
    const scheduled = start + i * interval;
    const wait = scheduled - performance.now();
    if (wait > 1) await new Promise((r) => setTimeout(r, wait));
    const roll = Math.random();
    const name = `cm-${Math.floor(Math.random() * objects)}`;
    const op: [string, string, unknown?, string?] =
      roll < 0.2
        ? [
            'POST',
            '/api/v1/namespaces/mix/configmaps',
            { metadata: { name: `${prefix}-${rate}-${created++}` }, data: { v: '1' } },
          ]
        : roll < 0.5
          ? [
              'PATCH',
              `/api/v1/namespaces/mix/configmaps/${name}`,
              { data: { v: String(i) } },
              'application/merge-patch+json',
            ]
          : roll < 0.85
            ? ['GET', `/api/v1/namespaces/mix/configmaps/${name}`]
            : ['GET', '/api/v1/namespaces/mix/configmaps?limit=100'];
    const sink = op[0] === 'GET' ? reading : mutating;
    inFlight.push(
      c.call(...op).then(
        (r) => {
          sink.push(performance.now() - scheduled);
          if (r.status >= 300) errors[r.status] = (errors[r.status] ?? 0) + 1;
        },
        () => void (errors.network = (errors.network ?? 0) + 1),
      ),
    );
  }
  await Promise.all(inFlight);
  const achieved = (mutating.length + reading.length) / ((performance.now() - start) / 1000);
  return {
    rate,
    achieved: Math.round(achieved),
    mutating: summarize(mutating),
    reading: summarize(reading),
    errors,
  };
}

/** How the fan-out's writes are made: as PATCHes through the API, or appended to the log directly. */
type FanWriter = (name: string, sent: number) => Promise<unknown>;

function apiFanWriter(writer: Client, ns: string): FanWriter {
  return (name, sent) =>
    writer.call(
      'PATCH',
      `/api/v1/namespaces/${ns}/configmaps/${name}`,
      { metadata: { annotations: { 'bench-sent': sent.toFixed(3) } } },
      'application/merge-patch+json',
    );
}

/**
 * Appends the update to the log itself, as a second writer beside the API server: the events
 * reach the watchers through the relay, the bus and the API server's watch hub as any write's
 * do, and the API server's CPU goes to the fan-out alone (its write path is measured above).
 */
function logFanWriter(store: EventStore, ns: string): FanWriter {
  const ctx: AuditContext = {
    actor: { user: 'bench', groups: ['system:masters'] },
    verb: 'update',
    userAgent: 'wake-bench',
  };
  return (name, sent) =>
    store.update(
      { group: '', resource: 'configmaps', namespace: ns, name },
      {
        apiVersion: 'v1',
        kind: 'ConfigMap',
        metadata: { name, namespace: ns, annotations: { 'bench-sent': sent.toFixed(3) } },
        data: { v: '0' },
      },
      ctx,
    );
}

interface FanOutCell {
  /** Reads the list the watches start from. */
  reader: Client;
  /** Creates the objects, and PATCHes them when there is no `store`. */
  writer: Client;
  /** Appends the writes to the log when given; else they are PATCHes through `writer`. */
  store: EventStore | undefined;
  server: ApiServerProcess;
  dir: string;
  ns: string;
  watchers: number;
  rate: number;
  /** Seconds of writes whose deliveries are not measured, then `seconds` that are. */
  warmup: number;
  seconds: number;
  /** Called when the measured writes begin and once every delivery is in. */
  scrape: () => Promise<Scrape>;
}

async function fanOut(cell: FanOutCell) {
  const { reader: c, writer, store, server, ns, watchers, rate } = cell;
  await c.call('POST', '/api/v1/namespaces', { metadata: { name: ns } });
  const names = Array.from({ length: 100 }, (_, i) => `fan-${i}`);
  for (const n of names)
    await writer.call('POST', `/api/v1/namespaces/${ns}/configmaps`, {
      metadata: { name: n },
      data: { v: '0' },
    });
  const rv = (
    JSON.parse((await c.call('GET', `/api/v1/namespaces/${ns}/configmaps`)).text) as {
      metadata: { resourceVersion: string };
    }
  ).metadata.resourceVersion;
  const warm = Math.floor(rate * cell.warmup);
  const total = warm + Math.floor(rate * cell.seconds);
  if (total === warm) throw new RangeError(`${rate} writes/s for ${cell.seconds} s measures no write`);
  const send = store ? logFanWriter(store, ns) : apiFanWriter(writer, ns);
  progress(`opening ${watchers} watches in ${WATCH_PROCESSES} processes`);
  const workers = await startWatchWorkers({
    url: server.url,
    caCert: server.caCert,
    token: server.token,
    path: `/api/v1/namespaces/${ns}/configmaps?watch=true&resourceVersion=${rv}`,
    watchers,
    processes: WATCH_PROCESSES,
    expectedPerWatcher: total,
    dir: cell.dir,
  });
  progress(
    `writing ${total.toLocaleString()} events at ${rate}/s to ${watchers} watchers (the first ${cell.warmup} s unmeasured)`,
  );
  const writes: number[] = [];
  const inFlight: Promise<void>[] = [];
  const start = performance.now();
  // As the mixed load does: the first deliveries pay for compiling the fan-out's paths and
  // for the backlog that builds meanwhile, which a steady state does not have.
  const measuredFrom = start + warm * (1000 / rate);
  // Less the stamps' rounding (toFixed(3)), so that the first measured write is not left out.
  await workers.measureFrom(performance.timeOrigin + measuredFrom - 0.001);
  let measureStart:
    Promise<{ machine: ReturnType<typeof machineCpuSeconds>; server: number; scrape: Scrape }> | undefined;
  for (let i = 0; i < total; i++) {
    const scheduled = start + i * (1000 / rate);
    const wait = scheduled - performance.now();
    if (wait > 1) await new Promise((r) => setTimeout(r, wait));
    if (i === warm)
      measureStart = cell.scrape().then((scrape) => ({
        machine: machineCpuSeconds(),
        server: treeCpuSeconds(server.pid),
        scrape,
      }));
    // Epoch milliseconds: the watchers run in other processes.
    const sent = performance.timeOrigin + scheduled;
    const measured = i >= warm;
    inFlight.push(
      send(names[i % names.length], sent).then(() => {
        if (measured) writes.push(performance.now() - scheduled);
      }),
    );
  }
  await Promise.all(inFlight);
  const deadline = performance.now() + 60_000;
  while ((await workers.count()) < total * watchers && performance.now() < deadline)
    await new Promise((r) => setTimeout(r, 250));
  const machine1 = machineCpuSeconds();
  const server1 = treeCpuSeconds(server.pid);
  const before = await (measureStart as NonNullable<typeof measureStart>);
  const after = await cell.scrape();
  const { received, samples, sentAt } = await workers.report();
  const measured = samples.length;
  const bySecond = p99BySecond(sentAt, samples, performance.timeOrigin + measuredFrom).map((x) => round(x));
  const delivery = (q: number) =>
    round(quantileBetween(before.scrape, after, 'wake_watch_delivery_seconds', q).value * 1000);
  return {
    watchers,
    rate,
    warmupEvents: warm,
    events: total - warm,
    expectedDeliveries: total * watchers,
    deliveries: received,
    measuredDeliveries: measured,
    delivery: summarize(Array.from(samples)),
    deliveryP99BySecond: bySecond,
    write: summarize(writes),
    serverDelivery: { p50ms: delivery(0.5), p99ms: delivery(0.99) },
    // Over the measured writing and its delivery only.
    machineBusy: busyBetween(before.machine, machine1),
    serverCpuUsPerDelivery: round(((server1 - before.server) * 1e6) / Math.max(1, measured)),
  };
}

/** The least and the greatest of the seconds' figures that are numbers ("a–b"). */
function spread(xs: number[]): string {
  const finite = xs.filter(Number.isFinite);
  return finite.length ? `${Math.min(...finite)}–${Math.max(...finite)}` : '–';
}

/** Processes the fan-out's watchers are spread over (their reading must not starve the writer). */
const WATCH_PROCESSES = 2;

export async function run(argv: string[]): Promise<void> {
  const { values } = parseArgs({
    args: argv,
    options: {
      objects: { type: 'string' },
      rates: { type: 'string' },
      duration: { type: 'string' },
      fanout: { type: 'string' },
      'list-runs': { type: 'string' },
      'fanout-writes': { type: 'string' },
      warmup: { type: 'string' },
      help: { type: 'boolean' },
    },
  });
  if (values.help) return void console.log(HELP);
  const objects = Number(values.objects ?? 10_000);
  const rateSpec = values.rates ?? '50,200,1000';
  const rates = rateSpec === 'none' ? [] : rateSpec.split(',').map(Number);
  const seconds = Number(values.duration ?? 10);
  const fanSpec = values.fanout ?? '500@1000,500@100,100@1000';
  const fanCells = (fanSpec === 'none' ? [] : fanSpec.split(',')).map((cell) => {
    const [w, r] = cell.split('@').map(Number);
    return { watchers: w, rate: r };
  });
  const listRuns = Number(values['list-runs'] ?? 10);
  const warmup = Number(values.warmup ?? 3);

  progress('starting Postgres (fsync on), nats-server, the relay and the API server');
  // WAKE_BENCH_TCP=1: the API server and the relay reach Postgres over loopback TCP, to compare.
  const cp = await startControlPlane('api', { databaseOverTcp: !!process.env.WAKE_BENCH_TCP });
  try {
    const server = cp.api;
    const c = apiCaller(server, 64);
    for (const ns of ['bench', 'mix']) await c.call('POST', '/api/v1/namespaces', { metadata: { name: ns } });

    progress(`creating ${objects.toLocaleString()} pods, 32 clients`);
    const creates = await measureCpu(server.pid, () => createPods(c, objects, 32));

    progress(`listing ${objects.toLocaleString()} pods ${listRuns} times`);
    const listJson: number[] = [];
    const listTable: number[] = [];
    let listBytes = 0;
    for (let i = 0; i < listRuns; i++) {
      const t0 = performance.now();
      const r = await c.call('GET', '/api/v1/namespaces/bench/pods');
      listJson.push(performance.now() - t0);
      listBytes = r.text.length;
      const t1 = performance.now();
      await httpsCall({
        method: 'GET',
        url: new URL('/api/v1/namespaces/bench/pods?limit=500', server.url),
        ca: server.caCert,
        headers: {
          authorization: `Bearer ${server.token}`,
          accept: 'application/json;as=Table;v=v1;g=meta.k8s.io',
        },
      });
      listTable.push(performance.now() - t1);
    }

    progress('seeding 1,000 configmaps for the mixed load');
    await Promise.all(
      Array.from({ length: 16 }, async (_, w) => {
        for (let i = w; i < 1000; i += 16)
          await c.call('POST', '/api/v1/namespaces/mix/configmaps', {
            metadata: { name: `cm-${i}` },
            data: { v: '0' },
          });
      }),
    );
    const cells = [];
    for (const rate of rates) {
      // Unmeasured first, as load tests warm up: the client's keep-alive connections are
      // opened (a TLS handshake each, on both sides), the code paths compiled and the caches
      // loaded; otherwise the first second's start-up dominates the p99 of the rest.
      progress(`mixed load at ${rate} req/s: ${warmup} s warm-up, then ${seconds} s measured`);
      if (warmup > 0) await mixedLoad(c, rate, warmup, 1000, 'warm');
      const before = await scrape(c);
      const machine0 = machineCpuSeconds();
      const measured = await measureCpu(server.pid, () => mixedLoad(c, rate, seconds, 1000));
      const machine1 = machineCpuSeconds();
      const after = await scrape(c);
      cells.push({
        ...measured.result,
        server: serverLatency(before, after),
        // How near saturation the cell ran: the API server's share, and the whole machine's.
        serverCpuCores: round(measured.serverSec / seconds),
        machineBusy: round(busyBetween(machine0, machine1)),
      });
    }

    const fanWrites = values['fanout-writes'] ?? 'log';
    if (fanWrites !== 'log' && fanWrites !== 'api') throw new Error('--fanout-writes is log or api');
    // A second writer to the log beside the API server (the store serialises them on its head).
    const store =
      fanWrites === 'log' && fanCells.length
        ? await EventStore.open({ url: cp.databaseUrl, poolSize: 2 })
        : undefined;
    const fans = [];
    for (const [i, cell] of fanCells.entries()) {
      progress(`watch fan-out: ${cell.watchers} watchers, ${cell.rate} writes/s`);
      const reader = apiCaller(server, 1);
      const writer = apiCaller(server, 64);
      fans.push(
        await fanOut({
          reader,
          writer,
          store,
          server,
          dir: cp.dir,
          ns: `fan${i}`,
          watchers: cell.watchers,
          rate: cell.rate,
          warmup,
          seconds,
          scrape: () => scrape(c),
        }),
      );
      reader.close();
      writer.close();
    }
    await store?.close();

    const result = {
      creates: {
        pods: objects,
        perSec: creates.result.perSec,
        failed: creates.result.failed,
        p50ms: round(creates.result.latency.p50),
        p99ms: round(creates.result.latency.p99),
        serverCpuUsPerCreate: Math.round((creates.serverSec * 1e6) / objects),
      },
      list: {
        pods: objects,
        bytes: listBytes,
        json: summarize(listJson),
        tableFirstPage: summarize(listTable),
      },
      mixedWarmupSeconds: warmup,
      mixed: cells,
      fanOut: fans,
      goals: {
        mutatingP99msAt1000: '<= 50',
        list10kPodsMs: '<= 250',
        watchFanOutP99ms: '<= 100 (500 watchers, 1000 events/s)',
      },
    };
    const file = await writeResult('api', result);
    console.log(
      `\nCreates: ${objects.toLocaleString()} pods at ${result.creates.perSec}/s (32 clients), p50 ${result.creates.p50ms} ms, p99 ${result.creates.p99ms} ms, ${result.creates.failed} failed, server CPU ${result.creates.serverCpuUsPerCreate} µs/create`,
    );
    console.log(
      `List of ${objects.toLocaleString()} pods (${(listBytes / 1e6).toFixed(1)} MB JSON): p50 ${round(result.list.json.p50)} ms, p99 ${round(result.list.json.p99)} ms; Table first page of 500: p50 ${round(result.list.tableFirstPage.p50)} ms\n`,
    );
    console.log(
      table(
        cells.map((m) => ({
          'rate req/s': m.rate,
          achieved: m.achieved,
          'mutating p50 ms': round(m.mutating.p50),
          'mutating p99 ms': round(m.mutating.p99),
          'read p50 ms': round(m.reading.p50),
          'read p99 ms': round(m.reading.p99),
          'server mut p99': m.server.mutatingP99ms,
          'server read p99': m.server.readP99ms,
          'server cores': m.serverCpuCores,
          'machine busy': `${Math.round(m.machineBusy * 100)} %`,
          errors: JSON.stringify(m.errors),
        })),
      ),
    );
    console.log(
      `\nWatch fan-out (write start → each watcher, after ${warmup} s unmeasured; writes ${fanWrites === 'log' ? 'appended to the log by the bench' : 'through the API'})\n`,
    );
    console.log(
      table(
        fans.map((f) => ({
          watchers: f.watchers,
          'writes/s': f.rate,
          delivered: `${f.deliveries.toLocaleString()} / ${f.expectedDeliveries.toLocaleString()}`,
          timed: f.measuredDeliveries.toLocaleString(),
          'p50 ms': round(f.delivery.p50),
          'p99 ms': round(f.delivery.p99),
          // The spread over the run's seconds: a backlog that built and drained shows here.
          'p99 by second: best–worst ms': spread(f.deliveryP99BySecond),
          'write p99 ms': round(f.write.p99),
          'server µs/delivery': f.serverCpuUsPerDelivery,
          'server p99 ms': f.serverDelivery.p99ms,
          'machine busy': `${Math.round(f.machineBusy * 100)} %`,
        })),
      ),
    );
    console.log(`\nwritten: ${file}`);
  } finally {
    await cp.stop();
  }
}
