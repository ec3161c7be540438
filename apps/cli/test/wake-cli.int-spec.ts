import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';

import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';

import { jetstreamManager } from '@nats-io/jetstream';
import { connect as natsConnect } from '@nats-io/transport-node';

import { SEQ_HEADER } from '@app/bus';
import { freePort, waitFor } from '@app/dev-servers';
import { EventStore } from '@app/event-store';
import { dockerForTests } from '@app/testing/docker.js';
import { kubectlBinary } from '@app/testing/kubectl.js';

const run = promisify(execFile);
const MAIN = resolve('apps/cli/src/main.ts');

/** Runs the real CLI (from source, through tsx) and returns its exit code and output. */
async function wake(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run(process.execPath, ['--import', 'tsx', MAIN, ...args], {
      timeout: 120_000,
    });
    return { code: 0, stdout, stderr };
  } catch (e) {
    const err = e as { code?: number; stdout?: string; stderr?: string };
    return { code: err.code ?? 1, stdout: err.stdout ?? '', stderr: err.stderr ?? '' };
  }
}

/**
 * A data directory for one describe block: made before its tests, and after them the cluster
 * in it stopped (whatever a failed test left running) and the directory removed.
 */
function clusterDataDir(prefix: string): { readonly path: string } {
  const dir = { path: '' };
  beforeAll(async () => {
    dir.path = await mkdtemp(join(tmpdir(), prefix));
    await chmod(dir.path, 0o755);
  });
  afterAll(async () => {
    await wake('down', '--data-dir', dir.path);
    await rm(dir.path, { recursive: true, force: true });
  });
  return dir;
}

describe('wake up / status / verify / down', () => {
  const data = clusterDataDir('wake-cli-');
  let dir: string;
  beforeAll(async () => {
    dir = data.path;
    await writeFile(
      join(dir, 'cm.json'),
      JSON.stringify({
        apiVersion: 'v1',
        kind: 'ConfigMap',
        metadata: { name: 'cli', namespace: 'default' },
        data: { k: 'v' },
      }),
    );
  });

  it('every command has --help', async () => {
    for (const cmd of [
      'up',
      'down',
      'status',
      'verify',
      'relay',
      'apiserver',
      'scheduler',
      'controller-manager',
      'node-agent',
      'proxy',
    ]) {
      const res = await wake(cmd, '--help');
      expect(res.code).toBe(0);
      expect(res.stdout).toMatch(new RegExp(`usage: wake ${cmd}`));
    }
    expect((await wake('nonsense')).code).toBe(2);
  });

  it('refuses a relay read interval that is not a whole number of milliseconds, before connecting to anything', async () => {
    for (const given of ['2.5', '']) {
      const res = await wake(
        'relay',
        '--database-url',
        'postgres://127.0.0.1:1/none',
        '--nats-url',
        'nats://127.0.0.1:1',
        '--read-interval-ms',
        given,
      );
      expect(res.code).toBe(1);
      expect(res.stderr).toContain(`--read-interval-ms: want a whole number, got ${JSON.stringify(given)}`);
    }
  });

  it('starts a cluster in the background, serves kubectl, reports it, verifies its log and stops it', async () => {
    const apiPort = await freePort();
    // The harness's engine (started if none runs): `wake up` finds it answering, uses it, and
    // leaves it running at `wake down`, as it does any engine it did not start.
    const { images } = await dockerForTests();
    const up = await wake(
      'up',
      '--detach',
      '--data-dir',
      dir,
      '--api-port',
      String(apiPort),
      '--node-name',
      'wake-cli-node',
    );
    expect(up.stdout).toMatch(/running in the background/);
    // The admin kubeconfig it wrote works with the real kubectl, over HTTPS with its CA.
    const kubectl = (...args: string[]) =>
      run(kubectlBinary(33), args, {
        env: { ...process.env, HOME: dir, KUBECONFIG: join(dir, 'kubeconfig') },
      });
    const namespaces = await kubectl('get', 'namespaces', '-o', 'name');
    expect(namespaces.stdout.split('\n').filter(Boolean).sort()).toEqual([
      'namespace/default',
      'namespace/kube-node-lease',
      'namespace/kube-public',
      'namespace/kube-system',
    ]);
    // The controller manager it started gives each namespace its default ServiceAccount and root CA.
    const defaults = await waitFor('the default ServiceAccount and kube-root-ca.crt', async () => {
      const got = await kubectl(
        'get',
        'serviceaccount/default',
        'configmap/kube-root-ca.crt',
        '-o',
        'name',
      ).catch(() => undefined);
      return got?.stdout;
    });
    expect(defaults).toBe('serviceaccount/default\nconfigmap/kube-root-ca.crt\n');
    await kubectl('create', '-f', join(dir, 'cm.json')).catch((e: unknown) => {
      throw new Error(`kubectl create failed: ${(e as { stderr?: string }).stderr}`);
    });
    const created = JSON.parse((await kubectl('get', 'configmap', 'cli', '-o', 'json')).stdout) as {
      metadata: { resourceVersion: string };
    };
    const cliSeq = Number(created.metadata.resourceVersion);
    const status = await wake('status', '--data-dir', dir, '--json');
    expect(status.code).toBe(0);
    const report = JSON.parse(status.stdout) as {
      running: boolean;
      components: { name: string; url?: string; pid?: number; rssMiB?: number }[];
      ingress?: string;
      totalMiB: number;
    };
    expect(report.running).toBe(true);
    // Memory per component (its process tree's PSS) and the whole cluster's.
    for (const c of report.components) expect(c.rssMiB).toBeGreaterThan(0);
    expect(report.totalMiB).toBe(report.components.reduce((sum, c) => sum + (c.rssMiB ?? 0), 0));
    expect(report.components.map((c) => c.name)).toEqual([
      'wake',
      'postgres',
      'nats',
      'relay',
      'api-server',
      'scheduler',
      'controller-manager',
      'node-agent (wake-cli-node)',
      'proxy',
    ]);
    expect(report.components.find((c) => c.name === 'api-server')?.url).toBe(`https://127.0.0.1:${apiPort}`);
    // The throughput components run with their larger young generation; the others with V8's default.
    const nodeFlags = (name: string) => {
      const pid = report.components.find((c) => c.name === name)?.pid;
      return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
    };
    expect(nodeFlags('api-server')).toContain('--max-semi-space-size=64');
    expect(nodeFlags('scheduler')).toContain('--max-semi-space-size=64');
    expect(nodeFlags('relay')).not.toContain('--max-semi-space-size=64');
    expect(report.components.find((c) => c.name === 'postgres')?.url).toMatch(
      /^postgres:\/\/.*127\.0\.0\.1:\d+\/wake$/,
    );
    // The proxy's /metrics and its ingress controller answer where the report says they are
    // (no Ingress yet: the default backend's 404).
    const proxyUrl = report.components.find((c) => c.name === 'proxy')?.url;
    expect(proxyUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/metrics$/);
    const metrics = await fetch(proxyUrl!);
    expect({
      status: metrics.status,
      synced: (await metrics.text()).includes('kubeproxy_sync_proxy_rules_duration_seconds'),
    }).toEqual({ status: 200, synced: true });
    expect(report.ingress).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    const noRoute = await fetch(`${report.ingress}/`);
    await noRoute.body?.cancel();
    expect(noRoute.status).toBe(404);
    // The cluster's node agent registered its node, and the scheduler places a pod on it.
    await waitFor('the node to be Ready', async () => {
      const ready = await kubectl(
        'get',
        'node',
        'wake-cli-node',
        '-o',
        'jsonpath={.status.conditions[?(@.type=="Ready")].status}',
      ).catch(() => ({ stdout: '' }));
      return ready.stdout === 'True' ? true : undefined;
    });
    await kubectl(
      'run',
      'sched',
      `--image=${images.busybox}`,
      '--restart=Never',
      '--',
      'sh',
      '-c',
      'echo hello from wake; exec sleep 3600',
    );
    expect(
      await waitFor('the pod bound by the cluster`s scheduler', async () => {
        const nodeName = (await kubectl('get', 'pod', 'sched', '-o', 'jsonpath={.spec.nodeName}')).stdout;
        return nodeName || undefined;
      }),
    ).toBe('wake-cli-node');
    // ... and its node agent runs it on Docker; kubectl logs reads it through the API server.
    await waitFor('the pod to be Running', async () => {
      const phase = (await kubectl('get', 'pod', 'sched', '-o', 'jsonpath={.status.phase}')).stdout;
      return phase === 'Running' ? true : undefined;
    });
    expect((await kubectl('logs', 'sched')).stdout).toBe('hello from wake\n');
    await kubectl('delete', 'pod', 'sched', '--grace-period=1');
    const verify = await wake('verify', '--data-dir', dir);
    expect(verify.code).toBe(0);
    expect(JSON.parse(verify.stdout)).toMatchObject({ ok: true });

    // The event kubectl's create appended, then tampered with as a superuser would.
    const url = report.components.find((c) => c.name === 'postgres')!.url!;
    const store = await EventStore.open({ url });
    try {
      const event = await store.events.at(cliSeq);
      expect(event).toMatchObject({ name: 'cli', verb: 'create', actor: { user: 'admin' } });
      expect(event?.userAgent).toMatch(/^kubectl/);
      expect(JSON.parse((await wake('verify', '--data-dir', dir)).stdout)).toMatchObject({ ok: true });
      // The cluster's relay puts the event on its bus.
      const natsUrl = report.components.find((c) => c.name === 'nats')?.url;
      expect(natsUrl).toMatch(/^nats:\/\/127\.0\.0\.1:\d+$/);
      const nc = await natsConnect({ servers: natsUrl });
      try {
        const jsm = await jetstreamManager(nc);
        await waitFor('the event on WAKE_EVENTS', async () =>
          (await jsm.streams.info('WAKE_EVENTS')).state.last_seq >= cliSeq ? true : undefined,
        );
        const m = await jsm.streams.getMessage('WAKE_EVENTS', { seq: cliSeq });
        expect(m?.header.get(SEQ_HEADER)).toBe(String(cliSeq));
        expect(m?.subject).toBe('ev.configmaps.core.default.cli');

        // kill -9 the relay: the cluster restarts it, and the next event still lands.
        const relayPid = report.components.find((c) => c.name === 'relay')?.pid;
        expect(relayPid).toBeGreaterThan(0);
        process.kill(relayPid!, 'SIGKILL');
        const afterKill = await store.create(
          { group: '', resource: 'configmaps', namespace: 'default', name: 'after-kill' },
          { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'after-kill' } },
          { actor: { user: 'test', groups: [] }, verb: 'create' },
        );
        await waitFor('the event after the relay was killed', async () =>
          (await jsm.streams.info('WAKE_EVENTS')).state.last_seq >= afterKill.resourceVersion
            ? true
            : undefined,
        );
        const after = await jsm.streams.getMessage('WAKE_EVENTS', { seq: afterKill.resourceVersion });
        expect(after?.subject).toBe('ev.configmaps.core.default.after-kill');
      } finally {
        await nc.close();
      }
      await store.adminSql.begin(async (tx) => {
        await tx`SET LOCAL session_replication_role = replica`;
        await tx`UPDATE wake.events SET object = jsonb_set(object, '{data,k}', '"forged"') WHERE seq = ${cliSeq}`;
      });
    } finally {
      await store.close();
    }
    const tampered = await wake('verify', '--data-dir', dir);
    expect(tampered.code).toBe(1);
    expect(JSON.parse(tampered.stdout)).toMatchObject({
      ok: false,
      firstBadSeq: cliSeq,
      reason: 'payload does not match its digest',
    });
    expect((await wake('up', '--data-dir', dir)).stderr).toMatch(/already runs/);
    // The proxy's chains carry an id from the data directory; they are there until the cluster stops.
    const chain = `WAKE-PORTALS-CONTAINER-${createHash('sha256').update(resolve(dir)).digest('hex').slice(0, 5).toUpperCase()}`;
    const natTable = async () => (await run('iptables-save', ['-t', 'nat'])).stdout;
    expect(await natTable()).toContain(`-j ${chain}`);
    const down = await wake('down', '--data-dir', dir);
    expect(down.stdout).toMatch(/stopped/);
    expect((await wake('status', '--data-dir', dir)).code).toBe(3);
    expect(await natTable()).not.toContain(chain);
  });
});

describe('wake up --runtime sim', () => {
  const data = clusterDataDir('wake-cli-sim-');
  let dir: string;
  beforeAll(() => {
    dir = data.path;
  });

  it('starts a cluster of simulated nodes, no Docker needed, whose pods run', async () => {
    const apiPort = await freePort();
    const up = await wake(
      'up',
      '--detach',
      '--data-dir',
      dir,
      '--api-port',
      String(apiPort),
      '--runtime',
      'sim',
      '--nodes',
      '3',
      '--node-name',
      'cli-sim',
    );
    expect(up.stdout).toMatch(/running in the background/);
    const kubectl = (...args: string[]) =>
      run(kubectlBinary(33), ['--kubeconfig', join(dir, 'kubeconfig'), ...args], {
        env: { ...process.env, HOME: dir },
      });
    const nodes = await kubectl('get', 'nodes', '-l', 'wake.dev/simulated=true', '--no-headers');
    expect(
      nodes.stdout
        .trim()
        .split('\n')
        .map((l) => l.split(/\s+/).slice(0, 2)),
    ).toEqual([
      ['cli-sim-0', 'Ready'],
      ['cli-sim-1', 'Ready'],
      ['cli-sim-2', 'Ready'],
    ]);
    await kubectl('run', 'hello', '--image=registry.k8s.io/pause:3.10', '--restart=Never');
    await waitFor('the pod to run on a simulated node', async () => {
      const phase = (await kubectl('get', 'pod', 'hello', '-o', 'jsonpath={.status.phase}')).stdout;
      return phase === 'Running' ? true : undefined;
    });
    const status = await wake('status', '--data-dir', dir);
    expect(status.stdout).toMatch(/node-agent \(3 simulated nodes\)/);
    expect((await wake('down', '--data-dir', dir)).stdout).toMatch(/stopped/);
  });
});

describe('wake down, then wake up again on the same data directory', () => {
  const data = clusterDataDir('wake-cli-again-');
  let dir: string;
  beforeAll(() => {
    dir = data.path;
  });

  it('brings back every object, and the node agent adopts the pod that kept running', async () => {
    // The harness's engine outlives `wake down` (wake did not start it), as a host's engine does.
    const { images, docker } = await dockerForTests();
    const apiPort = String(await freePort());
    const upArgs = ['up', '--detach', '--data-dir', dir, '--api-port', apiPort, '--node-name', 'again-node'];
    expect((await wake(...upArgs)).stdout).toMatch(/running in the background/);
    const kubectl = async (...args: string[]) =>
      (
        await run(kubectlBinary(33), ['--kubeconfig', join(dir, 'kubeconfig'), ...args], {
          env: { ...process.env, HOME: dir },
        })
      ).stdout;
    await kubectl('create', 'configmap', 'kept', '--from-literal=k=v');
    await kubectl('run', 'keeper', `--image=${images.busybox}`, '--restart=Never', '--', 'sleep', '3600');
    const containerId = await waitFor('the pod to run', async () => {
      const id = await kubectl(
        'get',
        'pod',
        'keeper',
        '-o',
        'jsonpath={.status.containerStatuses[0].containerID}',
      );
      const phase = await kubectl('get', 'pod', 'keeper', '-o', 'jsonpath={.status.phase}');
      return phase === 'Running' && id ? id : undefined;
    });
    expect((await wake('down', '--data-dir', dir)).stdout).toMatch(/stopped/);
    // The pod's container runs on while the cluster is down.
    const stillRunning = await docker.getContainer(containerId.replace('docker://', '')).inspect();
    expect(stillRunning.State.Running).toBe(true);

    expect((await wake(...upArgs)).stdout).toMatch(/running in the background/);
    expect(await kubectl('get', 'configmap', 'kept', '-o', 'jsonpath={.data.k}')).toBe('v');
    await waitFor('the node Ready again', async () => {
      const ready = await kubectl(
        'get',
        'node',
        'again-node',
        '-o',
        'jsonpath={.status.conditions[?(@.type=="Ready")].status}',
      );
      return ready === 'True' ? true : undefined;
    });
    // Adopted, not restarted: the same container, no restart counted, still Running.
    const pod = JSON.parse(await kubectl('get', 'pod', 'keeper', '-o', 'json')) as {
      status: { phase: string; containerStatuses: { containerID: string; restartCount: number }[] };
    };
    expect(pod.status.phase).toBe('Running');
    expect(pod.status.containerStatuses[0]).toMatchObject({ containerID: containerId, restartCount: 0 });
    await kubectl('delete', 'pod', 'keeper', '--grace-period=1');
    expect((await wake('down', '--data-dir', dir)).stdout).toMatch(/stopped/);
  });
});
