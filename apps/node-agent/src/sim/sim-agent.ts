import { connect, type NatsConnection } from '@nats-io/transport-node';

import { ApiClient, type ApiConnection, readKubeconfig, SharedInformers } from '@app/client';
import { type EventStreamOptions } from '@app/bus';

import { type ApiObject, type Node, type Pod } from '../api-types.js';
import { type NodeRegistration } from '../node/node-status.js';
import { RequestBudget } from './request-budget.js';
import { SimIpam } from './sim-ipam.js';
import { serveSimLogs } from './sim-logs.js';
import { simNodeFacts } from './sim-node-facts.js';
import { SimNodeStages } from './sim-node-stages.js';
import { SHARD_LABEL, SIMULATED_LABEL, SimNodes } from './sim-nodes.js';
import { SimPods } from './sim-pods.js';
import { type ProfileName, stagesFor } from './stages.js';

/** The line supervisors and the benchmark wait for. */
export const SIM_AGENT_READY_LINE = 'sim node agent ready';

export interface SimAgentConfig {
  connection: ApiConnection;
  natsUrl: string;
  stream?: EventStreamOptions;
  /** Simulated nodes in all: `<prefix>-0` … `<prefix>-<nodes−1>`. */
  nodes: number;
  /** Default `sim-node`. */
  nodeNamePrefix?: string;
  /** This process's share: the nodes whose index is `index` modulo `count` (default 0/1: all). */
  shard?: { index: number; count: number };
  /** Pod stages: `fast` (kwok's default) or `realistic` (with a Docker node's delays). */
  profile?: ProfileName;
  /** Add the chaos stages (node-not-ready, container crash loop), acting on labelled objects. */
  chaos?: boolean;
  /** Register with the `wake.dev/simulated=true:NoSchedule` taint, for clusters mixing real and simulated nodes. */
  taint?: boolean;
  /** Extra node labels and taints. */
  registration?: Omit<NodeRegistration, 'nodeName'>;
  maxPods?: number;
  cpu?: string;
  memory?: string;
  nodeCidr?: string;
  podCidr?: string;
  leaseDurationSeconds?: number;
  leaseRenewMs?: number;
  statusReportMs?: number;
  /** The kubelet's container restart back-off, base and cap (10 s → 300 s upstream). */
  restartBackoffMs?: [number, number];
  /** Requests this process has in flight at most (default 64) and starts per second (default: unlimited). */
  maxInFlight?: number;
  qps?: number;
  onTrouble?: (what: string, e: Error) => void;
}

export interface RunningSimAgent {
  /** The nodes this process speaks for. */
  nodes: SimNodes;
  pods: SimPods;
  budget: RequestBudget;
  /** Heap used before the nodes were made and once they were all registered (bytes). */
  heap: { before: number; registered: number };
  close(): Promise<void>;
}

/** The names and indexes of the nodes in this process's shard. */
export function shardNodes(
  total: number,
  prefix: string,
  shard = { index: 0, count: 1 },
): Map<string, number> {
  if (!(shard.count >= 1 && shard.index >= 0 && shard.index < shard.count))
    throw new RangeError(`shard ${shard.index}/${shard.count}: want 0 ≤ i < n`);
  const nodes = new Map<string, number>();
  for (let i = shard.index; i < total; i += shard.count) nodes.set(`${prefix}-${i}`, i);
  return nodes;
}

function heapUsed(): number {
  (globalThis as { gc?: () => void }).gc?.();
  return process.memoryUsage().heapUsed;
}

/**
 * The simulated runtime of the node agent (kwok's controller in Wake): one process registers
 * its share of N nodes, keeps their Leases and statuses, and plays the pods bound to them
 * through data-driven stages, every write within one request budget. Resolves once every node
 * is registered and the informers have synced.
 */
export async function startSimAgent(c: SimAgentConfig): Promise<RunningSimAgent> {
  const before = heapUsed();
  const shard = c.shard ?? { index: 0, count: 1 };
  const prefix = c.nodeNamePrefix ?? 'sim-node';
  const managed = shardNodes(c.nodes, prefix, shard);
  const maxInFlight = c.maxInFlight ?? 64;
  const api = new ApiClient(c.connection, {
    userAgent: `wake-sim-node-agent/${shard.index}-of-${shard.count}`,
    maxInFlight,
  });
  let nats: NatsConnection | undefined;
  const budget = new RequestBudget({ maxInFlight, qps: c.qps });
  const ipam = new SimIpam({ nodeCidr: c.nodeCidr, podCidr: c.podCidr });
  if (c.nodes > ipam.capacity)
    throw new RangeError(`${c.nodes} nodes: the address ranges hold ${ipam.capacity}`);
  const stages = stagesFor(c.profile ?? 'fast', { chaos: c.chaos, restartBackoffMs: c.restartBackoffMs });
  const restartBackoffMs = c.restartBackoffMs ?? [10_000, 300_000];
  let informers: SharedInformers | undefined;
  let nodes: SimNodes | undefined;
  let pods: SimPods | undefined;
  let nodeStages: SimNodeStages | undefined;
  let logs: { close(): void } | undefined;
  const close = async () => {
    logs?.close();
    nodes?.stop();
    pods?.stop();
    nodeStages?.stop();
    await informers?.stop();
    await budget.close();
    api.close();
    await nats?.close();
  };
  try {
    nats = await connect({ servers: c.natsUrl, maxReconnectAttempts: -1 });
    const version = await api
      .call<{ gitVersion: string }>('GET', '/version')
      .then((v) => v.gitVersion)
      .catch(() => 'v0.0.0-unknown');
    nodes = new SimNodes({
      api,
      budget,
      ipam,
      facts: simNodeFacts({ cpu: c.cpu, memory: c.memory, maxPods: c.maxPods, version }),
      nodes: managed,
      registration: {
        ...c.registration,
        labels: {
          ...c.registration?.labels,
          [SIMULATED_LABEL]: 'true',
          [SHARD_LABEL]: `${shard.index}-of-${shard.count}`,
          'node.kubernetes.io/instance-type': 'simulated',
        },
        taints: [
          ...(c.registration?.taints ?? []),
          ...(c.taint ? [{ key: SIMULATED_LABEL, value: 'true', effect: 'NoSchedule' as const }] : []),
        ],
      },
      leaseDurationSeconds: c.leaseDurationSeconds,
      leaseRenewMs: c.leaseRenewMs,
      statusReportMs: c.statusReportMs,
      onTrouble: c.onTrouble,
    });
    informers = new SharedInformers({
      api,
      nats,
      stream: c.stream,
      onTrouble: c.onTrouble,
    });
    const podInformer = informers.informer<ApiObject<Pod>>({ group: '', version: 'v1', plural: 'pods' });
    pods = new SimPods({
      api,
      budget,
      ipam,
      informer: podInformer,
      nodes: managed,
      nodeIP: (name) => ipam.nodeIP(managed.get(name)!),
      stages,
      restartBackoffMs,
      onTrouble: c.onTrouble,
    });
    if (stages.some((s) => s.resource === 'Node')) {
      const nodeInformer = informers.informer<ApiObject<Node>>({ group: '', version: 'v1', plural: 'nodes' });
      nodeStages = new SimNodeStages(nodeInformer, nodes, stages, c.onTrouble);
    }
    await nodes.start();
    const registered = heapUsed();
    pods.start();
    nodeStages?.start();
    await informers.start();
    logs = serveSimLogs(nats, managed.keys(), podInformer);
    return { nodes, pods, budget, heap: { before, registered }, close };
  } catch (e) {
    await close();
    throw e;
  }
}

/** `wake node-agent --runtime sim`: runs until SIGTERM/SIGINT. */
export async function runSimAgent(
  o: Omit<SimAgentConfig, 'connection'> & { kubeconfig: string },
): Promise<number> {
  const connection = await readKubeconfig(o.kubeconfig);
  const errors = new Map<string, number>();
  const agent = await startSimAgent({
    ...o,
    connection,
    // Thousands of nodes fail together when the API server is away: say so once a kind, not once a node.
    onTrouble: (what, e) => {
      const kind = what.replace(/ \S+$/, '');
      const n = (errors.get(kind) ?? 0) + 1;
      errors.set(kind, n);
      if (Number.isInteger(Math.log2(n)))
        process.stderr.write(`sim node agent: ${what} failed (${n}× so far): ${e.message}\n`);
    },
  });
  const perNode = (agent.heap.registered - agent.heap.before) / Math.max(1, agent.nodes.names.length);
  process.stdout.write(
    `${SIM_AGENT_READY_LINE}: ${agent.nodes.names.length} nodes, heap ${Math.round(agent.heap.registered / 2 ** 20)} MiB, ${Math.round(perNode)} bytes a node\n`,
  );
  await new Promise<void>((resolve) => {
    process.once('SIGTERM', resolve);
    process.once('SIGINT', resolve);
  });
  await agent.close();
  return 0;
}
