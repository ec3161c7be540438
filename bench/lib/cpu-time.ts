import { readdirSync, readFileSync } from 'node:fs';

const TICKS_PER_SEC = 100; // USER_HZ on Linux

/**
 * CPU seconds (user + system) used so far by `pid` and all its descendants, including those
 * that exited and were reaped: a Postgres backend ends with its connection, and pgbench's
 * connections end before we look.
 */
export function treeCpuSeconds(pid: number): number {
  const children = new Map<number, number[]>();
  const cpu = new Map<number, number>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    let stat: string;
    try {
      stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
    } catch {
      continue; // exited while we looked
    }
    // Fields after the parenthesised command name, which may itself contain spaces.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const ppid = Number(fields[1]);
    // utime + stime, plus cutime + cstime: children already reaped are no longer in /proc.
    const ticks = Number(fields[11]) + Number(fields[12]) + Number(fields[13]) + Number(fields[14]);
    cpu.set(Number(entry), ticks / TICKS_PER_SEC);
    children.set(ppid, [...(children.get(ppid) ?? []), Number(entry)]);
  }
  let total = 0;
  const stack = [pid];
  while (stack.length) {
    const p = stack.pop() as number;
    total += cpu.get(p) ?? 0;
    stack.push(...(children.get(p) ?? []));
  }
  return total;
}

/** CPU seconds of the children of this process that exited and were reaped (e.g. pgbench). */
export function reapedChildrenCpuSeconds(): number {
  const stat = readFileSync('/proc/self/stat', 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[13]) + Number(fields[14])) / TICKS_PER_SEC;
}

/** CPU seconds of this process and of a server process tree over `work`. */
export async function measureCpu<T>(
  serverPid: number | undefined,
  work: () => Promise<T>,
): Promise<{ result: T; selfSec: number; serverSec: number }> {
  const self0 = process.cpuUsage();
  const server0 = serverPid ? treeCpuSeconds(serverPid) : 0;
  const result = await work();
  const self = process.cpuUsage(self0);
  const serverSec = serverPid ? treeCpuSeconds(serverPid) - server0 : NaN;
  return { result, selfSec: (self.user + self.system) / 1e6, serverSec };
}

/** The share (0..1) of the machine's CPU that was busy between two readings of machineCpuSeconds. */
export function busyBetween(before: MachineCpu, after: MachineCpu): number {
  return (after.busy - before.busy) / (after.total - before.total);
}

export interface MachineCpu {
  busy: number;
  total: number;
}

/** The whole machine's CPU so far, from /proc/stat: busy and total seconds summed over every core. */
export function machineCpuSeconds(): MachineCpu {
  const line = readFileSync('/proc/stat', 'utf8').split('\n')[0];
  // cpu user nice system idle iowait irq softirq steal ...
  const [user, nice, system, idle, iowait, irq, softirq, steal] = line
    .trim()
    .split(/\s+/)
    .slice(1)
    .map(Number);
  const busy = user + nice + system + irq + softirq + steal;
  return { busy: busy / TICKS_PER_SEC, total: (busy + idle + iowait) / TICKS_PER_SEC };
}
