import { readdirSync, readFileSync } from 'node:fs';

import { type DataDir, isAlive } from '../data-dir.js';

/** Proportional set size of one process in KiB (shared pages split among their users), or undefined. */
function pssKiB(pid: number): number | undefined {
  try {
    const kb = /^Pss:\s+(\d+)/m.exec(readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8'))?.[1];
    return kb === undefined ? undefined : Number(kb);
  } catch {
    return undefined;
  }
}

/** pid and every process below it (Postgres' backends, a component's helpers). */
function processTree(pid: number): number[] {
  const children = new Map<number, number[]>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      // The command name may hold spaces and parentheses: the fields after its last ')' are fixed.
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      children.set(ppid, [...(children.get(ppid) ?? []), Number(entry)]);
    } catch {
      // Gone between the listing and the read.
    }
  }
  const out: number[] = [];
  const walk = (p: number) => {
    out.push(p);
    for (const c of children.get(p) ?? []) walk(c);
  };
  walk(pid);
  return out;
}

/** A component's memory: the PSS of its process tree, in MiB (RSS would count shared pages twice). */
function rssMiB(pid: number | undefined, tree = true): number | undefined {
  if (!pid || !isAlive(pid)) return undefined;
  const sizes = (tree ? processTree(pid) : [pid]).map(pssKiB);
  if (sizes[0] === undefined) return undefined;
  return Math.round(sizes.reduce<number>((sum, kb) => sum + (kb ?? 0), 0) / 1024);
}

/** Components of the cluster in this data directory, their URLs and memory. */
export function status(dataDir: DataDir, json: boolean): number {
  const state = dataDir.readState();
  const up = !!state && isAlive(state.pid);
  const report = {
    dataDir: dataDir.root,
    running: up,
    components: up
      ? [
          // The supervisor alone: the components below it are counted as themselves.
          { name: 'wake', pid: state.pid, rssMiB: rssMiB(state.pid, false) },
          {
            name: 'postgres',
            pid: state.postgres.pid,
            url: state.postgres.url,
            rssMiB: rssMiB(state.postgres.pid),
          },
          { name: 'nats', pid: state.nats.pid, url: state.nats.url, rssMiB: rssMiB(state.nats.pid) },
          { name: 'relay', pid: state.relay.pid, rssMiB: rssMiB(state.relay.pid) },
          {
            name: 'api-server',
            pid: state.apiServer?.pid,
            url: state.apiServer?.url,
            rssMiB: rssMiB(state.apiServer?.pid),
          },
          {
            name: 'scheduler',
            pid: state.scheduler?.pid,
            url: state.scheduler?.url,
            rssMiB: rssMiB(state.scheduler?.pid),
          },
          {
            name: 'controller-manager',
            pid: state.controllerManager?.pid,
            url: state.controllerManager?.url,
            rssMiB: rssMiB(state.controllerManager?.pid),
          },
          ...(state.nodeAgent
            ? [
                {
                  name: `node-agent (${state.nodeAgent.node})`,
                  pid: state.nodeAgent.pid,
                  rssMiB: rssMiB(state.nodeAgent.pid),
                },
              ]
            : []),
          ...(state.proxy
            ? [{ name: 'proxy', pid: state.proxy.pid, url: state.proxy.url, rssMiB: rssMiB(state.proxy.pid) }]
            : []),
        ]
      : [],
    checkpoints: up ? state.checkpoints.file : undefined,
    totalMiB: undefined as number | undefined,
    kubeconfig: up ? state.apiServer?.kubeconfig : undefined,
  };
  report.totalMiB = report.components.reduce((sum, c) => sum + (c.rssMiB ?? 0), 0);
  if (json) console.log(JSON.stringify(report, null, 2));
  else if (!up) console.log(`no cluster runs from ${dataDir.root}`);
  else {
    for (const c of report.components)
      console.log(`${c.name.padEnd(10)} pid ${c.pid}  ${c.rssMiB ?? '?'} MiB  ${'url' in c ? c.url : ''}`);
    console.log(`total      ${report.totalMiB} MiB (proportional set size, shared pages split)`);
  }
  return up ? 0 : 3;
}
