import { loadavg } from 'node:os';
import { parseArgs } from 'node:util';

import { apiCaller, type ApiCaller } from './lib/api-caller.js';
import { startControlPlane } from './lib/control-plane.js';
import { startControllerManagerProcess } from './lib/controller-manager-process.js';
import { treeCpuSeconds } from './lib/cpu-time.js';
import { type LoadPlan, planLoad, scaledReplicas, seededRandom } from './lib/load-plan.js';
import { watchUntil, type WatchedObject, within } from './lib/pod-watch.js';
import {
  counterDeltas,
  labelValue,
  parseScrape,
  quantileBetween,
  type Scrape,
  seriesBetween,
} from '@app/metrics';
import { progress, table, writeResult } from './lib/report.js';
import { startSchedulerProcess } from './lib/scheduler-process.js';
import { isNodeReady, SIMULATED_NODES_PATH, startSimAgentProcess } from './lib/sim-agent-process.js';
import { round, summarize } from './lib/stats.js';

export const description =
  'ClusterLoader2’s load test: Deployments/Services/ConfigMaps/Secrets at 30 pods a node, create → scale → delete, SLOs';

const HELP = `npm run bench -- load [options]

ClusterLoader2's load test (perf-tests clusterloader2/testing/load/config.yaml), Deployments
part, on a fresh cluster per node count: Postgres (fsync on), nats-server, the relay,
'wake apiserver', 'wake scheduler', 'wake controller-manager' (every controller) and
'wake node-agent --runtime sim --nodes N' as their own processes.

Workload (bench/lib/load-plan.ts): 30 pods a node; one namespace per 100 nodes; in each, 1/4 of
the pods in Deployments of 250, 1/4 in Deployments of 30, 1/2 in Deployments of 5; a ConfigMap
and a Secret per Deployment (its pods mount both); one Service per two Deployments. Phases:
  create  every object, then wait until all pods are Running
  scale   each Deployment to a random size in [x/2, 3x/2] (--seed), then wait until exactly
          that many pods exist, all Running
  delete  every object (Deployments with the default background propagation: the garbage
          collector removes their ReplicaSets and pods), then wait until no pod is left
The workload client sends at most --qps requests a second, all namespaces together (CL2's
default tuning: 10 qps up to 500 nodes, 100 above; the GCE override's 20 for small clusters).

Measured per phase: time until all pods are Running (or gone); API call latency from the API
server's apiserver_request_duration_seconds (bucket deltas between scrapes, p99 per verb and
resource; watches are not samples), SLO mutating p99 ≤ 1 s, reads ≤ 1 s (one object) / 5 s
(namespace) / 30 s (cluster); pod startup latency, upstream's SLI: creationTimestamp → all
containers running seen on a watch (whole-second creationTimestamp, as CL2 uses it), SLO p99 ≤ 5 s,
and first seen on the watch → Running (ms); CPU seconds per component.

  --nodes LIST     node counts, comma-separated (default 100,1000)
  --seed N         the scale phase's random sizes (default 1)
  --qps N          workload requests a second (default 20 up to 500 nodes, 100 above)
  --timeout S      how long a phase waits for its pods (default 900)
  --help           this text`;

const SLO = {
  mutatingP99Sec: 1,
  readP99Sec: { resource: 1, namespace: 5, cluster: 30 },
  podStartupP99Sec: 5,
};
const COMPONENTS = [
  'apiserver',
  'scheduler',
  'controller-manager',
  'sim',
  'relay',
  'postgres',
  'nats',
] as const;
type Component = (typeof COMPONENTS)[number];

interface ApiLatency {
  verb: string;
  resource: string;
  subresource: string;
  scope: string;
  count: number;
  p50ms: number;
  p99ms: number;
}

interface PhaseOutcome {
  phase: 'create' | 'scale' | 'delete';
  requests: number;
  failedRequests: number;
  /** Sending the phase's requests at --qps. */
  sendSec: number;
  /** Phase start until every pod is Running (create, scale) or gone (delete); null: not in time. */
  doneSec: number | null;
  targetPods: number;
  podsAtEnd: { existing: number; running: number };
  /** Upstream's SLI: creationTimestamp → Running on a watch. */
  podStartupMs: { count: number; p50: number; p90: number; p99: number };
  /** First seen on the watch → Running on the watch. */
  seenToRunningMs: { count: number; p50: number; p90: number; p99: number };
  api: ApiLatency[];
  /** The controller manager's work queues that had work in the phase, most retried first. */
  controllerQueues: QueueActivity[];
  cpuSec: Record<Component | 'bench', number>;
  loadAvg1m: number;
}

/** A work queue's items added, and re-added after a failed sync (workqueue_adds_total, workqueue_retries_total). */
interface QueueActivity {
  name: string;
  adds: number;
  retries: number;
}

function queueActivity(before: Scrape, after: Scrape): QueueActivity[] {
  const retries = counterDeltas(before, after, 'workqueue_retries_total', ['name']);
  return [...counterDeltas(before, after, 'workqueue_adds_total', ['name'])]
    .filter(([, adds]) => adds > 0)
    .map(([name, adds]) => ({ name, adds, retries: retries.get(name) ?? 0 }))
    .sort((a, b) => b.retries - a.retries || b.adds - a.adds);
}

interface Outcome {
  nodes: number;
  namespaces: number;
  deployments: number;
  services: number;
  pods: number;
  qps: number;
  phases: PhaseOutcome[];
  verdict: {
    mutatingP99Sec: number;
    mutatingWorst: string;
    readWithinSlo: boolean;
    podStartupP99Sec: number;
    allPhasesDone: boolean;
    slosHold: boolean;
  };
}

type Call = ApiCaller['call'];

/** Follows every pod cluster-wide: which exist, which are Running, and each one's startup latency. */
class PodTracker {
  private readonly pods = new Map<string, { seenAt: number; running: boolean }>();
  existing = 0;
  running = 0;
  /** Startup samples of the current phase: SLI (from creationTimestamp) and from first sight. */
  sli: number[] = [];
  seen: number[] = [];

  readonly onEvent = (type: string, o: WatchedObject, at: number) => {
    const key = `${o.metadata.namespace}/${o.metadata.name}`;
    const known = this.pods.get(key);
    if (type === 'DELETED') {
      if (!known) return;
      this.pods.delete(key);
      this.existing--;
      if (known.running) this.running--;
      return;
    }
    const pod = known ?? { seenAt: at, running: false };
    if (!known) {
      this.pods.set(key, pod);
      this.existing++;
    }
    if (pod.running || !allContainersRunning(o)) return;
    pod.running = true;
    this.running++;
    const created = Date.parse((o.metadata as { creationTimestamp?: string }).creationTimestamp ?? '');
    if (!Number.isNaN(created)) this.sli.push(performance.timeOrigin + at - created);
    this.seen.push(at - pod.seenAt);
  };

  takeSamples(): { sli: number[]; seen: number[] } {
    const out = { sli: this.sli, seen: this.seen };
    this.sli = [];
    this.seen = [];
    return out;
  }
}

/** The SLI's "all containers started": phase Running and every container's state running. */
function allContainersRunning(o: WatchedObject): boolean {
  const statuses = o.status?.containerStatuses;
  return o.status?.phase === 'Running' && !!statuses?.length && statuses.every((c) => c.state?.running);
}

/**
 * Sends `requests` at most `qps` a second (open loop, like CL2's qps tuning sets), at most
 * 128 in flight; retries a 429 or 5xx a few times. Returns how many failed in the end.
 */
async function paced(
  label: string,
  requests: (() => Promise<{ status: number; text: string }>)[],
  qps: number,
): Promise<{ failed: number; seconds: number }> {
  const start = performance.now();
  const inFlight = new Set<Promise<void>>();
  let failed = 0;
  let done = 0;
  let lastError = '';
  let lastReport = start;
  for (let i = 0; i < requests.length; i++) {
    const wait = start + (i * 1000) / qps - performance.now();
    if (wait > 1) await new Promise((r) => setTimeout(r, wait));
    while (inFlight.size >= 128) await Promise.race(inFlight);
    const send = requests[i];
    const one = (async () => {
      for (let attempt = 0; ; attempt++) {
        const r = await send().catch((e: unknown) => ({ status: 0, text: String(e) }));
        if (r.status >= 200 && r.status < 300) return;
        if ((r.status === 429 || r.status >= 500 || r.status === 0) && attempt < 4) {
          await new Promise((res) => setTimeout(res, 500 * (attempt + 1)));
          continue;
        }
        failed++;
        lastError = `HTTP ${r.status} ${r.text.slice(0, 200)}`;
        return;
      }
    })().finally(() => {
      done++;
      inFlight.delete(one);
    });
    inFlight.add(one);
    if (performance.now() - lastReport > 5000) {
      lastReport = performance.now();
      progress(`${label}: ${done.toLocaleString()} / ${requests.length.toLocaleString()} requests sent`);
    }
  }
  await Promise.all(inFlight);
  if (failed) progress(`${label}: ${failed} requests failed; the last: ${lastError}`);
  return { failed, seconds: (performance.now() - start) / 1000 };
}

const objects = {
  configMap: (name: string) => ({ metadata: { name }, data: { data: 'load' } }),
  secret: (name: string) => ({
    metadata: { name },
    type: 'Opaque',
    data: { password: Buffer.from('load').toString('base64') },
  }),
  service: (name: string) => ({
    metadata: { name },
    spec: { selector: { svc: name }, ports: [{ name: 'http', port: 80, targetPort: 80 }] },
  }),
  /** CL2's deployment.yaml: pause, tiny requests, the bundle's ConfigMap and Secret mounted, 1 s grace. */
  deployment: (name: string, replicas: number, service: string) => ({
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name, labels: { group: 'load', svc: service } },
    spec: {
      replicas,
      selector: { matchLabels: { name } },
      template: {
        metadata: { labels: { name, group: 'load', svc: service } },
        spec: {
          terminationGracePeriodSeconds: 1,
          containers: [
            {
              name: 'pause',
              image: 'registry.k8s.io/pause:3.10',
              resources: { requests: { cpu: '5m', memory: '10M' } },
              volumeMounts: [
                { name: 'configmap', mountPath: '/var/configmap' },
                { name: 'secret', mountPath: '/var/secret' },
              ],
            },
          ],
          volumes: [
            { name: 'configmap', configMap: { name } },
            { name: 'secret', secret: { secretName: name } },
          ],
        },
      },
    },
  }),
};

const core = (ns: string, plural: string, name = '') =>
  `/api/v1/namespaces/${ns}/${plural}${name && `/${name}`}`;
const deploymentsPath = (ns: string, name = '') =>
  `/apis/apps/v1/namespaces/${ns}/deployments${name && `/${name}`}`;

function createRequests(call: Call, plan: LoadPlan) {
  const out: (() => Promise<{ status: number; text: string }>)[] = [];
  for (const d of plan.deployments) {
    out.push(() => call('POST', core(d.namespace, 'configmaps'), objects.configMap(d.name)));
    out.push(() => call('POST', core(d.namespace, 'secrets'), objects.secret(d.name)));
    out.push(() =>
      call('POST', deploymentsPath(d.namespace), objects.deployment(d.name, d.replicas, d.service)),
    );
  }
  for (const s of plan.services)
    out.push(() => call('POST', core(s.namespace, 'services'), objects.service(s.name)));
  return out;
}

function deleteRequests(call: Call, plan: LoadPlan) {
  const out: (() => Promise<{ status: number; text: string }>)[] = [];
  for (const d of plan.deployments) {
    out.push(() => call('DELETE', deploymentsPath(d.namespace, d.name)));
    out.push(() => call('DELETE', core(d.namespace, 'configmaps', d.name)));
    out.push(() => call('DELETE', core(d.namespace, 'secrets', d.name)));
  }
  for (const s of plan.services) out.push(() => call('DELETE', core(s.namespace, 'services', s.name)));
  return out;
}

/** p99 per (verb, resource, subresource, scope) between two scrapes, watches and CONNECT aside. */
function apiLatency(before: Scrape, after: Scrape): ApiLatency[] {
  const metric = 'apiserver_request_duration_seconds';
  const by = ['verb', 'resource', 'subresource', 'scope'];
  return seriesBetween(before, after, metric, by)
    .map((key) => {
      const [verb, resource, subresource, scope] = key.split('|');
      const select = (l: string) =>
        by.every((b, i) => labelValue(l, b) === [verb, resource, subresource, scope][i]);
      const p50 = quantileBetween(before, after, metric, 0.5, select);
      const p99 = quantileBetween(before, after, metric, 0.99, select);
      return {
        verb,
        resource,
        subresource,
        scope,
        count: p99.count,
        p50ms: round(p50.value * 1000),
        p99ms: round(p99.value * 1000),
      };
    })
    .filter((a) => a.verb !== 'CONNECT' && a.verb !== 'WATCH');
}

const MUTATING = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

function latencySummary(samples: number[]) {
  const s = summarize(samples);
  return { count: s.count, p50: round(s.p50, 0), p90: round(s.p90, 0), p99: round(s.p99, 0) };
}

async function runOnce(
  nodes: number,
  o: { seed: number; qps?: number; timeoutSec: number },
): Promise<Outcome> {
  const plan = planLoad(nodes);
  const qps = o.qps ?? (nodes <= 500 ? 20 : 100);
  progress(
    `${nodes} nodes: ${plan.namespaces.length} namespaces, ${plan.deployments.length} Deployments, ${plan.services.length} Services, ${plan.pods.toLocaleString()} pods, ${qps} qps; starting Postgres (fsync on), nats-server, the relay, the API server, the scheduler, the controller manager`,
  );
  const cp = await startControlPlane('load');
  const watches: { close(): void }[] = [];
  let caller: ApiCaller | undefined;
  try {
    const { api, relay, pg, nats } = cp;
    const scheduler = await cp.add(startSchedulerProcess(api.componentKubeconfig('scheduler'), nats.url));
    const controllerManager = await cp.add(
      startControllerManagerProcess(api.componentKubeconfig('controller-manager'), nats.url),
    );
    caller = apiCaller(api, 64);
    const { call } = caller;
    const listRv = caller.listResourceVersion;

    const readyWatch = watchUntil(
      api,
      SIMULATED_NODES_PATH,
      await listRv(SIMULATED_NODES_PATH),
      nodes,
      isNodeReady,
    );
    watches.push(readyWatch);
    progress(`${nodes} nodes: starting the sim node agent`);
    const sim = await cp.add(startSimAgentProcess(api.kubeconfig, nats.url, nodes));
    await within(readyWatch.all, o.timeoutSec * 1000);
    readyWatch.close();
    if (readyWatch.reachedAt.size < nodes)
      throw new Error(`only ${readyWatch.reachedAt.size} of ${nodes} nodes Ready`);
    progress(`${nodes} nodes Ready; creating ${plan.namespaces.length} namespaces`);
    for (const ns of plan.namespaces) {
      const r = await call('POST', '/api/v1/namespaces', { metadata: { name: ns } });
      if (r.status !== 201) throw new Error(`creating namespace ${ns}: HTTP ${r.status} ${r.text}`);
    }

    const tracker = new PodTracker();
    const podWatch = watchUntil(
      api,
      '/api/v1/pods',
      await listRv('/api/v1/pods'),
      Infinity,
      () => false,
      tracker.onEvent,
    );
    watches.push(podWatch);
    const pids: Record<Component, number | undefined> = {
      apiserver: api.pid,
      scheduler: scheduler.pid,
      'controller-manager': controllerManager.pid,
      sim: sim.pid,
      relay: relay.pid,
      postgres: pg.pid,
      nats: nats.pid,
    };
    const cpuNow = () => {
      const self = process.cpuUsage();
      return {
        ...(Object.fromEntries(COMPONENTS.map((c) => [c, pids[c] ? treeCpuSeconds(pids[c]) : NaN])) as Record<
          Component,
          number
        >),
        bench: (self.user + self.system) / 1e6,
      };
    };
    const scrape = async () => parseScrape((await call('GET', '/metrics')).text);
    // The ready line names the controller manager's metrics URL (plain HTTP on loopback).
    const cmMetrics = /metrics at (\S+)/.exec(controllerManager.readyOutput)?.[1];
    const scrapeControllers = async (): Promise<Scrape> =>
      cmMetrics ? parseScrape(await (await fetch(cmMetrics)).text()) : new Map();

    const phase = async (
      name: PhaseOutcome['phase'],
      requests: (() => Promise<{ status: number; text: string }>)[],
      targetPods: number,
    ): Promise<PhaseOutcome> => {
      progress(
        `${nodes} nodes, ${name}: ${requests.length.toLocaleString()} requests at ${qps}/s; then ${targetPods.toLocaleString()} pods ${targetPods ? 'Running' : 'left'}`,
      );
      const before = await scrape();
      const queuesBefore = await scrapeControllers();
      const cpu0 = cpuNow();
      tracker.takeSamples();
      const t0 = performance.now();
      const ticker = setInterval(
        () =>
          progress(
            `${name}: ${tracker.existing.toLocaleString()} pods, ${tracker.running.toLocaleString()} Running (want ${targetPods.toLocaleString()})`,
          ),
        5000,
      );
      let doneSec: number | null = null;
      let sent: { failed: number; seconds: number };
      try {
        sent = await paced(name, requests, qps);
        const deadline = performance.now() + o.timeoutSec * 1000;
        while (performance.now() < deadline) {
          if (tracker.existing === targetPods && tracker.running === targetPods) {
            doneSec = (performance.now() - t0) / 1000;
            break;
          }
          await new Promise((r) => setTimeout(r, 100));
        }
      } finally {
        clearInterval(ticker);
      }
      const cpu1 = cpuNow();
      const after = await scrape();
      const controllerQueues = queueActivity(queuesBefore, await scrapeControllers());
      const samples = tracker.takeSamples();
      const outcome: PhaseOutcome = {
        phase: name,
        requests: requests.length,
        failedRequests: sent.failed,
        sendSec: round(sent.seconds),
        doneSec: doneSec === null ? null : round(doneSec),
        targetPods,
        podsAtEnd: { existing: tracker.existing, running: tracker.running },
        podStartupMs: latencySummary(samples.sli),
        seenToRunningMs: latencySummary(samples.seen),
        api: apiLatency(before, after),
        controllerQueues,
        cpuSec: Object.fromEntries(
          Object.entries(cpu1).map(([k, v]) => [k, round(v - cpu0[k as keyof typeof cpu0])]),
        ) as PhaseOutcome['cpuSec'],
        loadAvg1m: round(loadavg()[0]),
      };
      progress(
        `${nodes} nodes, ${name}: ${doneSec === null ? `NOT done in ${o.timeoutSec} s` : `done in ${round(doneSec)} s`}; pod startup p99 ${outcome.podStartupMs.p99} ms; worst mutating p99 ${Math.max(0, ...outcome.api.filter((a) => MUTATING.has(a.verb)).map((a) => a.p99ms))} ms; load ${outcome.loadAvg1m}; controller queues most retried: ${
          controllerQueues
            .slice(0, 3)
            .map((q) => `${q.name} ${q.retries}/${q.adds}`)
            .join(', ') || 'none'
        }`,
      );
      return outcome;
    };

    const phases: PhaseOutcome[] = [];
    phases.push(await phase('create', createRequests(call, plan), plan.pods));
    const random = seededRandom(o.seed);
    const scaled = plan.deployments.map((d) => ({ ...d, replicas: scaledReplicas(d.replicas, random) }));
    const scaledPods = scaled.reduce((n, d) => n + d.replicas, 0);
    phases.push(
      await phase(
        'scale',
        scaled.map(
          (d) => () =>
            call(
              'PATCH',
              deploymentsPath(d.namespace, d.name),
              JSON.stringify({ spec: { replicas: d.replicas } }),
              'application/merge-patch+json',
            ),
        ),
        scaledPods,
      ),
    );
    phases.push(await phase('delete', deleteRequests(call, plan), 0));

    const all = phases.flatMap((p) => p.api);
    const mutating = all.filter((a) => MUTATING.has(a.verb) && a.count > 0);
    const worst = mutating.sort((a, b) => b.p99ms - a.p99ms)[0];
    const readWithinSlo = all
      .filter((a) => a.verb === 'GET' || a.verb === 'LIST')
      .every((a) => a.p99ms / 1000 <= SLO.readP99Sec[a.scope as keyof typeof SLO.readP99Sec]);
    const startup = phases.filter((p) => p.phase !== 'delete').map((p) => p.podStartupMs.p99);
    const podStartupP99Sec = round(Math.max(...startup.filter((x) => !Number.isNaN(x))) / 1000);
    const mutatingP99Sec = round((worst?.p99ms ?? NaN) / 1000);
    const allPhasesDone = phases.every((p) => p.doneSec !== null && p.failedRequests === 0);
    return {
      nodes,
      namespaces: plan.namespaces.length,
      deployments: plan.deployments.length,
      services: plan.services.length,
      pods: plan.pods,
      qps,
      phases,
      verdict: {
        mutatingP99Sec,
        mutatingWorst: worst
          ? `${worst.verb} ${worst.resource}${worst.subresource && `/${worst.subresource}`}`
          : '',
        readWithinSlo,
        podStartupP99Sec,
        allPhasesDone,
        slosHold:
          allPhasesDone &&
          mutatingP99Sec <= SLO.mutatingP99Sec &&
          readWithinSlo &&
          podStartupP99Sec <= SLO.podStartupP99Sec,
      },
    };
  } finally {
    for (const w of watches) w.close();
    caller?.close();
    await cp.stop();
  }
}

function printOutcome(x: Outcome): void {
  console.log(
    `\n${x.nodes.toLocaleString()} nodes: ${x.namespaces} namespaces, ${x.deployments} Deployments, ${x.services} Services, ${x.pods.toLocaleString()} pods, ${x.qps} qps\n`,
  );
  console.log(
    table(
      x.phases.map((p) => ({
        phase: p.phase,
        requests: `${p.requests - p.failedRequests}/${p.requests}`,
        'sent s': p.sendSec,
        'all Running (delete: gone) s': p.doneSec ?? `not (${p.podsAtEnd.running}/${p.targetPods})`,
        'startup p50/p90/p99 ms': `${p.podStartupMs.p50}/${p.podStartupMs.p90}/${p.podStartupMs.p99}`,
        'seen→Running p99 ms': p.seenToRunningMs.p99,
        'mutating p99 ms (worst)': Math.max(
          0,
          ...p.api.filter((a) => MUTATING.has(a.verb)).map((a) => a.p99ms),
        ),
        'CPU s api/sched/cm/sim/pg': [
          p.cpuSec.apiserver,
          p.cpuSec.scheduler,
          p.cpuSec['controller-manager'],
          p.cpuSec.sim,
          p.cpuSec.postgres,
        ]
          .map((c) => round(c, 0))
          .join('/'),
        load: p.loadAvg1m,
      })),
    ),
  );
  const byCall = new Map<string, ApiLatency>();
  for (const a of x.phases.flatMap((p) => p.api))
    if (a.count >= 10) {
      const key = `${a.verb} ${a.resource}${a.subresource && `/${a.subresource}`} (${a.scope})`;
      if ((byCall.get(key)?.p99ms ?? -1) < a.p99ms) byCall.set(key, a);
    }
  console.log(`\nAPI p99 per call (worst phase; calls seen ≥ 10 times in it):\n`);
  console.log(
    table(
      [...byCall]
        .sort((a, b) => b[1].p99ms - a[1].p99ms)
        .slice(0, 15)
        .map(([key, a]) => ({ call: key, count: a.count, 'p50 ms': a.p50ms, 'p99 ms': a.p99ms })),
    ),
  );
  const v = x.verdict;
  console.log(
    `\nSLOs: mutating p99 ${v.mutatingP99Sec} s (${v.mutatingWorst}) ${v.mutatingP99Sec <= SLO.mutatingP99Sec ? '≤' : '>'} 1 s; ` +
      `reads ${v.readWithinSlo ? 'within' : 'NOT within'} 1/5/30 s; pod startup p99 ${v.podStartupP99Sec} s ${v.podStartupP99Sec <= SLO.podStartupP99Sec ? '≤' : '>'} 5 s; ` +
      `phases ${v.allPhasesDone ? 'all done' : 'NOT all done'} → ${v.slosHold ? 'HOLD' : 'MISSED'}`,
  );
}

export async function run(argv: string[]): Promise<void> {
  const { values } = parseArgs({
    args: argv,
    options: {
      nodes: { type: 'string' },
      seed: { type: 'string' },
      qps: { type: 'string' },
      timeout: { type: 'string' },
      help: { type: 'boolean' },
    },
  });
  if (values.help) return void console.log(HELP);
  const counts = (values.nodes ?? '100,1000').split(',').map(Number);
  const o = {
    seed: Number(values.seed ?? 1),
    qps: values.qps === undefined ? undefined : Number(values.qps),
    timeoutSec: Number(values.timeout ?? 900),
  };
  if (
    counts.some((n) => !Number.isInteger(n) || n < 1) ||
    !Number.isFinite(o.seed) ||
    (o.qps !== undefined && !(o.qps > 0))
  )
    throw new Error('--nodes wants positive whole numbers, --seed a number, --qps a positive number');
  const loadAtStart = loadavg().map((l) => round(l));
  const outcomes: Outcome[] = [];
  for (const n of counts) {
    const outcome = await runOnce(n, o);
    outcomes.push(outcome);
    printOutcome(outcome);
    // Written after each count: a later, larger one may take long or fail.
    await writeResult('load', { slo: SLO, options: o, loadAvgAtStart: loadAtStart, outcomes });
  }
  const best = outcomes.filter((x) => x.verdict.slosHold).sort((a, b) => b.nodes - a.nodes)[0];
  console.log(
    `\nLargest node count at which the SLOs hold: ${best ? best.nodes.toLocaleString() : 'none of those tried'}` +
      `\n(load average at start ${loadAtStart.join(' ')}: 2 shared cores, other work on the machine makes these figures noisy)`,
  );
  console.log(
    `\nwritten: ${await writeResult('load', { slo: SLO, options: o, loadAvgAtStart: loadAtStart, outcomes, largestHoldingSlos: best?.nodes ?? null })}`,
  );
}
