import { parseArgs } from 'node:util';

import { defaultPlugins } from '../apps/scheduler/src/framework/default-plugins.js';
import { podInfo } from '../apps/scheduler/src/framework/pod-info.js';
import { FrameworkAlgorithm, SchedulerCache } from '../apps/scheduler/src/scheduler-cache.js';

import { apiCaller } from './lib/api-caller.js';
import { type ComponentProcess } from './lib/component-process.js';
import { startControlPlane } from './lib/control-plane.js';
import { watchPodsUntil, within } from './lib/pod-watch.js';
import { startSchedulerProcess } from './lib/scheduler-process.js';
import { treeCpuSeconds } from './lib/cpu-time.js';
import { parseScrape, quantileBetween, type Scrape } from '@app/metrics';
import { progress, table, writeResult } from './lib/report.js';
import { scrapeDelayMs } from './lib/scrape-pacing.js';
import { round, summarize } from './lib/stats.js';

export const description =
  'scheduler_perf workloads end to end: pods/s and create→bound latency at 5,000 nodes';

const HELP = `npm run bench -- scheduler [options]

scheduler_perf's workloads, end to end: Postgres (fsync on), nats-server, the relay, 'wake
apiserver' and 'wake scheduler' as their own processes. Nodes are Node objects (4 CPU, 32Gi,
110 pods, Ready), pods request 100m CPU / 500Mi, as upstream's templates.

  basic          --nodes nodes, --init-pods bound pods, then --pods pods created before the
                 scheduler starts: pods/s over the whole placement (SchedulingBasic)
  arrival        the same, with the pods arriving at --rate creates/s while it runs
  node-affinity  every pod requires zone1, which every node has (SchedulingNodeAffinity)
  anti-affinity  --anti-pods pods that each want a node of their own (SchedulingPodAntiAffinity)

Pods created before the scheduler runs are measured as scheduler_perf does, from the
scheduler's own /metrics (placements per second; latency queue entry → bound, its SLI), so the
measuring adds no load to the API server. Arriving pods are measured create → bound on a watch.

  --workloads LIST  which (default basic,arrival,node-affinity,anti-affinity)
  --nodes N         default 5000
  --init-pods N     default 1000
  --pods N          default 10000
  --anti-pods N     default 2000
  --rate N          creates/s for 'arrival' (default 1000)
  --help            this text`;

interface Workload {
  name: string;
  pods: number;
  arrivalRate?: number;
  nodeLabels?: Record<string, string>;
  podSpec?: (i: number) => Record<string, unknown>;
  podLabels?: Record<string, string>;
}

interface Outcome {
  workload: string;
  pods: number;
  seconds: number;
  podsPerSecond: number;
  /** create→bound where the bench watched (arrival); the scheduler's own SLI (queue→bound) otherwise. */
  latencyMs: { p50: number; p99: number };
  measuredBy: 'watch' | 'scheduler metrics';
  schedulerCpuSec: number;
  apiServerCpuSec: number;
}

const CAPACITY = { cpu: '4', memory: '32Gi', pods: '110' };
const REQUESTS = { cpu: '100m', memory: '500Mi' };

function podBody(name: string, w: Workload, i: number, nodeName?: string) {
  return {
    metadata: { name, labels: { app: 'bench', ...w.podLabels } },
    spec: {
      ...(nodeName ? { nodeName } : {}),
      containers: [{ name: 'pause', image: 'registry.k8s.io/pause:3.10', resources: { requests: REQUESTS } }],
      ...w.podSpec?.(i),
    },
  };
}

/** Creates `count` objects with `workers` concurrent clients (or at `rate`/s, open loop); returns each one's send time. */
async function createAll(
  call: (path: string, body: unknown) => Promise<number>,
  path: string,
  count: number,
  body: (i: number) => { metadata: { name: string } },
  o: { workers?: number; rate?: number } = {},
): Promise<Map<string, number>> {
  const sent = new Map<string, number>();
  const one = async (i: number) => {
    const b = body(i);
    sent.set(b.metadata.name, performance.now());
    const status = await call(path, b);
    if (status !== 201) throw new Error(`creating ${b.metadata.name}: HTTP ${status}`);
  };
  if (o.rate) {
    const start = performance.now();
    const inFlight: Promise<void>[] = [];
    for (let i = 0; i < count; i++) {
      const due = start + (i * 1000) / o.rate;
      const wait = due - performance.now();
      if (wait > 1) await new Promise((r) => setTimeout(r, wait));
      inFlight.push(one(i));
    }
    await Promise.all(inFlight);
    return sent;
  }
  let next = 0;
  await Promise.all(
    Array.from({ length: o.workers ?? 32 }, async () => {
      while (next < count) await one(next++);
    }),
  );
  return sent;
}

/**
 * Follows the scheduler's own counters, as scheduler_perf measures SchedulingThroughput: no
 * watch through the API server (which would cost the system under test), one small scrape
 * every 50 ms. Resolves with the times the first and the last of `want` placements were seen.
 */
async function followSchedulerMetrics(metricsUrl: string, want: number, timeoutMs: number) {
  const scrape = async () => parseScrape(await (await fetch(metricsUrl)).text());
  const scheduled = (m: Scrape) =>
    [...m]
      .filter(([k]) => k.startsWith('scheduler_schedule_attempts_total{') && k.includes('result="scheduled"'))
      .reduce((n, [, v]) => n + v, 0);
  const before = await scrape();
  let first: { at: number; count: number } | undefined;
  let last = { at: performance.now(), count: scheduled(before), scrape: before };
  const deadline = performance.now() + timeoutMs;
  let lastReport = performance.now();
  while (last.count < want && performance.now() < deadline) {
    await new Promise((r) => setTimeout(r, scrapeDelayMs(first, last, want)));
    const m = await scrape();
    last = { at: performance.now(), count: scheduled(m), scrape: m };
    if (!first && last.count > 0) first = { at: last.at, count: last.count };
    if (last.at - lastReport > 5000) {
      progress(`${last.count.toLocaleString()} scheduled`);
      lastReport = last.at;
    }
  }
  const sli = (q: number) =>
    quantileBetween(before, last.scrape, 'scheduler_pod_scheduling_sli_duration_seconds', q).value * 1000;
  return { first: first ?? last, last, latencyMs: { p50: sli(0.5), p99: sli(0.99) } };
}

async function runWorkload(w: Workload, o: { nodes: number; initPods: number }): Promise<Outcome> {
  progress(`${w.name}: starting Postgres (fsync on), nats-server, the relay and the API server`);
  const cp = await startControlPlane('sched');
  const caller = apiCaller(cp.api, 64);
  try {
    const { api, nats } = cp;
    const call = async (path: string, body: unknown) => (await caller.call('POST', path, body)).status;
    await call('/api/v1/namespaces', { metadata: { name: 'bench' } });

    progress(
      `${w.name}: creating ${o.nodes.toLocaleString()} nodes and ${o.initPods.toLocaleString()} bound pods`,
    );
    await createAll(call, '/api/v1/nodes', o.nodes, (i) => ({
      metadata: { name: `node-${i}`, labels: { 'kubernetes.io/hostname': `node-${i}`, ...w.nodeLabels } },
      status: { capacity: CAPACITY, allocatable: CAPACITY, conditions: [{ type: 'Ready', status: 'True' }] },
    }));
    await createAll(call, '/api/v1/namespaces/bench/pods', o.initPods, (i) =>
      podBody(`init-${i}`, w, i, `node-${i % o.nodes}`),
    );
    const rv = await caller.listResourceVersion('/api/v1/namespaces/bench/pods');
    const kubeconfig = api.componentKubeconfig('scheduler');
    const waitMs = Number(process.env.WAKE_BENCH_WAIT_MS ?? 600_000);
    const metricsUrl = (p: ComponentProcess) => /metrics at (\S+)/.exec(p.readyOutput)?.[1] ?? '';

    if (!w.arrivalRate) {
      progress(`${w.name}: creating ${w.pods.toLocaleString()} pending pods`);
      await createAll(call, '/api/v1/namespaces/bench/pods', w.pods, (i) => podBody(`p-${i}`, w, i));
      progress(`${w.name}: starting the scheduler`);
      const scheduler = await cp.add(startSchedulerProcess(kubeconfig, nats.url));
      const cpu0 = { scheduler: treeCpuSeconds(scheduler.pid), api: treeCpuSeconds(api.pid) };
      const seen = await followSchedulerMetrics(metricsUrl(scheduler), w.pods, waitMs);
      const seconds = (seen.last.at - seen.first.at) / 1000;
      return {
        workload: w.name,
        pods: seen.last.count,
        seconds: round(seconds),
        podsPerSecond: round((seen.last.count - seen.first.count) / seconds, 0),
        latencyMs: seen.latencyMs,
        measuredBy: 'scheduler metrics',
        schedulerCpuSec: round(treeCpuSeconds(scheduler.pid) - cpu0.scheduler),
        apiServerCpuSec: round(treeCpuSeconds(api.pid) - cpu0.api),
      };
    }

    // Pods arriving while the scheduler runs: create→bound per pod, seen on a watch.
    const watch = watchPodsUntil(api, 'bench', rv, w.pods, (p) => !!p.spec?.nodeName);
    const scheduler = await cp.add(startSchedulerProcess(kubeconfig, nats.url));
    const cpu0 = { scheduler: treeCpuSeconds(scheduler.pid), api: treeCpuSeconds(api.pid) };
    progress(`${w.name}: ${w.pods.toLocaleString()} pods arriving at ${w.arrivalRate}/s`);
    const sent = await createAll(
      call,
      '/api/v1/namespaces/bench/pods',
      w.pods,
      (i) => podBody(`p-${i}`, w, i),
      {
        rate: w.arrivalRate,
      },
    );
    const ticker = setInterval(
      () => progress(`${w.name}: ${watch.reachedAt.size.toLocaleString()} bound`),
      5000,
    );
    await within(watch.all, waitMs);
    clearInterval(ticker);
    watch.close();
    const bound = [...watch.reachedAt.entries()];
    if (bound.length < w.pods)
      progress(`${w.name}: only ${bound.length} of ${w.pods} pods seen bound in time`);
    const times = bound.map(([, t]) => t);
    const seconds = (Math.max(...times) - Math.min(...times)) / 1000;
    const latency = summarize(bound.map(([name, t]) => t - (sent.get(name) ?? t)));
    return {
      workload: w.name,
      pods: bound.length,
      seconds: round(seconds),
      podsPerSecond: round((bound.length - 1) / seconds, 0),
      latencyMs: { p50: latency.p50, p99: latency.p99 },
      measuredBy: 'watch',
      schedulerCpuSec: round(treeCpuSeconds(scheduler.pid) - cpu0.scheduler),
      apiServerCpuSec: round(treeCpuSeconds(api.pid) - cpu0.api),
    };
  } finally {
    caller.close();
    await cp.stop();
  }
}

/**
 * The same basic workload through the scheduler's own cache and algorithm in this process,
 * with no API server, log or bus: what placement alone costs, to tell it apart from the
 * write path the end-to-end runs include.
 */
function algorithmAlone(
  nodes: number,
  initPods: number,
  pods: number,
): { podsPerSecond: number; msPerPod: number } {
  const cache = new SchedulerCache();
  const algorithm = new FrameworkAlgorithm(defaultPlugins());
  const basic: Workload = { name: 'basic', pods };
  for (let i = 0; i < nodes; i++)
    cache.setNode({
      metadata: { name: `node-${i}`, labels: { 'kubernetes.io/hostname': `node-${i}` } },
      status: { capacity: CAPACITY, allocatable: CAPACITY },
    });
  for (let i = 0; i < initPods; i++) {
    const pod = { ...podBody(`init-${i}`, basic, i), metadata: { name: `init-${i}`, namespace: 'bench' } };
    cache.boundPod(pod, `bench/init-${i}`, `node-${i % nodes}`);
  }
  const queued = Array.from({ length: pods }, (_, i) => ({
    key: `bench/p-${i}`,
    pod: { ...podBody(`p-${i}`, basic, i), metadata: { name: `p-${i}`, namespace: 'bench' } },
  }));
  const t0 = performance.now();
  let placed = 0;
  for (const q of queued) {
    const info = podInfo(q.pod);
    const placement = algorithm.place(info, cache.snapshot());
    if (placement.node !== undefined) {
      cache.assume(info, placement.node);
      placed++;
    }
  }
  const ms = performance.now() - t0;
  if (placed !== pods) throw new Error(`the algorithm placed ${placed} of ${pods} pods`);
  return { podsPerSecond: round((pods * 1000) / ms, 0), msPerPod: round(ms / pods, 3) };
}

export async function run(argv: string[]): Promise<void> {
  const { values } = parseArgs({
    args: argv,
    options: {
      workloads: { type: 'string' },
      nodes: { type: 'string' },
      'init-pods': { type: 'string' },
      pods: { type: 'string' },
      'anti-pods': { type: 'string' },
      rate: { type: 'string' },
      help: { type: 'boolean' },
    },
  });
  if (values.help) return void console.log(HELP);
  const nodes = Number(values.nodes ?? 5000);
  const initPods = Number(values['init-pods'] ?? 1000);
  const pods = Number(values.pods ?? 10_000);
  const all: Record<string, Workload> = {
    basic: { name: 'basic', pods },
    arrival: { name: 'arrival', pods, arrivalRate: Number(values.rate ?? 1000) },
    'node-affinity': {
      name: 'node-affinity',
      pods,
      nodeLabels: { 'topology.kubernetes.io/zone': 'zone1' },
      podSpec: () => ({
        affinity: {
          nodeAffinity: {
            requiredDuringSchedulingIgnoredDuringExecution: {
              nodeSelectorTerms: [
                {
                  matchExpressions: [
                    { key: 'topology.kubernetes.io/zone', operator: 'In', values: ['zone1'] },
                  ],
                },
              ],
            },
          },
        },
      }),
    },
    'anti-affinity': {
      name: 'anti-affinity',
      pods: Number(values['anti-pods'] ?? 2000),
      podLabels: { color: 'green' },
      podSpec: () => ({
        affinity: {
          podAntiAffinity: {
            requiredDuringSchedulingIgnoredDuringExecution: [
              { labelSelector: { matchLabels: { color: 'green' } }, topologyKey: 'kubernetes.io/hostname' },
            ],
          },
        },
      }),
    },
  };
  progress(`placing ${pods.toLocaleString()} pods with the algorithm alone (no I/O)`);
  const alone = algorithmAlone(nodes, initPods, pods);
  const names = (values.workloads ?? 'basic,arrival,node-affinity,anti-affinity').split(',');
  const outcomes: Outcome[] = [];
  for (const name of names) {
    const w = all[name];
    if (!w) throw new Error(`unknown workload ${name}; known: ${Object.keys(all).join(', ')}`);
    outcomes.push(await runWorkload(w, { nodes, initPods: name === 'anti-affinity' ? 0 : initPods }));
  }
  console.log(
    `\nScheduler, ${nodes.toLocaleString()} nodes, end to end through the API server, log and bus\n`,
  );
  console.log(
    table(
      outcomes.map((o) => ({
        workload: o.workload,
        pods: o.pods,
        seconds: o.seconds,
        'pods/s': o.podsPerSecond,
        'latency p50 ms': round(o.latencyMs.p50, 0),
        'p99 ms': round(o.latencyMs.p99, 0),
        'measured by': o.measuredBy,
        'scheduler CPU s': o.schedulerCpuSec,
        'api-server CPU s': o.apiServerCpuSec,
      })),
    ),
  );
  console.log(
    `\nThe algorithm alone (this process, no I/O, basic workload): ${alone.podsPerSecond.toLocaleString()} pods/s, ${alone.msPerPod} ms a pod`,
  );
  console.log(
    `\nwritten: ${await writeResult('scheduler', { nodes, initPods, algorithmAlone: alone, outcomes })}`,
  );
}
