import { execFile } from 'node:child_process';
import { promisify } from 'node:util';

const run = promisify(execFile);

/**
 * A network namespace standing in for a pod: a veth pair to the host, addresses from
 * link-local 169.254.201.0/24 (a /30 per bench process, never routed off a machine), default
 * route to the host — so its traffic to a ClusterIP enters the host's nat PREROUTING as a pod's
 * does from the bridge. A filter FORWARD DROP on its host end (inserted first) guarantees that
 * nothing it sends leaves the machine, whatever rules are missing. Every rule it adds carries
 * the comment wake-bench-<id>, which is how remove() (and a later run with the same id, after
 * a crash) finds them; it never touches a rule without it.
 */
export interface PodNetns {
  name: string;
  /** The host end's address: the pod's gateway, where the proxy's ports listen. */
  hostAddress: string;
  podAddress: string;
  /** An address of no host, for the reference DNAT: the pod reaches it only through that rule. */
  virtualAddress: string;
  /**
   * Kernel NAT straight to a backend, as kube-proxy's iptables mode does (the reference for the
   * userspace proxy): traffic from the pod to `virtual` is DNATed to `to` in nat PREROUTING.
   */
  dnat(virtual: { host: string; port: number }, to: { host: string; port: number }): Promise<void>;
  /**
   * `count` more addresses of the host (link-local /32s on the veth's host end, gone with it):
   * backends the pod reaches without loopback, which a PREROUTING DNAT cannot target (martian
   * without route_localnet) — so the proxy's iptables mode can DNAT to them as to pods.
   */
  addBackendAddresses(count: number): Promise<string[]>;
  remove(): Promise<void>;
}

async function sh(args: string[], what: string): Promise<void> {
  try {
    await run(args[0], args.slice(1));
  } catch (e) {
    const err = e as { stderr?: string; message: string };
    throw new Error(`${what} (${args.join(' ')}): ${err.stderr?.trim() || err.message}`, { cause: e });
  }
}

/** Runs a command whose failure means "already gone": cleanup of what may not exist. */
async function ifPresent(args: string[]): Promise<void> {
  await run(args[0], args.slice(1)).catch(() => undefined);
}

export async function createPodNetns(id: string, slot: number): Promise<PodNetns> {
  const name = `wake-bench-${id}`;
  const hostIf = `wb${id}h`;
  const podIf = `wb${id}n`;
  const base = (slot % 63) * 4;
  const hostAddress = `169.254.201.${base + 1}`;
  const podAddress = `169.254.201.${base + 2}`;
  const virtualAddress = `169.254.202.${base + 1}`;
  const tag = ['-m', 'comment', '--comment', `wake-bench-${id}`];
  const remove = async () => {
    // Deleting the namespace deletes the veth pair; the rules go after the traffic.
    await ifPresent(['ip', 'netns', 'del', name]);
    await ifPresent(['ip', 'link', 'del', hostIf]);
    for (const table of ['nat', 'filter']) await removeTaggedRules(table, `wake-bench-${id}`);
  };
  // A crashed run with the same id left these: they are this bench's, by name.
  await remove();
  try {
    await sh(
      ['iptables', '-w', '-I', 'FORWARD', '1', '-i', hostIf, ...tag, '-j', 'DROP'],
      'guarding the pod netns',
    );
    await sh(['ip', 'netns', 'add', name], 'creating the pod netns');
    await sh(['ip', 'link', 'add', hostIf, 'type', 'veth', 'peer', 'name', podIf], 'creating the veth pair');
    await sh(['ip', 'link', 'set', podIf, 'netns', name], 'moving the veth into the netns');
    await sh(['ip', 'addr', 'add', `${hostAddress}/30`, 'dev', hostIf], 'addressing the host end');
    await sh(['ip', 'link', 'set', hostIf, 'up'], 'raising the host end');
    await sh(['ip', '-n', name, 'addr', 'add', `${podAddress}/30`, 'dev', podIf], 'addressing the pod end');
    await sh(['ip', '-n', name, 'link', 'set', podIf, 'up'], 'raising the pod end');
    await sh(['ip', '-n', name, 'link', 'set', 'lo', 'up'], 'raising the netns loopback');
    await sh(
      ['ip', '-n', name, 'route', 'add', 'default', 'via', hostAddress],
      'routing the netns to the host',
    );
  } catch (e) {
    await remove();
    throw e;
  }
  const dnat = (virtual: { host: string; port: number }, to: { host: string; port: number }) =>
    sh(
      [
        'iptables',
        '-w',
        '-t',
        'nat',
        '-I',
        'PREROUTING',
        '1',
        '-i',
        hostIf,
        '-d',
        `${virtual.host}/32`,
        '-p',
        'tcp',
        '--dport',
        String(virtual.port),
        ...tag,
        '-j',
        'DNAT',
        '--to-destination',
        `${to.host}:${to.port}`,
      ],
      'adding the reference DNAT rule',
    );
  const addBackendAddresses = async (count: number) => {
    if (count > 250) throw new RangeError(`${count} backend addresses: at most 250`);
    const addresses = Array.from({ length: count }, (_, i) => `169.254.${210 + (slot % 40)}.${i + 1}`);
    for (const a of addresses)
      await sh(['ip', 'addr', 'add', `${a}/32`, 'dev', hostIf], `adding the backend address ${a}`);
    return addresses;
  };
  return { name, hostAddress, podAddress, virtualAddress, dnat, addBackendAddresses, remove };
}

/** Deletes each rule of `table` whose comment is exactly `comment` (iptables-save prints it bare: no spaces). */
async function removeTaggedRules(table: string, comment: string): Promise<void> {
  const { stdout } = await run('iptables-save', ['-t', table]);
  for (const line of stdout.split('\n')) {
    const words = line.split(' ');
    if (words[0] !== '-A' || !line.includes(`--comment ${comment} `)) continue;
    await sh(['iptables', '-w', '-t', table, '-D', ...words.slice(1)], `removing the bench's rule ${line}`);
  }
}

/**
 * The netfilter lines that mention a proxy instance's chains or comment, or the bench's own
 * comment for that id: what must be gone once the bench and its proxy have stopped.
 */
export async function leftoverRules(instanceId: string): Promise<string[]> {
  const marks = [`-${instanceId.toUpperCase()}`, `wake proxy ${instanceId}"`, `wake-bench-${instanceId} `];
  const left: string[] = [];
  for (const table of ['nat', 'filter']) {
    const { stdout } = await run('iptables-save', ['-t', table]);
    left.push(...stdout.split('\n').filter((l) => marks.some((m) => l.includes(m))));
  }
  return left;
}
