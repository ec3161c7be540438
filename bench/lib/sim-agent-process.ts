import { SIM_AGENT_READY_LINE } from '../../apps/node-agent/src/sim/sim-agent.js';
import { type ComponentProcess, startComponent } from './component-process.js';
import { type WatchedObject } from './pod-watch.js';

/** The list URL of the nodes the sim agent registers (its wake.dev/simulated=true label). */
export const SIMULATED_NODES_PATH = '/api/v1/nodes?labelSelector=wake.dev%2Fsimulated%3Dtrue';

export const isNodeReady = (n: WatchedObject) =>
  n.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ?? false;

/** 'wake node-agent --runtime sim --nodes N': one process for every simulated node. */
export function startSimAgentProcess(
  kubeconfig: string,
  natsUrl: string,
  nodes: number,
  o: {
    /** More node-agent flags (--sim-profile, …). */
    args?: string[];
    /** Flags for node itself, e.g. --expose-gc. */
    nodeArgs?: string[];
  } = {},
): Promise<ComponentProcess> {
  return startComponent(
    'sim node agent',
    [
      'node-agent',
      '--runtime',
      'sim',
      '--kubeconfig',
      kubeconfig,
      '--nats-url',
      natsUrl,
      '--nodes',
      String(nodes),
      ...(o.args ?? []),
    ],
    SIM_AGENT_READY_LINE,
    o.nodeArgs,
  );
}
