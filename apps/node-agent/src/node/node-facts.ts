import { readFile, statfs } from 'node:fs/promises';
import { arch, cpus, networkInterfaces, release, totalmem } from 'node:os';

import type Docker from 'dockerode';

/** What a node reports about itself: resources, identity, addresses and cached images. */
export interface NodeFacts {
  capacity: Record<string, string>;
  allocatable: Record<string, string>;
  nodeInfo: {
    machineID: string;
    systemUUID: string;
    bootID: string;
    kernelVersion: string;
    osImage: string;
    containerRuntimeVersion: string;
    kubeletVersion: string;
    kubeProxyVersion: string;
    operatingSystem: string;
    architecture: string;
  };
  addresses: { type: 'InternalIP' | 'Hostname'; address: string }[];
  /** The largest images first, at most 50 (upstream's nodeStatusMaxImages). */
  images: { names: string[]; sizeBytes: number }[];
}

export interface NodeFactsOptions {
  nodeName: string;
  /** The kubelet's --max-pods (default 110). */
  maxPods?: number;
  /** Report this InternalIP instead of the first non-loopback IPv4 address. */
  nodeIP?: string;
  /** Override the detected CPU count and memory (e.g. to advertise less than the host has). */
  cpu?: string;
  memory?: string;
  /** The filesystem pods write to, for ephemeral-storage. */
  dataDir: string;
  /** The version the agent reports as kubeletVersion (the API server's gitVersion). */
  version: string;
  /** The engine's images, cached (the runtime's ImageList); absent, the engine is asked. */
  images?: () => Promise<Docker.ImageInfo[]>;
}

const MAX_IMAGES = 50;

/** The Go names the Kubernetes API uses for Node's `process.arch`. */
const GO_ARCH: Record<string, string> = {
  x64: 'amd64',
  arm64: 'arm64',
  arm: 'arm',
  ppc64: 'ppc64le',
  s390x: 's390x',
};

/** Reads the host and the container engine, as the kubelet's cadvisor and runtime do. */
export async function detectNodeFacts(docker: Docker, o: NodeFactsOptions): Promise<NodeFacts> {
  const [engine, images, storage, { machineID, bootID, osImage }] = await Promise.all([
    docker.version(),
    o.images ? o.images() : docker.listImages(),
    statfs(o.dataDir),
    hostIdentity(),
  ]);
  const capacity = {
    cpu: o.cpu ?? String(cpus().length),
    memory: o.memory ?? `${Math.floor(totalmem() / 1024)}Ki`,
    pods: String(o.maxPods ?? 110),
    'ephemeral-storage': `${Math.floor((storage.blocks * storage.bsize) / 1024)}Ki`,
  };
  return {
    capacity,
    // No system or kube reservations are configured, so everything is allocatable.
    allocatable: { ...capacity },
    nodeInfo: {
      machineID,
      systemUUID: machineID,
      bootID,
      kernelVersion: release(),
      osImage,
      containerRuntimeVersion: `docker://${engine.Version}`,
      kubeletVersion: o.version,
      kubeProxyVersion: o.version,
      operatingSystem: 'linux',
      architecture: goArch(),
    },
    addresses: [
      { type: 'InternalIP', address: o.nodeIP ?? primaryIPv4() },
      { type: 'Hostname', address: o.nodeName },
    ],
    images: images
      .filter((i) => (i.RepoTags ?? []).some((t) => t !== '<none>:<none>'))
      .sort((a, b) => b.Size - a.Size)
      .slice(0, MAX_IMAGES)
      .map((i) => ({
        names: [...(i.RepoDigests ?? []), ...(i.RepoTags ?? [])].filter((n) => !n.startsWith('<none>')),
        sizeBytes: i.Size,
      })),
  };
}

export function goArch(): string {
  return GO_ARCH[arch()] ?? arch();
}

let identity: Promise<{ machineID: string; bootID: string; osImage: string }> | undefined;

/** The host's machine id, boot id and OS name: fixed while this process runs, so read once. */
function hostIdentity() {
  identity ??= Promise.all([
    firstLine('/etc/machine-id'),
    firstLine('/proc/sys/kernel/random/boot_id'),
    prettyOsName(),
  ]).then(([machineID, bootID, osImage]) => ({ machineID, bootID, osImage }));
  return identity;
}

function primaryIPv4(): string {
  for (const addresses of Object.values(networkInterfaces()))
    for (const a of addresses ?? []) if (a.family === 'IPv4' && !a.internal) return a.address;
  return '127.0.0.1';
}

async function firstLine(path: string): Promise<string> {
  try {
    return (await readFile(path, 'utf8')).split('\n')[0]!.trim();
  } catch {
    return '';
  }
}

async function prettyOsName(): Promise<string> {
  try {
    const text = await readFile('/etc/os-release', 'utf8');
    const m = /^PRETTY_NAME="?([^"\n]*)"?$/m.exec(text);
    return m?.[1] ?? 'Linux';
  } catch {
    return 'Linux';
  }
}
