import { readFileSync } from 'node:fs';

import { type DataDir, isAlive } from '../data-dir.js';

function rssMiB(pid: number | undefined): number | undefined {
  if (!pid) return undefined;
  try {
    const kb = /VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1];
    return kb ? Math.round(Number(kb) / 1024) : undefined;
  } catch {
    return undefined;
  }
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
          { name: 'wake', pid: state.pid, rssMiB: rssMiB(state.pid) },
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
          { name: 'scheduler', pid: state.scheduler?.pid, rssMiB: rssMiB(state.scheduler?.pid) },
          ...(state.nodeAgent
            ? [
                {
                  name: `node-agent (${state.nodeAgent.node})`,
                  pid: state.nodeAgent.pid,
                  rssMiB: rssMiB(state.nodeAgent.pid),
                },
              ]
            : []),
        ]
      : [],
    checkpoints: up ? state.checkpoints.file : undefined,
    kubeconfig: up ? state.apiServer?.kubeconfig : undefined,
  };
  if (json) console.log(JSON.stringify(report, null, 2));
  else if (!up) console.log(`no cluster runs from ${dataDir.root}`);
  else
    for (const c of report.components)
      console.log(`${c.name.padEnd(10)} pid ${c.pid}  ${c.rssMiB ?? '?'} MiB  ${'url' in c ? c.url : ''}`);
  return up ? 0 : 3;
}
