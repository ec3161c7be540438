import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';

import { apiCaller, type ApiCaller } from './lib/api-caller.js';
import { type ComponentProcess } from './lib/component-process.js';
import { startControlPlane } from './lib/control-plane.js';
import { treeCpuSeconds } from './lib/cpu-time.js';
import { watchUntil, within } from './lib/pod-watch.js';
import { startSchedulerProcess } from './lib/scheduler-process.js';
import { isNodeReady, SIMULATED_NODES_PATH, startSimAgentProcess } from './lib/sim-agent-process.js';
import { progress, table, writeResult } from './lib/report.js';
import { round, summarize } from './lib/stats.js';

export const description =
  'simulated nodes (kwok’s benchmark): N nodes Ready, then 10,000 pods Running, end to end';

const HELP = `npm run bench -- sim [options]

kwok's CI benchmark on Wake: Postgres (fsync on), nats-server, the relay, 'wake apiserver' and
'wake scheduler' as their own processes, then 'wake node-agent --runtime sim --nodes N' (one
process for all nodes). Times, seen on watches through the API server:
  nodes  from starting the sim process until all N nodes are Ready (goal ≤ 60 s; kwok's CI: 120 s)
  pods   from the first create of --pods bare pods (no controller manager yet: the scheduler
         binds them) until all are Running (goal ≤ 120 s; kwok's CI: 240 s), with how long
         the creates alone took and each pod's create → Running latency (what scheduling and
         the simulated node add)
and the sim process's memory: heap per simulated node (heap after registering − before, / N,
after a forced GC) and its RSS at the end. Each node count runs on a fresh cluster; the
summary names the largest that met both goals.

  --nodes LIST     node counts to try, comma-separated (default 1000,2000,5000)
  --pods N         default 10000
  --profile P      the sim's pod stages: fast (default) or realistic
  --lease-renew D  the sim nodes' Lease renewal interval (default 10s, the kubelet's)
  --max-in-flight N  the sim process's request budget (default 64)
  --help           this text`;

const GOALS = { nodesReadySec: 60, podsRunningSec: 120 };

interface Outcome {
  nodes: number;
  pods: number;
  nodesReadySec: number;
  podsRunning: number;
  podsRunningSec: number;
  /** How long creating the pods took (the API server's share, before any node acts). */
  podsCreatedSec: number;
  /** Create sent → Running seen on the watch, per pod: what scheduling and the simulated node add. */
  createToRunningMs: { p50: number; p99: number };
  meetsGoals: boolean;
  heapBytesPerNode: number;
  simRssMiB: number;
  simCpuSec: number;
  apiServerCpuSec: number;
  schedulerCpuSec: number;
}

function rssMiB(pid: number): number {
  try {
    const kb = /VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1];
    return kb ? Math.round(Number(kb) / 1024) : 0;
  } catch {
    return 0;
  }
}

async function runOnce(
  nodes: number,
  pods: number,
  o: { profile: string; leaseRenew: string; maxInFlight: string },
): Promise<Outcome> {
  progress(
    `${nodes} nodes: starting Postgres (fsync on), nats-server, the relay, the API server, the scheduler`,
  );
  const cp = await startControlPlane('sim');
  const watches: { close(): void }[] = [];
  let caller: ApiCaller | undefined;
  try {
    const { api, nats } = cp;
    const scheduler = await cp.add(startSchedulerProcess(api.componentKubeconfig('scheduler'), nats.url));
    caller = apiCaller(api, 32);
    const { call } = caller;
    const listRv = caller.listResourceVersion;
    await call('POST', '/api/v1/namespaces', { metadata: { name: 'bench' } });

    // Nodes: from starting the sim process until every node is Ready on a watch.
    const readyWatch = watchUntil(
      api,
      SIMULATED_NODES_PATH,
      await listRv(SIMULATED_NODES_PATH),
      nodes,
      isNodeReady,
    );
    watches.push(readyWatch);
    progress(`${nodes} nodes: starting the sim node agent`);
    const cpu0 = { api: treeCpuSeconds(api.pid), scheduler: treeCpuSeconds(scheduler.pid) };
    const t0 = performance.now();
    const ticker = setInterval(
      () => progress(`${readyWatch.reachedAt.size.toLocaleString()} nodes Ready`),
      5000,
    );
    const waitMs = Number(process.env.WAKE_BENCH_WAIT_MS ?? 600_000);
    let sim: ComponentProcess;
    try {
      sim = await cp.add(
        startSimAgentProcess(api.kubeconfig, nats.url, nodes, {
          args: [
            '--sim-profile',
            o.profile,
            '--node-lease-renew-interval',
            o.leaseRenew,
            '--max-in-flight',
            o.maxInFlight,
          ],
          // The sim measures its heap per node after a forced collection.
          nodeArgs: ['--expose-gc'],
        }),
      );
      await within(readyWatch.all, waitMs);
    } finally {
      clearInterval(ticker);
    }
    const nodesReadySec = (Math.max(...readyWatch.reachedAt.values()) - t0) / 1000;
    const perNode = Number(/(\d+) bytes a node/.exec(sim.readyOutput)?.[1] ?? 0);
    readyWatch.close();
    progress(
      `${readyWatch.reachedAt.size} nodes Ready in ${round(nodesReadySec)} s; creating ${pods.toLocaleString()} pods`,
    );

    // Pods: from the first create until every pod is Running on a watch.
    const podsPath = '/api/v1/namespaces/bench/pods';
    const runningWatch = watchUntil(
      api,
      podsPath,
      await listRv(podsPath),
      pods,
      (p) => p.status?.phase === 'Running',
    );
    watches.push(runningWatch);
    const p0 = performance.now();
    const podTicker = setInterval(
      () => progress(`${runningWatch.reachedAt.size.toLocaleString()} pods Running`),
      5000,
    );
    const sentAt = new Map<string, number>();
    let next = 0;
    await Promise.all(
      Array.from({ length: 32 }, async () => {
        while (next < pods) {
          const i = next++;
          sentAt.set(`p-${i}`, performance.now());
          const r = await call('POST', podsPath, {
            metadata: { name: `p-${i}`, labels: { app: 'bench' } },
            spec: {
              containers: [
                {
                  name: 'app',
                  image: 'registry.k8s.io/pause:3.10',
                  resources: { requests: { cpu: '100m', memory: '500Mi' } },
                },
              ],
            },
          });
          if (r.status !== 201) throw new Error(`creating p-${i}: HTTP ${r.status} ${r.text}`);
        }
      }),
    );
    const podsCreatedSec = (performance.now() - p0) / 1000;
    progress(`${pods.toLocaleString()} pods created in ${round(podsCreatedSec)} s`);
    await within(runningWatch.all, waitMs);
    clearInterval(podTicker);
    runningWatch.close();
    const podsRunningSec = (Math.max(p0, ...runningWatch.reachedAt.values()) - p0) / 1000;
    const latency = summarize([...runningWatch.reachedAt].map(([name, at]) => at - (sentAt.get(name) ?? at)));
    const outcome: Outcome = {
      nodes,
      pods,
      nodesReadySec: round(nodesReadySec),
      podsRunning: runningWatch.reachedAt.size,
      podsRunningSec: round(podsRunningSec),
      podsCreatedSec: round(podsCreatedSec),
      createToRunningMs: { p50: round(latency.p50, 0), p99: round(latency.p99, 0) },
      meetsGoals:
        readyWatch.reachedAt.size === nodes &&
        runningWatch.reachedAt.size === pods &&
        nodesReadySec <= GOALS.nodesReadySec &&
        podsRunningSec <= GOALS.podsRunningSec,
      heapBytesPerNode: perNode,
      simRssMiB: rssMiB(sim.pid),
      simCpuSec: round(treeCpuSeconds(sim.pid)),
      apiServerCpuSec: round(treeCpuSeconds(api.pid) - cpu0.api),
      schedulerCpuSec: round(treeCpuSeconds(scheduler.pid) - cpu0.scheduler),
    };
    progress(`${nodes} nodes: ${JSON.stringify(outcome)}`);
    return outcome;
  } finally {
    for (const w of watches) w.close();
    caller?.close();
    await cp.stop();
  }
}

export async function run(argv: string[]): Promise<void> {
  const { values } = parseArgs({
    args: argv,
    options: {
      nodes: { type: 'string' },
      pods: { type: 'string' },
      profile: { type: 'string' },
      'lease-renew': { type: 'string' },
      'max-in-flight': { type: 'string' },
      help: { type: 'boolean' },
    },
  });
  if (values.help) return void console.log(HELP);
  const counts = (values.nodes ?? '1000,2000,5000').split(',').map(Number);
  const pods = Number(values.pods ?? 10_000);
  const o = {
    profile: values.profile ?? 'fast',
    leaseRenew: values['lease-renew'] ?? '10s',
    maxInFlight: values['max-in-flight'] ?? '64',
  };
  const outcomes: Outcome[] = [];
  for (const n of counts) outcomes.push(await runOnce(n, pods, o));
  const best = outcomes.filter((x) => x.meetsGoals).sort((a, b) => b.nodes - a.nodes)[0];
  console.log(
    `\nSimulated nodes end to end (API server, log, bus, scheduler), ${o.profile} profile, Lease every ${o.leaseRenew}\n`,
  );
  console.log(
    table(
      outcomes.map((x) => ({
        nodes: x.nodes,
        'Ready s': x.nodesReadySec,
        pods: `${x.podsRunning}/${x.pods}`,
        'Running s': x.podsRunningSec,
        'created s': x.podsCreatedSec,
        'create→Running p50/p99 ms': `${x.createToRunningMs.p50}/${x.createToRunningMs.p99}`,
        [`goals (${GOALS.nodesReadySec} s / ${GOALS.podsRunningSec} s)`]: x.meetsGoals ? 'met' : 'missed',
        'heap B/node': x.heapBytesPerNode,
        'sim RSS MiB': x.simRssMiB,
        'sim CPU s': x.simCpuSec,
        'api CPU s': x.apiServerCpuSec,
        'sched CPU s': x.schedulerCpuSec,
      })),
    ),
  );
  console.log(
    `\nLargest node count meeting both goals: ${best ? best.nodes.toLocaleString() : 'none of those tried'}` +
      `\n(2 shared cores: other work on the machine makes these figures noisy)`,
  );
  console.log(
    `\nwritten: ${await writeResult('sim', { goals: GOALS, options: { pods, ...o }, outcomes, largestMeetingGoals: best?.nodes ?? null })}`,
  );
}
