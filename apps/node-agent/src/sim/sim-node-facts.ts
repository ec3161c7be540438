import { goArch, type NodeFacts } from '../node/node-facts.js';

export interface SimNodeFactsOptions {
  cpu?: string;
  memory?: string;
  maxPods?: number;
  /** The version reported as kubeletVersion (the API server's gitVersion). */
  version: string;
}

/**
 * What a simulated node reports about itself, without a host or an engine to ask: the same
 * capacity for every node (shared, not copied, across thousands of them), its own addresses.
 * kwok's node-initialize stage fills the same fields.
 */
export function simNodeFacts(o: SimNodeFactsOptions): (name: string, internalIP: string) => NodeFacts {
  const capacity = {
    cpu: o.cpu ?? '32',
    memory: o.memory ?? '256Gi',
    pods: String(o.maxPods ?? 110),
    'ephemeral-storage': '1Ti',
  };
  const allocatable = { ...capacity };
  const nodeInfo: NodeFacts['nodeInfo'] = {
    machineID: '',
    systemUUID: '',
    bootID: '',
    kernelVersion: 'simulated',
    osImage: 'Wake simulated node',
    containerRuntimeVersion: `sim://${o.version}`,
    kubeletVersion: o.version,
    kubeProxyVersion: o.version,
    operatingSystem: 'linux',
    architecture: goArch(),
  };
  return (name, internalIP) => ({
    capacity,
    allocatable,
    nodeInfo,
    addresses: [
      { type: 'InternalIP', address: internalIP },
      { type: 'Hostname', address: name },
    ],
    images: [],
  });
}
