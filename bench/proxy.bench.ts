import { cpus, loadavg } from 'node:os';
import { parseArgs } from 'node:util';

import { waitFor } from '@app/dev-servers';

import { apiCaller } from './lib/api-caller.js';
import { type ApiServerProcess } from './lib/api-server-process.js';
import { type ComponentProcess } from './lib/component-process.js';
import { startControlPlane } from './lib/control-plane.js';
import { startControllerManagerProcess } from './lib/controller-manager-process.js';
import { treeCpuSeconds } from './lib/cpu-time.js';
import { hostClient, type MeasureClient, startNetnsClient } from './lib/measure-client.js';
import { startPipeProxy } from './lib/pipe-proxy.js';
import { createPodNetns, leftoverRules, type PodNetns } from './lib/pod-netns.js';
import { type ChangeKind, measureChange } from './lib/propagation.js';
import { startProxyProcess } from './lib/proxy-process.js';
import { startTargets, type Targets } from './lib/proxy-targets.js';
import { watchSliceReadiness } from './lib/slice-watch.js';
import { progress, table, writeResult } from './lib/report.js';
import { medianRatio, round, summarize } from './lib/stats.js';
import {
  type Address,
  type ConnectionRateResult,
  probeWho,
  type RoundTripResult,
  sleep,
  socketErrors,
  type ThroughputResult,
} from './lib/tcp-measure.js';
import { runningPodStatus } from '../test/harness/static-pods.js';

export const description =
  'service proxy: throughput, latency, conn/s via a NodePort vs direct; endpoint-change propagation';

const HELP = `npm run bench -- proxy [options]

The service proxy against a direct connection to the pod. Backends are small TCP servers the
bench runs in a process of their own on loopback addresses (127.0.0.2, ...); they are the pods'
IPs of static pods whose status the bench writes (no Docker). The cluster: Postgres, nats-server,
the relay, 'wake apiserver', 'wake controller-manager --controllers endpointslice' and
'wake proxy' (no service range, so nothing refused there; an instance id of its own), each its own
process. Paths, each measured alike:
  direct       host client → pod address (round robin over the replicas)
  proxy        host client → 127.0.0.1:<nodePort> → proxy → pod
  pod-direct   client in a network namespace the bench makes (a veth to the host, link-local
               addresses, a FORWARD DROP guard so nothing leaves the machine) → the pods'
               addresses (round robin)
  pod-proxy    that client → ClusterIP:port → the proxy's nat PREROUTING rules → pod: in iptables
               mode (the default) the kernel DNATs to the pod; in userspace mode to the proxy
               port, and the proxy copies. With the pod paths the backends' addresses are
               link-local addresses of the host (loopback cannot be a PREROUTING DNAT target)
Needs root for the namespace and rules (--host-only without the pod paths). Measurements:
  throughput   bulk download over parallel connections, MB/s; proxied ÷ direct in each round,
               the median over rounds is judged (goal ≥ 80%)
  latency      64-byte round trips, one at a time: on one persistent connection, and each on
               a new connection (connect + request + reply)
  conn/s       new connections per second (connect → echo → close) from parallel loops
  references   the same load through a minimal Node pipe proxy (accept, dial, pipe: the
               least a userspace proxy in Node does) and, from the pod, through a kernel
               DNAT rule straight to the backend (kube-proxy's iptables mode), so the
               proxy's figures can be told apart from the cost of its mechanism
  propagation  a pod's readiness flipped through the status subresource → the proxy routes to it
               (add) or stops (remove), seen by probing the Service (from the pod netns by
               ClusterIP when there is one, else the NodePort); split into pod write →
               EndpointSlice seen on the bus, and slice → proxy (goal p99 ≤ 1 s)

  --proxy-mode M    iptables (default) or userspace: the proxy's --proxy-mode for pod traffic
  --replicas N      backends of the measured Service (default 3)
  --rounds N        throughput rounds per path, in alternating order (default 3)
  --seconds N       each throughput round's counted window (default 5; 1 s warm-up before)
  --connections N   parallel bulk connections (default 4)
  --requests N      round trips per latency run (default 2000; at most 10 s each)
  --concurrency N   parallel loops for conn/s (default 8)
  --conn-seconds N  conn/s window (default 3; at most 20000 connections)
  --changes N       readiness flips for propagation, half adds and half removes (default 20)
  --host-only       no pod paths (no network namespace, no netfilter rules of the bench's own)
  --direct-only     no cluster and no proxy: the direct baselines only
  --help            this text`;

const NAMESPACE = 'bench-proxy';
/** A node without an agent: the bench writes its pods' status. */
const STATIC_NODE = 'bench-static';
const LOAD_SERVICE = 'load';
const FLIP_SERVICE = 'flip';

interface PathResult {
  throughput: ThroughputResult[];
  medianMegabytesPerSecond: number;
  persistent: RoundTripResult;
  newConnection: RoundTripResult;
  connectionRate: ConnectionRateResult;
}

interface Options {
  mode: 'iptables' | 'userspace';
  replicas: number;
  rounds: number;
  seconds: number;
  connections: number;
  requests: number;
  concurrency: number;
  connSeconds: number;
  changes: number;
}

function median(xs: number[]): number {
  return summarize(xs).p50;
}

/**
 * One way to the backends: who measures (the host, or a pod netns) and where its connections
 * go (the bulk and echo ports: the pods' addresses round robin, a NodePort, or a ClusterIP).
 */
interface Path {
  name: PathName;
  client: MeasureClient;
  bulk: Address[];
  echo: Address[];
}
type PathName = 'direct' | 'proxy' | 'pipe' | 'pod-direct' | 'pod-proxy' | 'pod-dnat';

async function measureLatencies(path: Path, o: Options) {
  progress(`${path.name}: ${o.requests} round trips on one connection`);
  const persistent = await path.client.roundTrips(path.echo, {
    requests: o.requests,
    seconds: 10,
    size: 64,
    newConnectionEach: false,
  });
  progress(`${path.name}: ${o.requests} round trips each on a new connection`);
  const newConnection = await path.client.roundTrips(path.echo, {
    requests: o.requests,
    seconds: 10,
    size: 64,
    newConnectionEach: true,
  });
  progress(`${path.name}: new connections per second, ${o.concurrency} loops for ${o.connSeconds} s`);
  const connectionRate = await path.client.connectionRate(path.echo, {
    concurrency: o.concurrency,
    seconds: o.connSeconds,
    maxConnections: 20_000,
  });
  return { persistent, newConnection, connectionRate };
}

/**
 * Throughput rounds: the host's paths together, then the pod's, each group in alternating
 * order (as listed in odd rounds, reversed in even ones), so that load from elsewhere on a
 * shared machine hits a proxied path and its direct twin alike and each round gives a ratio.
 */
async function measurePaths(paths: Path[], o: Options): Promise<Partial<Record<PathName, PathResult>>> {
  const rounds = new Map<string, ThroughputResult[]>(paths.map((p) => [p.name, []]));
  const pairs = [
    paths.filter((p) => !p.name.startsWith('pod')),
    paths.filter((p) => p.name.startsWith('pod')),
  ].filter((pair) => pair.length > 0);
  for (let r = 1; r <= o.rounds; r++) {
    for (const pair of pairs) {
      for (const path of r % 2 === 1 ? pair : [...pair].reverse()) {
        progress(`${path.name}: throughput round ${r}/${o.rounds}, ${o.connections} connections`);
        rounds.get(path.name)?.push(
          await path.client.throughput(path.bulk, {
            connections: o.connections,
            seconds: o.seconds,
            warmupSeconds: 1,
          }),
        );
        await sleep(200);
      }
    }
  }
  const out: Partial<Record<PathName, PathResult>> = {};
  for (const path of paths) {
    const throughput = rounds.get(path.name) ?? [];
    out[path.name] = {
      throughput,
      medianMegabytesPerSecond: median(throughput.map((t) => t.megabytesPerSecond)),
      ...(await measureLatencies(path, o)),
    };
  }
  return out;
}

/** The control plane and proxy the proxied path and propagation need, each in its own process. */
interface Cluster {
  api: ApiServerProcess;
  natsUrl: string;
  proxy: ComponentProcess;
  call(method: string, path: string, body?: unknown): Promise<unknown>;
  stop(): Promise<void>;
}

async function startCluster(o: {
  instanceId: string;
  gateway?: string;
  mode: Options['mode'];
}): Promise<Cluster> {
  const cp = await startControlPlane('proxy');
  const { api, nats } = cp;
  const caller = apiCaller(api, 4);
  const stop = async () => {
    caller.close();
    // Last started first: the proxy removes its rules while the rest still runs.
    await cp.stop();
  };
  try {
    await cp.add(
      startControllerManagerProcess(api.componentKubeconfig('controller-manager'), nats.url, [
        'endpointslice',
      ]),
    );
    const call = async (method: string, path: string, body?: unknown) => {
      const r = await caller.call(method, path, body);
      if (r.status >= 300) throw new Error(`${method} ${path}: HTTP ${r.status} ${r.text}`);
      return JSON.parse(r.text) as unknown;
    };
    const proxy = await cp.add(
      startProxyProcess({
        kubeconfig: api.componentKubeconfig('proxy'),
        natsUrl: nats.url,
        nodeName: STATIC_NODE,
        instanceId: o.instanceId,
        gateway: o.gateway,
        mode: o.mode,
      }),
    );
    return { api, natsUrl: nats.url, proxy, call, stop };
  } catch (e) {
    await stop();
    throw e;
  }
}

interface Pod {
  metadata: { name: string; resourceVersion: string };
  spec: unknown;
  status?: unknown;
}

/** A pod on the static node whose status says Running at `ip`, Ready or not: what a kubelet would write. */
async function staticPod(cluster: Cluster, name: string, labels: Record<string, string>, ip: string) {
  const pod = (await cluster.call('POST', `/api/v1/namespaces/${NAMESPACE}/pods`, {
    metadata: { name, labels },
    spec: { nodeName: STATIC_NODE, containers: [{ name: 'c', image: 'busybox:1' }] },
  })) as Pod;
  return setReady(cluster, pod, ip, true);
}

async function setReady(cluster: Cluster, pod: Pod, ip: string, ready: boolean): Promise<Pod> {
  return (await cluster.call('PUT', `/api/v1/namespaces/${NAMESPACE}/pods/${pod.metadata.name}/status`, {
    ...pod,
    status: runningPodStatus(ip, ready),
  })) as Pod;
}

interface ServicePort {
  name: string;
  port: number;
  targetPort: number;
  nodePort: number;
}

async function nodePortService(
  cluster: Cluster,
  name: string,
  ports: { name: string; port: number; targetPort: number }[],
): Promise<{ clusterIP: string; ports: Record<string, ServicePort> }> {
  const svc = (await cluster.call('POST', `/api/v1/namespaces/${NAMESPACE}/services`, {
    metadata: { name },
    spec: {
      type: 'NodePort',
      selector: { app: name },
      ports: ports.map((p) => ({ ...p, protocol: 'TCP' })),
    },
  })) as { spec: { clusterIP: string; ports: ServicePort[] } };
  return {
    clusterIP: svc.spec.clusterIP,
    ports: Object.fromEntries(svc.spec.ports.map((p) => [p.name, p])),
  };
}

/** Waits until probes through `at` have reached every one of `hosts`. */
async function waitForRoutes(what: string, at: Address, hosts: string[]): Promise<void> {
  await waitFor(
    what,
    async () => {
      const seen = new Set<string>();
      for (let i = 0; i < hosts.length * 3; i++) seen.add(await probeWho(at));
      return hosts.every((h) => seen.has(h)) ? true : undefined;
    },
    { timeoutMs: 60_000, intervalMs: 200 },
  );
}

interface ChangeResult {
  kind: ChangeKind;
  /** Pod status write → the proxy routes accordingly (undefined: not within the timeout). */
  totalMs?: number;
  /** Pod status write → the EndpointSlice change seen by the bench's informer (as the proxy's sees it). */
  sliceMs?: number;
  probes: number;
  failedProbes: number;
}

/**
 * Flips endpoint B of the flip Service (A stays Ready) `changes` times and measures each change
 * through the NodePort. The bench's own EndpointSlice informer splits each delay in two.
 */
async function measurePropagation(
  cluster: Cluster,
  o: { changes: number; who: () => Promise<string>; b: string; podB: Pod },
): Promise<ChangeResult[]> {
  const watch = await watchSliceReadiness(
    { server: cluster.api.url, caCert: cluster.api.caCert, token: cluster.api.token },
    cluster.natsUrl,
    { namespace: NAMESPACE, service: FLIP_SERVICE, ip: o.b },
  );
  const results: ChangeResult[] = [];
  let pod = o.podB;
  try {
    for (let i = 0; i < o.changes; i++) {
      const kind: ChangeKind = i % 2 === 0 ? 'remove' : 'add';
      const m = await measureChange({
        kind,
        endpoint: o.b,
        change: async () => {
          pod = await setReady(cluster, pod, o.b, kind === 'add');
        },
        probe: o.who,
        intervalMs: 2,
        timeoutMs: 10_000,
        confirm: { probes: 10, ms: 100 },
      });
      const slice = watch.flips.find((f) => f.at >= m.changedAt && f.ready === (kind === 'add'));
      results.push({
        kind,
        totalMs: m.delayMs,
        sliceMs: slice === undefined ? undefined : slice.at - m.changedAt,
        probes: m.probes.length,
        failedProbes: m.probes.filter((p) => p.error !== undefined).length,
      });
      progress(
        `change ${i + 1}/${o.changes} (${kind}): ${m.delayMs === undefined ? 'not seen in 10 s' : `${round(m.delayMs, 1)} ms`}`,
      );
      // Settle: the next change starts from a quiet pipeline.
      await sleep(100 + Math.random() * 100);
    }
  } finally {
    await watch.close();
  }
  return results;
}

function latencyRow(path: string, r: PathResult) {
  return {
    path,
    'MB/s': round(r.medianMegabytesPerSecond, 0),
    'rtt p50 ms': round(r.persistent.latencyMs.p50, 3),
    'rtt p99 ms': round(r.persistent.latencyMs.p99, 3),
    'new-conn p50 ms': round(r.newConnection.latencyMs.p50, 3),
    'new-conn p99 ms': round(r.newConnection.latencyMs.p99, 3),
    'conn/s': round(r.connectionRate.perSecond, 0),
    'conn errors': r.connectionRate.errors,
  };
}

export async function run(argv: string[]): Promise<void> {
  const { values } = parseArgs({
    args: argv,
    options: {
      replicas: { type: 'string' },
      rounds: { type: 'string' },
      seconds: { type: 'string' },
      connections: { type: 'string' },
      requests: { type: 'string' },
      concurrency: { type: 'string' },
      'conn-seconds': { type: 'string' },
      changes: { type: 'string' },
      'proxy-mode': { type: 'string' },
      'direct-only': { type: 'boolean' },
      'host-only': { type: 'boolean' },
      help: { type: 'boolean' },
    },
  });
  if (values.help) return console.log(HELP);
  const count = (v: string | undefined, fallback: number, flag: string, max: number) => {
    const n = Number(v ?? fallback);
    if (!Number.isInteger(n) || n < 1 || n > max) throw new Error(`${flag}: a whole number 1..${max}`);
    return n;
  };
  const mode = values['proxy-mode'] ?? 'iptables';
  if (mode !== 'iptables' && mode !== 'userspace')
    throw new Error(`--proxy-mode: iptables or userspace, not ${JSON.stringify(mode)}`);
  const o: Options = {
    mode,
    replicas: count(values.replicas, 3, '--replicas', 50),
    rounds: count(values.rounds, 3, '--rounds', 20),
    seconds: count(values.seconds, 5, '--seconds', 60),
    connections: count(values.connections, 4, '--connections', 64),
    requests: count(values.requests, 2000, '--requests', 100_000),
    concurrency: count(values.concurrency, 8, '--concurrency', 64),
    connSeconds: count(values['conn-seconds'], 3, '--conn-seconds', 30),
    changes: count(values.changes, 20, '--changes', 1000),
  };
  let loadHosts = Array.from({ length: o.replicas }, (_, i) => `127.0.0.${i + 2}`);
  let flipA = `127.0.0.${o.replicas + 2}`;
  let flipB = `127.0.0.${o.replicas + 3}`;
  const loadAverageBefore = loadavg().map((x) => round(x));
  // 1-5 of [a-z0-9]: the proxy's chain names (and the veth names) have room for no more.
  const instanceId = `b${(process.pid % 36 ** 4).toString(36)}`;
  // The proxy's portal rules, the pod netns and its rules all need root.
  if (process.getuid?.() !== 0 && !values['direct-only'])
    throw new Error('the proxy bench needs root (iptables, ip netns); --direct-only runs without');
  const withPods = !values['direct-only'] && !values['host-only'];
  let targets: Targets | undefined;
  let cluster: Cluster | undefined;
  let netns: PodNetns | undefined;
  let podClient: MeasureClient | undefined;
  let pipeBulk: Awaited<ReturnType<typeof startPipeProxy>> | undefined;
  let pipeEcho: typeof pipeBulk;
  try {
    if (withPods) {
      progress(`creating the pod network namespace (instance ${instanceId})`);
      netns = await createPodNetns(instanceId, process.pid);
      podClient = await startNetnsClient(netns.name);
      // Backends the pod's ClusterIP traffic can be DNATed to by the kernel (iptables mode):
      // not loopback; the host paths use them too, so direct and proxied reach the same servers.
      const hosts = await netns.addBackendAddresses(o.replicas + 2);
      loadHosts = hosts.slice(0, o.replicas);
      [flipA, flipB] = hosts.slice(o.replicas) as [string, string];
    }
    // The pod's gateway too: the reference DNAT rule (pod-dnat) reaches the backends there.
    const targetHosts = [...loadHosts, flipA, flipB, ...(netns ? [netns.hostAddress] : [])];
    progress(`starting the backends on ${targetHosts.join(', ')}`);
    targets = await startTargets(targetHosts);
    const t = targets;
    const paths: Path[] = [
      {
        name: 'direct',
        client: hostClient,
        bulk: loadHosts.map((host) => ({ host, port: t.bulk })),
        echo: loadHosts.map((host) => ({ host, port: t.echo })),
      },
    ];
    if (netns && podClient) {
      // The pod straight to the replicas' addresses, round robin: the same servers pod-proxy
      // reaches through the Service, so the ratio compares paths, not targets.
      paths.push({
        name: 'pod-direct',
        client: podClient,
        bulk: loadHosts.map((host) => ({ host, port: t.bulk })),
        echo: loadHosts.map((host) => ({ host, port: t.echo })),
      });
    }
    if (values['direct-only']) {
      await report(o, await measurePaths(paths, o), [], { loadAverageBefore });
      return;
    }
    progress(
      'starting Postgres, nats-server, the relay, the API server, the EndpointSlice controller and the proxy',
    );
    cluster = await startCluster({ instanceId, gateway: netns?.hostAddress, mode: o.mode });
    const c = cluster;
    await c.call('POST', '/api/v1/namespaces', { metadata: { name: NAMESPACE } });
    await c.call('POST', '/api/v1/nodes', {
      metadata: { name: STATIC_NODE },
      spec: { unschedulable: true },
    });
    for (const [i, ip] of loadHosts.entries()) await staticPod(c, `load-${i}`, { app: LOAD_SERVICE }, ip);
    await staticPod(c, 'flip-a', { app: FLIP_SERVICE }, flipA);
    const podB = await staticPod(c, 'flip-b', { app: FLIP_SERVICE }, flipB);
    // Unusual service ports: the proxy's portal rules match ClusterIP:port, and other clusters
    // on this host allocate ClusterIPs from the same default range.
    const load = await nodePortService(c, LOAD_SERVICE, [
      { name: 'bulk', port: 41001, targetPort: t.bulk },
      { name: 'echo', port: 41002, targetPort: t.echo },
      { name: 'who', port: 41003, targetPort: t.who },
    ]);
    const flip = await nodePortService(c, FLIP_SERVICE, [{ name: 'who', port: 41003, targetPort: t.who }]);
    const nodePort = (p: ServicePort): Address => ({ host: '127.0.0.1', port: p.nodePort });
    progress('waiting until the proxy routes to every backend');
    await waitForRoutes('the load Service to reach every replica', nodePort(load.ports.who), loadHosts);
    await waitForRoutes('the flip Service to reach both endpoints', nodePort(flip.ports.who), [flipA, flipB]);
    paths.push({
      name: 'proxy',
      client: hostClient,
      bulk: [nodePort(load.ports.bulk)],
      echo: [nodePort(load.ports.echo)],
    });
    pipeBulk = await startPipeProxy(loadHosts.map((host) => ({ host, port: t.bulk })));
    pipeEcho = await startPipeProxy(loadHosts.map((host) => ({ host, port: t.echo })));
    paths.push({ name: 'pipe', client: hostClient, bulk: [pipeBulk.at], echo: [pipeEcho.at] });
    if (podClient) {
      const pod = podClient;
      const clusterIP = (p: ServicePort): Address => ({ host: load.clusterIP, port: p.port });
      await waitFor(
        'the pod netns to reach the load Service at its ClusterIP',
        async () =>
          (
            await pod.roundTrips([clusterIP(load.ports.echo)], {
              requests: 1,
              seconds: 2,
              size: 1,
              newConnectionEach: true,
            })
          ).count === 1 || undefined,
        { timeoutMs: 30_000, intervalMs: 200 },
      );
      paths.push({
        name: 'pod-proxy',
        client: pod,
        bulk: [clusterIP(load.ports.bulk)],
        echo: [clusterIP(load.ports.echo)],
      });
      if (netns) {
        const v = netns.virtualAddress;
        await netns.dnat({ host: v, port: 41001 }, { host: netns.hostAddress, port: t.bulk });
        await netns.dnat({ host: v, port: 41002 }, { host: netns.hostAddress, port: t.echo });
        paths.push({
          name: 'pod-dnat',
          client: pod,
          bulk: [{ host: v, port: 41001 }],
          echo: [{ host: v, port: 41002 }],
        });
      }
    }
    const cpu0 = treeCpuSeconds(c.proxy.pid);
    const measured = await measurePaths(paths, o);
    const proxyCpuSec = round(treeCpuSeconds(c.proxy.pid) - cpu0);
    // From the pod by ClusterIP when there is one: in iptables mode that is the rule sync's delay
    // (the NodePort's userspace balancer is updated before the rules are written).
    const probe = podClient
      ? { client: podClient, at: { host: flip.clusterIP, port: flip.ports.who.port }, via: 'pod → ClusterIP' }
      : { client: hostClient, at: nodePort(flip.ports.who), via: 'host → NodePort' };
    progress(`propagation: ${o.changes} readiness flips of ${flipB}, probed ${probe.via}`);
    const propagation = await measurePropagation(c, {
      changes: o.changes,
      who: () => probe.client.who(probe.at),
      b: flipB,
      podB,
    });
    await report(o, measured, propagation, { loadAverageBefore, proxyCpuSec, propagationProbe: probe.via });
  } finally {
    // The proxy first (it removes its rules), then the pod netns and its guard.
    await Promise.allSettled([
      cluster?.stop(),
      targets?.stop(),
      podClient?.close(),
      pipeBulk?.stop(),
      pipeEcho?.stop(),
    ]);
    await netns?.remove();
    if (!values['direct-only']) {
      const left = await leftoverRules(instanceId);
      if (left.length > 0) {
        console.log(`rules left behind by instance ${instanceId}:\n  ${left.join('\n  ')}`);
        process.exitCode = 1;
      } else progress(`no netfilter rule of instance ${instanceId} is left`);
    }
  }
}

/** The proxied path against its direct twin: throughput ratio, added latency, conn/s ratio. */
function compare(proxy: PathResult, direct: PathResult) {
  const rate = (r: PathResult) => r.throughput.map((t) => t.megabytesPerSecond);
  return {
    /** The median over rounds of proxied ÷ direct measured side by side. */
    throughputRatio: medianRatio(rate(proxy), rate(direct)),
    /** The ratio of the two medians (less robust to load that changes between rounds). */
    throughputRatioOfMedians: proxy.medianMegabytesPerSecond / direct.medianMegabytesPerSecond,
    addedLatencyMs: {
      persistentP50: proxy.persistent.latencyMs.p50 - direct.persistent.latencyMs.p50,
      persistentP99: proxy.persistent.latencyMs.p99 - direct.persistent.latencyMs.p99,
      newConnectionP50: proxy.newConnection.latencyMs.p50 - direct.newConnection.latencyMs.p50,
      newConnectionP99: proxy.newConnection.latencyMs.p99 - direct.newConnection.latencyMs.p99,
    },
    connectionRateRatio: proxy.connectionRate.perSecond / direct.connectionRate.perSecond,
  };
}

async function report(
  o: Options,
  measured: Partial<Record<PathName, PathResult>>,
  propagation: ChangeResult[],
  extra: { loadAverageBefore: number[]; proxyCpuSec?: number; propagationProbe?: string },
): Promise<void> {
  console.log(`proxy mode measured: ${o.mode}`);
  console.log(table(Object.entries(measured).map(([path, r]) => latencyRow(path, r))));
  const comparisons: Record<string, ReturnType<typeof compare>> = {};
  for (const [proxied, direct, what] of [
    ['proxy', 'direct', 'host → NodePort'],
    ['pod-proxy', 'pod-direct', `pod → ClusterIP (${o.mode} mode)`],
    ['pipe', 'direct', 'reference: host → minimal Node pipe proxy'],
    ['pod-dnat', 'pod-direct', 'reference: pod → kernel DNAT (iptables mode)'],
  ] as const) {
    const p = measured[proxied];
    const d = measured[direct];
    if (!p || !d) continue;
    const cmp = compare(p, d);
    comparisons[what] = cmp;
    const goal = what.startsWith('reference')
      ? ''
      : `; goal ≥ 80%: ${cmp.throughputRatio >= 0.8 ? 'met' : 'NOT met'}`;
    console.log(
      `${what}: throughput ${round(cmp.throughputRatio * 100, 1)}% of direct (median of ${o.rounds} paired rounds${goal}); ` +
        `added latency p50 ${round(cmp.addedLatencyMs.persistentP50, 3)} ms persistent, ${round(cmp.addedLatencyMs.newConnectionP50, 3)} ms new connection; ` +
        `conn/s ${round(cmp.connectionRateRatio, 2)}× direct`,
    );
  }
  const seen = propagation.filter((c) => c.totalMs !== undefined);
  const total = summarize(seen.map((c) => c.totalMs as number));
  const kinds = (kind: ChangeKind) =>
    summarize(
      propagation.filter((c) => c.kind === kind && c.totalMs !== undefined).map((c) => c.totalMs as number),
    );
  const withSlice = seen.filter((c) => c.sliceMs !== undefined);
  const slice = summarize(withSlice.map((c) => c.sliceMs as number));
  const proxyPart = summarize(withSlice.map((c) => (c.totalMs as number) - (c.sliceMs as number)));
  if (propagation.length > 0) {
    console.log(
      table([
        { what: 'pod write → routed (all)', ...row(total) },
        { what: '  of which adds', ...row(kinds('add')) },
        { what: '  of which removes', ...row(kinds('remove')) },
        { what: 'pod write → slice on bus', ...row(slice) },
        { what: 'slice on bus → routed', ...row(proxyPart) },
      ]),
    );
    console.log(
      `propagation p99 ≤ 1000 ms: ${seen.length === propagation.length && total.p99 <= 1000 ? 'met' : 'NOT met'} (${seen.length}/${propagation.length} changes seen)`,
    );
  }
  if (extra.proxyCpuSec !== undefined)
    console.log(`proxy process CPU during the throughput/latency runs: ${extra.proxyCpuSec} s`);
  const loadAverageAfter = loadavg().map((x) => round(x));
  console.log(
    `load average before ${extra.loadAverageBefore.join(' ')}, after ${loadAverageAfter.join(' ')} (shared machine, ${cpus().length} cores)`,
  );
  if (socketErrors.count > 0)
    console.log(`socket errors: ${socketErrors.count} (first: ${socketErrors.first})`);
  const result = {
    mode: o.mode,
    options: o,
    propagationProbe: extra.propagationProbe,
    loadAverageBefore: extra.loadAverageBefore,
    loadAverageAfter,
    paths: measured,
    comparisons,
    goalThroughputRatio: 0.8,
    proxyCpuSec: extra.proxyCpuSec,
    propagationMs:
      propagation.length > 0
        ? { total, adds: kinds('add'), removes: kinds('remove'), slice, proxy: proxyPart }
        : undefined,
    goalPropagationP99Ms: 1000,
    changes: propagation,
    socketErrors: socketErrors.count,
  };
  console.log(`wrote ${await writeResult('proxy', result)}`);
}

function row(s: ReturnType<typeof summarize>) {
  return {
    n: s.count,
    'p50 ms': round(s.p50, 1),
    'p90 ms': round(s.p90, 1),
    'p99 ms': round(s.p99, 1),
    'max ms': round(s.max, 1),
  };
}
