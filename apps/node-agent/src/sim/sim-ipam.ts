import { intToIp, parseIpv4Cidr } from '@app/api';

/** An IPv4 CIDR as a number and a prefix length. */
export interface Cidr {
  base: number;
  prefix: number;
}

export function parseCidr(text: string): Cidr {
  const parsed = parseIpv4Cidr(text);
  if (!parsed) throw new Error(`not an IPv4 CIDR: ${text}`);
  return { base: parsed.network, prefix: parsed.prefix };
}

export interface SimIpamOptions {
  /** Node InternalIPs: the n-th simulated node gets the n+1-th address. Default 172.16.0.0/12. */
  nodeCidr?: string;
  /** Pod addresses: cut into one /24 per node, in node order (kwok's --cidr per node). Default 10.0.0.0/8. */
  podCidr?: string;
}

const BLOCK = 256;

/**
 * Addresses for simulated nodes and their pods: each node owns a /24 of the pod range, so pod
 * IPs never collide across nodes or across processes that split the nodes (the block follows
 * the node's index, not the process). Within a block, .1–.254 go to pods by uid, reused once
 * released (kwok's PodIPWith: one address per pod uid, from the node's range).
 */
export class SimIpam {
  private readonly nodeRange: Cidr;
  private readonly podRange: Cidr;
  private readonly blocks = new Map<number, { byUid: Map<string, number>; free: number[]; next: number }>();

  constructor(o: SimIpamOptions = {}) {
    this.nodeRange = parseCidr(o.nodeCidr ?? '172.16.0.0/12');
    this.podRange = parseCidr(o.podCidr ?? '10.0.0.0/8');
  }

  /** How many nodes the ranges can address. */
  get capacity(): number {
    return Math.min(2 ** (32 - this.nodeRange.prefix) - 2, 2 ** (32 - this.podRange.prefix) / BLOCK);
  }

  nodeIP(index: number): string {
    this.check(index);
    return intToIp(this.nodeRange.base + index + 1);
  }

  /** The node's pod range, as its spec.podCIDR. */
  podCidr(index: number): string {
    this.check(index);
    return `${intToIp(this.podRange.base + index * BLOCK)}/24`;
  }

  /** The pod's address on node `index`: the one it already has, or a free one; undefined when the /24 is full. */
  podIP(index: number, uid: string): string | undefined {
    const block = this.block(index);
    let offset = block.byUid.get(uid);
    if (offset === undefined) {
      offset = block.free.pop() ?? (block.next < BLOCK - 1 ? block.next++ : undefined);
      if (offset === undefined) return undefined;
      block.byUid.set(uid, offset);
    }
    return intToIp(this.podRange.base + index * BLOCK + offset);
  }

  /** Records an address a pod already carries (after a restart), so it is not handed out again. */
  adopt(index: number, uid: string, ip: string): void {
    const offset = ipNumber(ip) - (this.podRange.base + index * BLOCK);
    if (offset < 1 || offset >= BLOCK - 1) return;
    const block = this.block(index);
    if (block.byUid.has(uid)) return;
    block.byUid.set(uid, offset);
    const i = block.free.indexOf(offset);
    if (i >= 0) block.free.splice(i, 1);
    while (block.next <= offset) {
      if (block.next !== offset) block.free.push(block.next);
      block.next++;
    }
  }

  release(index: number, uid: string): void {
    const block = this.blocks.get(index);
    const offset = block?.byUid.get(uid);
    if (!block || offset === undefined) return;
    block.byUid.delete(uid);
    block.free.push(offset);
  }

  private block(index: number) {
    this.check(index);
    let block = this.blocks.get(index);
    if (!block) this.blocks.set(index, (block = { byUid: new Map(), free: [], next: 1 }));
    return block;
  }

  private check(index: number): void {
    if (!Number.isInteger(index) || index < 0 || index >= this.capacity)
      throw new RangeError(`node index ${index} is outside the address ranges (${this.capacity} nodes)`);
  }
}

function ipNumber(ip: string): number {
  return ip.split('.').reduce((n, o) => n * 256 + Number(o), 0);
}
