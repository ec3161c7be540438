import { spawn } from 'node:child_process';
import { parseArgs } from 'node:util';

import { servePortForward } from '@app/bus';
import { waitFor } from '@app/dev-servers';
import { connect as natsConnect } from '@nats-io/transport-node';

import { dialPodPort } from '../apps/node-agent/src/streams/runtime-port-forward-target.js';
import { kubectlBinary } from '../test/harness/kubectl.js';
import { runningPodStatus } from '../test/harness/static-pods.js';
import { apiCaller } from './lib/api-caller.js';
import { startControlPlane } from './lib/control-plane.js';
import { treeCpuSeconds } from './lib/cpu-time.js';
import { startTargets } from './lib/proxy-targets.js';
import { progress, table, writeResult } from './lib/report.js';
import { round } from './lib/stats.js';
import { type Address, measureRoundTrips, measureThroughput } from './lib/tcp-measure.js';

export const description =
  'kubectl port-forward: throughput and round trips through the API server and NATS vs direct';

const HELP = `npm run bench -- port-forward [options]

The real kubectl's port-forward (SPDY over a WebSocket with kubectl >= 1.31, SPDY on the
upgraded connection before) → 'wake apiserver' (its own process, with Postgres, nats-server and
the relay) → a NATS link → the node side of port forwarding, served in this process as a node
agent serves it (it connects to the pod's port and relays) → small TCP backends in a process of
their own on 127.0.0.1: the proxy bench's bulk (streams zeros) and echo ports. The same loads
straight to the backends are the reference.

  --kubectl MINOR   which kubectl 1.<MINOR> (default 33; 30 or older speaks SPDY directly)
  --seconds S       per throughput measurement, after a 1 s warm-up (default 5)
  --requests N      64-byte round trips per latency measurement (default 500)
  --help            this text`;

const NODE = 'bench-node';

export async function run(argv: string[]): Promise<void> {
  const { values } = parseArgs({
    args: argv,
    options: {
      kubectl: { type: 'string' },
      seconds: { type: 'string' },
      requests: { type: 'string' },
      help: { type: 'boolean' },
    },
  });
  if (values.help) return void console.log(HELP);
  const minor = Number(values.kubectl ?? 33);
  const seconds = Number(values.seconds ?? 5);
  const requests = Number(values.requests ?? 500);
  if (!Number.isInteger(minor) || !(seconds > 0) || !Number.isInteger(requests) || requests < 1)
    throw new RangeError(
      '--kubectl is a minor version, --seconds a positive number, --requests a whole number ≥ 1',
    );

  progress('starting Postgres, nats-server, the relay and the API server; the backends');
  const cp = await startControlPlane('port-forward');
  const targets = await cp.add(startTargets(['127.0.0.1']));
  const nc = await natsConnect({ servers: cp.nats.url });
  // The node side, as the node agent serves it, with the pod at 127.0.0.1.
  const served = servePortForward(nc, NODE, {
    connect: (request) => dialPodPort('127.0.0.1', request.port, 10_000),
  });
  const api = apiCaller(cp.api, 4);
  const kubectl = kubectlBinary(minor);
  let forwarder: ReturnType<typeof spawn> | undefined;
  try {
    const pods = '/api/v1/namespaces/default/pods';
    const created = await api.call('POST', pods, {
      metadata: { name: 'backend' },
      spec: { nodeName: NODE, containers: [{ name: 'c', image: 'bench' }] },
    });
    if (created.status !== 201) throw new Error(`creating the pod: ${created.status} ${created.text}`);
    // kubectl forwards only to a running pod.
    const status = await api.call(
      'PATCH',
      `${pods}/backend/status`,
      { status: runningPodStatus('127.0.0.1', true) },
      'application/merge-patch+json',
    );
    if (status.status !== 200) throw new Error(`setting the pod's status: ${status.status} ${status.text}`);

    progress(`kubectl 1.${minor} port-forward pod/backend :${targets.bulk} :${targets.echo}`);
    const child = spawn(kubectl, ['port-forward', 'pod/backend', `:${targets.bulk}`, `:${targets.echo}`], {
      env: { ...process.env, KUBECONFIG: cp.api.kubeconfig, HOME: cp.dir },
    });
    forwarder = child;
    let out = '';
    child.stdout?.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr?.on('data', (d: Buffer) => (out += d.toString()));
    const local = await waitFor('kubectl to forward both ports', async () => {
      if (child.exitCode !== null) throw new Error(`kubectl exited: ${out}`);
      const bulk = new RegExp(`127\\.0\\.0\\.1:(\\d+) -> ${targets.bulk}\\b`).exec(out);
      const echo = new RegExp(`127\\.0\\.0\\.1:(\\d+) -> ${targets.echo}\\b`).exec(out);
      return bulk && echo ? { bulk: Number(bulk[1]), echo: Number(echo[1]) } : undefined;
    });

    const at =
      (port: number): (() => Address) =>
      () => ({ host: '127.0.0.1', port });
    const rows: Record<string, string | number>[] = [];
    const result: Record<string, unknown> = { kubectl: `1.${minor}`, seconds, requests };
    for (const [path, ports] of [
      ['direct', { bulk: targets.bulk, echo: targets.echo }],
      ['port-forward', local],
    ] as const) {
      const cpuBefore = treeCpuSeconds(cp.api.pid);
      const cells: Record<string, number> = {};
      progress(`${path}: ${requests} round trips of 64 bytes, on one connection and each on a new one`);
      const kept = await measureRoundTrips(at(ports.echo), {
        requests,
        seconds: 60,
        size: 64,
        newConnectionEach: false,
      });
      const fresh = await measureRoundTrips(at(ports.echo), {
        requests: Math.min(requests, 200),
        seconds: 60,
        size: 64,
        newConnectionEach: true,
      });
      for (const connections of [1, 4]) {
        progress(`${path}: bulk download over ${connections} connection(s), ${seconds} s`);
        const t = await measureThroughput(at(ports.bulk), { connections, seconds, warmupSeconds: 1 });
        cells[`MB/s ×${connections}`] = round(t.megabytesPerSecond, 1);
      }
      const apiCpu = treeCpuSeconds(cp.api.pid) - cpuBefore;
      rows.push({
        path,
        ...cells,
        'rtt p50 ms': round(kept.latencyMs.p50),
        'rtt p99 ms': round(kept.latencyMs.p99),
        'new conn p50 ms': round(fresh.latencyMs.p50),
        'new conn p99 ms': round(fresh.latencyMs.p99),
        'api-server CPU s': round(apiCpu, 1),
      });
      result[path] = {
        ...cells,
        roundTrip: kept.latencyMs,
        newConnection: fresh.latencyMs,
        apiServerCpuSeconds: apiCpu,
      };
    }
    console.log(`\nkubectl 1.${minor} port-forward through Wake vs straight to the backends\n`);
    console.log(table(rows));
    console.log(`\nwritten: ${await writeResult('port-forward', result)}`);
  } finally {
    forwarder?.removeAllListeners('exit');
    forwarder?.kill();
    served.close();
    api.close();
    await nc.close();
    await cp.stop();
  }
}
