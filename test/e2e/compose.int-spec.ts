import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';

import { ensureBaseImages, ensureWakeImage, findRepoRoot, freePort, waitFor } from '@app/dev-servers';
import { dockerForTests, type TestDocker } from '@app/testing/docker.js';
import { kubectlBinary } from '@app/testing/kubectl.js';

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

const ROOT = findRepoRoot();
const SERVICES = [
  'nats',
  'postgres',
  'api-server',
  'relay',
  'scheduler',
  'controller-manager',
  'node-a',
  'node-b',
];
/** The services with a healthcheck in docker-compose.yml. */
const CHECKED = ['nats', 'postgres', 'api-server', 'relay', 'scheduler', 'node-a', 'node-b'];

/**
 * docker-compose.yml brought up for real: images built here (no registry), Debian's
 * docker-compose 1.29 (or the compose plugin), a unique project on a free loopback port, the
 * real kubectl with the kubeconfig the API server writes to the mounted folder; then
 * `down -v` leaves no container, volume or network behind.
 */
describe('the docker compose stack', () => {
  const id = randomUUID().slice(0, 8);
  const project = `wake-e2e-${id}`;
  const clusterId = `e2e-${id}`;
  let env: TestDocker;
  let port: number;
  let kubeconfigDir: string;
  let nodeRoot: string;
  let environment: NodeJS.ProcessEnv;
  let home: string;

  function run(command: string[], timeoutMs: number, extraEnv: NodeJS.ProcessEnv = {}): Promise<Run> {
    return new Promise((resolve, reject) => {
      execFile(
        command[0]!,
        command.slice(1),
        { cwd: ROOT, env: { ...environment, ...extraEnv }, timeout: timeoutMs, maxBuffer: 16 << 20 },
        (error, stdout, stderr) => {
          if (error && typeof error.code !== 'number' && !error.killed) return reject(error);
          resolve({ code: error ? (typeof error.code === 'number' ? error.code : 1) : 0, stdout, stderr });
        },
      );
    });
  }

  /** docker-compose 1.29 where installed (scripts/ensure.mjs), else the compose plugin. */
  const compose = (args: string[], timeoutMs = 180_000) =>
    run(
      [
        ...(existsSync('/usr/bin/docker-compose') ? ['docker-compose'] : ['docker', 'compose']),
        '-p',
        project,
        '-f',
        join(ROOT, 'docker-compose.yml'),
        ...args,
      ],
      timeoutMs,
    );

  const kubectl = (args: string[]) =>
    run([kubectlBinary(33), ...args], 60_000, { KUBECONFIG: join(kubeconfigDir, 'kubeconfig'), HOME: home });

  const projectContainers = () =>
    env.docker.listContainers({ all: true, filters: { label: [`com.docker.compose.project=${project}`] } });

  /** The pods' containers: each agent labels its own with `<clusterId>-<node>`. */
  const podContainers = async () =>
    (await env.docker.listContainers({ all: true, filters: { label: ['wake.dev/cluster'] } })).filter((c) =>
      c.Labels['wake.dev/cluster']?.startsWith(`${clusterId}-`),
    );

  beforeAll(async () => {
    env = await dockerForTests();
    const base = await ensureBaseImages(env.docker);
    const wake = await ensureWakeImage(env.docker, { root: ROOT, base: base.node });
    port = await freePort();
    kubeconfigDir = await mkdtemp(join(tmpdir(), 'wake-compose-kubeconfig-'));
    nodeRoot = await mkdtemp(join(tmpdir(), 'wake-compose-nodes-'));
    home = await mkdtemp(join(tmpdir(), 'wake-compose-home-'));
    environment = {
      ...process.env,
      WAKE_IMAGE: wake,
      WAKE_BASE_IMAGE: base.node,
      WAKE_POSTGRES_IMAGE: base.postgres,
      WAKE_NATS_IMAGE: base.nats,
      WAKE_PAUSE_IMAGE: env.images.pause,
      WAKE_API_PORT: String(port),
      // NATS is published on loopback for the (opt-in) proxy: a free port, not the default 4222.
      WAKE_NATS_PORT: String(await freePort()),
      WAKE_KUBECONFIG_DIR: kubeconfigDir,
      WAKE_NODE_ROOT: nodeRoot,
      WAKE_CLUSTER_ID: clusterId,
    };
    const up = await compose(['up', '-d', '--no-build']);
    if (up.code !== 0) throw new Error(`compose up failed (${up.code}):\n${up.stderr}`);
  }, 900_000);

  afterAll(async () => {
    if (!env) return;
    await compose(['down', '-v', '--remove-orphans', '--timeout', '5']).catch(() => undefined);
    await Promise.all(
      [...(await podContainers()), ...(await projectContainers())].map((c) =>
        env.docker
          .getContainer(c.Id)
          .remove({ force: true, v: true })
          .catch(() => undefined),
      ),
    );
    await Promise.all(
      [kubeconfigDir, nodeRoot, home].map((d) => d && rm(d, { recursive: true, force: true })),
    );
    expect([...(await podContainers()), ...(await projectContainers())]).toEqual([]);
  }, 120_000);

  it('starts every service and brings those with a healthcheck to healthy', async () => {
    await waitFor(
      'every healthcheck to pass',
      async () => {
        const containers = await projectContainers();
        const byService = new Map(containers.map((c) => [c.Labels['com.docker.compose.service'], c]));
        const missing = SERVICES.filter((s) => byService.get(s)?.State !== 'running');
        if (missing.length) return undefined;
        const states = await Promise.all(
          CHECKED.map(async (s) => (await env.docker.getContainer(byService.get(s)!.Id).inspect()).State),
        );
        return states.every((s) => s.Health?.Status === 'healthy') ? true : undefined;
      },
      { timeoutMs: 120_000, intervalMs: 500 },
    );
    const containers = await projectContainers();
    expect(containers.map((c) => c.Labels['com.docker.compose.service']).sort()).toEqual(
      [...SERVICES].sort(),
    );
  });

  it('writes a kubeconfig for this host naming the loopback-published port, and kubectl uses it', async () => {
    const text = await readFile(join(kubeconfigDir, 'kubeconfig'), 'utf8');
    expect(text).toContain(`server: https://127.0.0.1:${port}`);
    for (const path of ['/healthz', '/livez', '/readyz']) {
      const r = await kubectl(['get', '--raw', path]);
      expect({ path, code: r.code, stdout: r.stdout, stderr: r.stderr }).toEqual({
        path,
        code: 0,
        stdout: 'ok',
        stderr: '',
      });
    }
    // Published on loopback only.
    const api = (await projectContainers()).find(
      (c) => c.Labels['com.docker.compose.service'] === 'api-server',
    )!;
    expect(api.Ports.filter((p) => p.PublicPort).map((p) => [p.IP, p.PublicPort, p.PrivatePort])).toEqual([
      ['127.0.0.1', port, 6443],
    ]);
  });

  it('registers both node agents as Ready nodes', async () => {
    const ready = await waitFor(
      'two Ready nodes',
      async () => {
        const r = await kubectl(['get', 'nodes', '-o', 'json']);
        if (r.code !== 0) return undefined;
        const nodes = (
          JSON.parse(r.stdout) as {
            items: {
              metadata: { name: string };
              status?: { conditions?: { type: string; status: string }[] };
            }[];
          }
        ).items.filter((n) => n.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True'));
        return nodes.length === 2 ? nodes.map((n) => n.metadata.name).sort() : undefined;
      },
      { timeoutMs: 60_000, intervalMs: 500 },
    );
    expect(ready).toEqual(['wake-node-a', 'wake-node-b']);
  });

  it('gives the default namespace its ServiceAccount and root CA (the controller manager)', async () => {
    const made = await waitFor(
      'the default ServiceAccount and kube-root-ca.crt',
      async () => {
        const sa = await kubectl(['get', 'serviceaccount', 'default', '-o', 'name']);
        const ca = await kubectl(['get', 'configmap', 'kube-root-ca.crt', '-o', 'name']);
        return sa.code === 0 && ca.code === 0 ? [sa.stdout, ca.stdout] : undefined;
      },
      { timeoutMs: 60_000, intervalMs: 500 },
    );
    expect(made).toEqual(['serviceaccount/default\n', 'configmap/kube-root-ca.crt\n']);
  });

  it('stores a ConfigMap, and runs a pod on one of its nodes whose log kubectl reads', async () => {
    const created = await kubectl(['create', 'configmap', 'greeting', '--from-literal=hello=compose']);
    expect(created).toMatchObject({ code: 0, stdout: 'configmap/greeting created\n' });
    const read = await kubectl(['get', 'configmap', 'greeting', '-o', 'jsonpath={.data.hello}']);
    expect(read).toMatchObject({ code: 0, stdout: 'compose' });

    const pod = await kubectl([
      'run',
      'hello',
      `--image=${env.images.busybox}`,
      '--image-pull-policy=Never',
      '--restart=Never',
      '--',
      'sh',
      '-c',
      'echo hello from compose; exec sleep 300',
    ]);
    expect(pod).toMatchObject({ code: 0, stdout: 'pod/hello created\n' });
    const node = await waitFor(
      'the scheduler to bind the pod',
      async () => {
        const r = await kubectl(['get', 'pod', 'hello', '-o', 'jsonpath={.spec.nodeName}']);
        return r.code === 0 && r.stdout !== '' ? r.stdout : undefined;
      },
      { timeoutMs: 60_000, intervalMs: 500 },
    );
    expect(['wake-node-a', 'wake-node-b']).toContain(node);
    // The node agent in its container runs the pod on the host's engine; logs come over NATS.
    await waitFor(
      'the pod to be Running',
      async () => {
        const r = await kubectl(['get', 'pod', 'hello', '-o', 'jsonpath={.status.phase}']);
        return r.stdout === 'Running' ? true : undefined;
      },
      { timeoutMs: 60_000, intervalMs: 500 },
    );
    expect(await kubectl(['logs', 'hello'])).toMatchObject({ code: 0, stdout: 'hello from compose\n' });
  });

  it('kubectl debug node/…: the pod shares the node container’s network and PID namespaces', async () => {
    const started = await kubectl([
      'debug',
      'node/wake-node-a',
      `--image=${env.images.busybox}`,
      '--image-pull-policy=Never',
      '--',
      'sh',
      '-c',
      'hostname; tr "\\0" " " < /proc/1/cmdline',
    ]);
    expect(started.code).toBe(0);
    const name = /Creating debugging pod (\S+) /.exec(started.stdout + started.stderr)?.[1];
    expect(name).toMatch(/^node-debugger-wake-node-a-/);
    const pod = await waitFor(
      'the node debugger to succeed',
      async () => {
        const r = await kubectl(['get', 'pod', name!, '-o', 'json']);
        const p =
          r.code === 0
            ? (JSON.parse(r.stdout) as { status?: { phase?: string; podIP?: string; hostIP?: string } })
            : undefined;
        return p?.status?.phase === 'Succeeded' ? p : undefined;
      },
      { timeoutMs: 60_000, intervalMs: 500 },
    );
    // The node is the agent's container: its name, its PID 1 (the agent), its address.
    const [node] = await env.docker.listContainers({
      filters: { label: [`com.docker.compose.project=${project}`, 'com.docker.compose.service=node-a'] },
    });
    const nodeHostname = (await env.docker.getContainer(node!.Id).inspect()).Config.Hostname;
    const logs = await kubectl(['logs', name!]);
    expect(logs.stdout.split('\n')[0]).toBe(nodeHostname);
    expect(logs.stdout).toContain('node-agent');
    expect(pod.status?.podIP).toBe(pod.status?.hostIP);
  });

  it('down -v removes its containers, volumes and network', async () => {
    const down = await compose(['down', '-v', '--remove-orphans', '--timeout', '5']);
    expect(down.code).toBe(0);
    expect(await projectContainers()).toEqual([]);
    const volumes = await env.docker.listVolumes({
      filters: { label: [`com.docker.compose.project=${project}`] },
    });
    expect(volumes.Volumes ?? []).toEqual([]);
    const networks = await env.docker.listNetworks({
      filters: { label: [`com.docker.compose.project=${project}`] },
    });
    expect(networks).toEqual([]);
  });
});
