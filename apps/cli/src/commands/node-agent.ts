import { isIP } from 'node:net';

import { runNodeAgent } from '../../../node-agent/src/run-node-agent.js';
import { type NodeAgentConfig } from '../../../node-agent/src/node-agent.module.js';
import { runSimAgent, type SimAgentConfig } from '../../../node-agent/src/sim/sim-agent.js';

type Taint = NonNullable<NonNullable<NodeAgentConfig['registration']>['taints']>[number];

/** `wake node-agent`: the node agent in this process until SIGTERM; its pods keep running. */
export function nodeAgent(o: Omit<NodeAgentConfig, 'connection'> & { kubeconfig: string }): Promise<number> {
  return runNodeAgent(o);
}

/** `wake node-agent --runtime sim`: one process plays N simulated nodes until SIGTERM. */
export function simNodeAgent(
  o: Omit<SimAgentConfig, 'connection'> & { kubeconfig: string },
): Promise<number> {
  return runSimAgent(o);
}

/** --shard i/n: this process takes the nodes whose index is i modulo n. */
export function parseShard(text: string | undefined): { index: number; count: number } | undefined {
  if (text === undefined) return undefined;
  const m = /^(\d+)\/(\d+)$/.exec(text);
  const shard = m ? { index: Number(m[1]), count: Number(m[2]) } : undefined;
  if (!shard || shard.count < 1 || shard.index >= shard.count)
    throw new Error(`--shard: want i/n with 0 <= i < n, got ${JSON.stringify(text)}`);
  return shard;
}

/** The kubelet's --cluster-dns: a comma-separated list of IP addresses. */
export function parseClusterDns(text: string | undefined): string[] | undefined {
  if (text === undefined) return undefined;
  const ips = text
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  for (const ip of ips)
    if (!isIP(ip)) throw new Error(`--cluster-dns: want IP addresses, got ${JSON.stringify(ip)}`);
  return ips;
}

/** The kubelet's --node-labels: `k=v,k2=v2`. */
export function parseLabels(text: string | undefined): Record<string, string> | undefined {
  if (!text) return undefined;
  const labels: Record<string, string> = {};
  for (const pair of text.split(',').filter(Boolean)) {
    const eq = pair.indexOf('=');
    if (eq <= 0) throw new Error(`--node-labels: want key=value, got ${JSON.stringify(pair)}`);
    labels[pair.slice(0, eq)] = pair.slice(eq + 1);
  }
  return labels;
}

const EFFECTS = new Set(['NoSchedule', 'PreferNoSchedule', 'NoExecute']);

/** The kubelet's --register-with-taints: `key[=value]:Effect,...`. */
export function parseTaints(text: string | undefined): Taint[] | undefined {
  if (!text) return undefined;
  return text
    .split(',')
    .filter(Boolean)
    .map((spec) => {
      const m = /^([^=:]+)(?:=([^:]*))?:(.+)$/.exec(spec);
      if (!m || !EFFECTS.has(m[3]!))
        throw new Error(
          `--register-with-taints: want key[=value]:NoSchedule|PreferNoSchedule|NoExecute, got ${JSON.stringify(spec)}`,
        );
      return { key: m[1]!, ...(m[2] ? { value: m[2] } : {}), effect: m[3] as Taint['effect'] };
    });
}
