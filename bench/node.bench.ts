import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';

import { DockerEngine, ensureLocalImages, waitFor } from '@app/dev-servers';

import { NODE_AGENT_READY_LINE } from '../apps/node-agent/src/run-node-agent.js';
import { apiCaller } from './lib/api-caller.js';
import { startComponent } from './lib/component-process.js';
import { startControlPlane } from './lib/control-plane.js';
import { treeCpuSeconds } from './lib/cpu-time.js';
import { watchPodsUntil, type WatchedPod, within } from './lib/pod-watch.js';
import { progress, table, writeResult } from './lib/report.js';
import { startSchedulerProcess } from './lib/scheduler-process.js';
import { round, summarize } from './lib/stats.js';
import { startControllerManagerProcess } from './lib/controller-manager-process.js';

export const description =
  'pod startup latency on real Docker: create → all containers running, seen on a watch';

const HELP = `npm run bench -- node [options]

Pod startup latency as the SIG Scalability SLI measures it (create → all containers running,
observed through a watch), with a real Docker engine and a locally built image (no pull):
Postgres (fsync on), nats-server, the relay, 'wake apiserver', 'wake scheduler', 'wake
controller-manager' (service accounts and the cluster CA for the pods) and 'wake node-agent' as
their own processes. Pods (busybox, sleep) arrive at --rate creates/s; the
clock starts when the create request is sent. Goal: p99 ≤ 2 s (upstream SLO: ≤ 5 s).

  --pods N      pods to start (default 100)
  --rate N      creates per second (default 5)
  --help        this text`;

const NODE = 'bench-node';
const NAMESPACE = 'bench';

function allRunning(p: WatchedPod): boolean {
  const statuses = p.status?.containerStatuses ?? [];
  return statuses.length > 0 && statuses.every((s) => s.state?.running !== undefined);
}

export async function run(argv: string[]): Promise<void> {
  const { values } = parseArgs({
    args: argv,
    options: { pods: { type: 'string' }, rate: { type: 'string' }, help: { type: 'boolean' } },
  });
  if (values.help) return console.log(HELP);
  const pods = Number(values.pods ?? 100);
  const rate = Number(values.rate ?? 5);

  progress('starting the Docker engine (if none runs) and building the local images');
  const engine = await DockerEngine.ensure({ logFile: join(tmpdir(), 'wake-bench-dockerd.log') });
  const images = await ensureLocalImages(engine.docker);
  progress(
    'starting Postgres (fsync on), nats-server, the relay, the API server, the scheduler, the controller manager and the node agent',
  );
  const clusterId = `bench-${process.pid}`;
  const cp = await startControlPlane('node');
  const caller = apiCaller(cp.api, 16);
  try {
    const { api, nats } = cp;
    // Whatever the agent left (a failed run): this run's containers only, by its cluster label;
    // removed once the agent has stopped, before its root directory goes.
    await cp.add({
      stop: async () => {
        const left = await engine.docker.listContainers({
          all: true,
          filters: { label: [`wake.dev/cluster=${clusterId}`] },
        });
        await Promise.all(left.map((c) => engine.docker.getContainer(c.Id).remove({ force: true, v: true })));
      },
    });
    await cp.add(startSchedulerProcess(api.componentKubeconfig('scheduler'), nats.url));
    // Every pod mounts its service account's token and the cluster CA (kube-root-ca.crt): the
    // controllers that make them, as in any cluster, or the pods wait in ContainerCreating.
    await cp.add(
      startControllerManagerProcess(api.componentKubeconfig('controller-manager'), nats.url, [
        'serviceaccount',
        'root-ca-cert-publisher',
      ]),
    );
    const agent = await cp.add(
      startComponent(
        'node agent',
        [
          'node-agent',
          '--kubeconfig',
          api.kubeconfig,
          '--nats-url',
          nats.url,
          '--node-name',
          NODE,
          '--root-dir',
          join(cp.dir, 'agent'),
          '--cluster-id',
          clusterId,
          '--pod-infra-container-image',
          images.pause,
        ],
        NODE_AGENT_READY_LINE,
      ),
    );
    const { call } = caller;
    await waitFor('the node to be Ready', async () => {
      const node = JSON.parse((await call('GET', `/api/v1/nodes/${NODE}`)).text) as {
        status?: { conditions?: { type: string; status: string }[] };
      };
      return node.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True')
        ? true
        : undefined;
    });
    await call('POST', '/api/v1/namespaces', { metadata: { name: NAMESPACE } });
    const rv = await caller.listResourceVersion(`/api/v1/namespaces/${NAMESPACE}/pods`);
    const watch = watchPodsUntil(api, NAMESPACE, rv, pods, allRunning);
    const cpu0 = treeCpuSeconds(agent.pid);
    progress(`creating ${pods} pods at ${rate}/s`);
    const sent = new Map<string, number>();
    const start = performance.now();
    const creates: Promise<void>[] = [];
    for (let i = 0; i < pods; i++) {
      const due = start + (i * 1000) / rate;
      const wait = due - performance.now();
      if (wait > 1) await new Promise((r) => setTimeout(r, wait));
      const name = `p-${i}`;
      sent.set(name, performance.now());
      creates.push(
        call('POST', `/api/v1/namespaces/${NAMESPACE}/pods`, {
          metadata: { name },
          spec: {
            terminationGracePeriodSeconds: 1,
            containers: [{ name: 'main', image: images.busybox, command: ['sleep', '3600'] }],
          },
        }).then((r) => {
          if (r.status !== 201) throw new Error(`creating ${name}: HTTP ${r.status} ${r.text}`);
        }),
      );
    }
    await Promise.all(creates);
    await within(watch.all, 300_000);
    watch.close();
    const started = [...watch.reachedAt.entries()];
    const latency = summarize(started.map(([name, t]) => t - (sent.get(name) ?? t)));
    const agentCpuSec = round(treeCpuSeconds(agent.pid) - cpu0);
    const result = {
      pods,
      ratePerSecond: rate,
      running: started.length,
      startupLatencyMs: latency,
      goalP99Ms: 2000,
      agentCpuSec,
    };
    console.log(
      table([
        {
          pods: `${started.length}/${pods}`,
          'rate/s': rate,
          'p50 ms': round(latency.p50, 0),
          'p90 ms': round(latency.p90, 0),
          'p99 ms': round(latency.p99, 0),
          'max ms': round(latency.max, 0),
          'agent CPU s': agentCpuSec,
        },
      ]),
    );
    console.log(`goal p99 ≤ 2000 ms: ${latency.p99 <= 2000 && started.length === pods ? 'met' : 'NOT met'}`);
    console.log(`wrote ${await writeResult('node', result)}`);
    progress('deleting the pods and waiting for their containers to go');
    await call('DELETE', `/api/v1/namespaces/${NAMESPACE}/pods`);
    await waitFor(
      'the pods’ containers to be removed',
      async () => {
        const left = await engine.docker.listContainers({
          all: true,
          filters: { label: [`wake.dev/cluster=${clusterId}`] },
        });
        return left.length === 0 ? true : undefined;
      },
      { timeoutMs: 120_000, intervalMs: 500 },
    ).catch(() => progress('some containers outlived the wait; removing them'));
  } finally {
    caller.close();
    try {
      await cp.stop();
    } finally {
      await engine.stop();
    }
  }
}
