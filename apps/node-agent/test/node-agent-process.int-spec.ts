import { type ChildProcess, spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { waitFor } from '@app/dev-servers';
import { type ApiCluster, startApiCluster } from '@app/testing/api-cluster.js';
import { dockerForTests, removeClusterContainers, type TestDocker } from '@app/testing/docker.js';
import type Docker from 'dockerode';

import { type Pod } from '../src/api-types.js';
import { dockerBridgeGateway } from '../src/api-access/index.js';
import { LABELS } from '../src/runtime/index.js';

const MAIN = resolve('apps/cli/src/main.ts');

/**
 * `wake node-agent` as its own process, as `wake up` runs it, against the real API server,
 * log, bus and Docker engine: a pod with a ConfigMap volume, a Secret in its environment, a
 * readiness probe and a service account token it uses to read the API; kubectl logs and exec;
 * kill -9 of the agent with the pod running, and a restarted agent that adopts it.
 */
describe('wake node-agent: a pod end to end, and kill -9', () => {
  let cluster: ApiCluster;
  let docker: TestDocker;
  let dataDir: string;
  let agent: ChildProcess | undefined;
  const clusterId = `test-e2e-${randomUUID().slice(0, 8)}`;
  const nodeName = 'e2e-node';
  const ns = 'e2e';

  const startAgent = async (): Promise<ChildProcess> => {
    const child = spawn(
      process.execPath,
      [
        '--import',
        'tsx',
        MAIN,
        'node-agent',
        '--kubeconfig',
        cluster.kubeconfig,
        '--nats-url',
        cluster.natsUrl,
        '--node-name',
        nodeName,
        '--root-dir',
        dataDir,
        '--cluster-id',
        clusterId,
        '--pod-infra-container-image',
        docker.images.pause,
      ],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let stderr = '';
    child.stderr!.on('data', (d: Buffer) => (stderr = (stderr + d.toString()).slice(-4000)));
    await new Promise<void>((ready, fail) => {
      let out = '';
      child.stdout!.on('data', (d: Buffer) => {
        out += d.toString();
        if (out.includes('node agent ready')) ready();
      });
      child.once('exit', (code) => fail(new Error(`the node agent exited (${code}): ${stderr}`)));
    });
    return child;
  };
  const kubectl = async (...args: string[]) => {
    const r = await cluster.kubectl(33, ['-n', ns, ...args]);
    if (r.code !== 0) throw new Error(`kubectl ${args.join(' ')}: ${r.stderr}`);
    return r.stdout;
  };
  const getPod = async (name: string) =>
    (await cluster.api<Pod>('GET', `/api/v1/namespaces/${ns}/pods/${name}`)).body;
  const ourContainers = async (d: Docker) =>
    d.listContainers({ all: true, filters: { label: [`${LABELS.cluster}=${clusterId}`] } });

  beforeAll(async () => {
    docker = await dockerForTests();
    const gateway = await dockerBridgeGateway(docker.docker);
    // busybox wget's TLS offers no signature algorithms: the pod's client needs the looser setting.
    cluster = await startApiCluster({ servingIps: [gateway], allowSha1TlsSignatures: true });
    dataDir = await mkdtemp(join(tmpdir(), 'wake-e2e-agent-'));
    expect((await cluster.api('POST', '/api/v1/namespaces', { metadata: { name: ns } })).status).toBe(201);
    agent = await startAgent();
  });

  afterAll(async () => {
    agent?.kill('SIGKILL');
    if (docker) expect(await removeClusterContainers(docker.docker, clusterId)).toEqual([]);
    await cluster?.close();
    if (dataDir) await rm(dataDir, { recursive: true, force: true });
  });

  it('runs a pod with a ConfigMap volume, a Secret env var, a readiness probe and an API call with its token', async () => {
    expect(
      (
        await cluster.api('POST', `/api/v1/namespaces/${ns}/configmaps`, {
          metadata: { name: 'site' },
          data: { 'index.html': 'hello from a configmap\n' },
        })
      ).status,
    ).toBe(201);
    expect(
      (
        await cluster.api('POST', `/api/v1/namespaces/${ns}/secrets`, {
          metadata: { name: 'creds' },
          stringData: { password: 's3cret' },
        })
      ).status,
    ).toBe(201);
    // The pod's service account may read its config map, and nothing else.
    await cluster.grant(
      ns,
      'read-site',
      [{ verbs: ['get'], apiGroups: [''], resources: ['configmaps'], resourceNames: ['site'] }],
      ['default'],
    );
    const created = await cluster.api('POST', `/api/v1/namespaces/${ns}/pods`, {
      metadata: { name: 'web' },
      spec: {
        nodeName,
        terminationGracePeriodSeconds: 2,
        containers: [
          {
            name: 'httpd',
            image: docker.images.busybox,
            command: ['httpd', '-f', '-p', '8080', '-h', '/site'],
            volumeMounts: [{ name: 'site', mountPath: '/site' }],
            readinessProbe: { httpGet: { path: '/index.html', port: 8080 }, periodSeconds: 1 },
          },
          {
            name: 'client',
            image: docker.images.busybox,
            env: [{ name: 'PASSWORD', valueFrom: { secretKeyRef: { name: 'creds', key: 'password' } } }],
            command: ['sh', '-c'],
            args: [
              'echo "password=$PASSWORD"; ' +
                'T=$(cat /var/run/secrets/kubernetes.io/serviceaccount/token); ' +
                'wget -q -O - --no-check-certificate --header "Authorization: Bearer $T" ' +
                `"https://$KUBERNETES_SERVICE_HOST:$KUBERNETES_SERVICE_PORT/api/v1/namespaces/${ns}/configmaps/site"; ` +
                'echo; echo done; sleep 3600',
            ],
          },
        ],
        volumes: [{ name: 'site', configMap: { name: 'site' } }],
      },
    });
    expect(created.status).toBe(201);
    const ready = await waitFor(
      'the pod to be Running and Ready',
      async () => {
        const pod = await getPod('web');
        const isReady = pod.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True');
        return pod.status?.phase === 'Running' && isReady ? pod : undefined;
      },
      { timeoutMs: 60_000 },
    ).catch(async (e: unknown) => {
      throw new Error(`${(e as Error).message}; its status: ${JSON.stringify((await getPod('web')).status)}`);
    });
    expect(ready.status?.podIP).toMatch(/^\d+\.\d+\.\d+\.\d+$/);
    expect(await kubectl('get', 'pod', 'web', '--no-headers')).toMatch(/^web\s+2\/2\s+Running\s+0\s/);
    // The kubelet's events, as kubectl describe shows them.
    const described = await waitFor('the kubelet’s events in kubectl describe', async () => {
      const out = await kubectl('describe', 'pod', 'web');
      return /Started\s+\S+\s+kubelet\s+Started container client/.test(out) ? out : undefined;
    });
    expect(described).toMatch(
      /Normal\s+Pulled\s+\S+\s+kubelet\s+Container image "wake\/busybox:\w+" already present on machine/,
    );
    expect(described).toMatch(/Normal\s+Created\s+\S+\s+kubelet\s+Created container httpd/);
    expect(described).toMatch(/Normal\s+Started\s+\S+\s+kubelet\s+Started container httpd/);
    const logs = await waitFor('the client to be done', async () => {
      const out = await kubectl('logs', 'web', '-c', 'client');
      return out.includes('done') ? out : undefined;
    });
    expect(logs).toContain('password=s3cret');
    // The pod read the API as its service account, through the agent's forwarder.
    expect(logs).toContain('"hello from a configmap\\n"');
    expect(await kubectl('exec', 'web', '-c', 'httpd', '--', 'cat', '/site/index.html')).toBe(
      'hello from a configmap\n',
    );
    expect(
      await kubectl(
        'exec',
        'web',
        '-c',
        'client',
        '--',
        'wget',
        '-q',
        '-O',
        '-',
        'http://127.0.0.1:8080/index.html',
      ),
    ).toBe('hello from a configmap\n');
  });

  it('restarts a container whose liveness probe fails, and keeps a pod whose readiness probe fails not Ready', async () => {
    const created = await cluster.api('POST', `/api/v1/namespaces/${ns}/pods`, {
      metadata: { name: 'probed' },
      spec: {
        nodeName,
        terminationGracePeriodSeconds: 1,
        containers: [
          {
            name: 'live',
            image: docker.images.busybox,
            command: ['sh', '-c', 'touch /tmp/healthy; exec sleep 3600'],
            livenessProbe: {
              exec: { command: ['cat', '/tmp/healthy'] },
              periodSeconds: 1,
              failureThreshold: 2,
            },
          },
          {
            name: 'unready',
            image: docker.images.busybox,
            command: ['sleep', '3600'],
            readinessProbe: { exec: { command: ['false'] }, periodSeconds: 1 },
          },
        ],
      },
    });
    expect(created.status).toBe(201);
    await waitFor('both containers running', async () => {
      const pod = await getPod('probed');
      return pod.status?.containerStatuses?.every((c) => c.state?.running) ? true : undefined;
    });
    await kubectl('exec', 'probed', '-c', 'live', '--', 'rm', '/tmp/healthy');
    const restarted = await waitFor(
      'the live container restarted by its liveness probe',
      async () => {
        const pod = await getPod('probed');
        const live = pod.status?.containerStatuses?.find((c) => c.name === 'live');
        return live && (live.restartCount ?? 0) >= 1 && live.state?.running ? pod : undefined;
      },
      { timeoutMs: 60_000 },
    );
    const live = restarted.status!.containerStatuses!.find((c) => c.name === 'live')!;
    expect(live.lastState?.terminated?.message).toBe(
      'Container live failed liveness probe, will be restarted',
    );
    const events = await waitFor('the probe events', async () => {
      const out = await kubectl(
        'get',
        'events',
        '--field-selector',
        'involvedObject.name=probed',
        '-o',
        'json',
      );
      const items = (
        JSON.parse(out) as {
          items: { reason: string; message: string; involvedObject: { fieldPath?: string } }[];
        }
      ).items;
      return items.some((e) => e.reason === 'Killing') ? items : undefined;
    });
    expect(events).toEqual(
      expect.arrayContaining([
        expect.objectContaining({
          reason: 'Unhealthy',
          message: expect.stringMatching(/^Liveness probe failed: /),
          involvedObject: expect.objectContaining({ fieldPath: 'spec.containers{live}' }),
        }),
        expect.objectContaining({
          reason: 'Killing',
          message: 'Container live failed liveness probe, will be restarted',
        }),
        expect.objectContaining({
          reason: 'Unhealthy',
          message: expect.stringMatching(/^Readiness probe failed/),
        }),
      ]),
    );
    const unready = restarted.status!.containerStatuses!.find((c) => c.name === 'unready')!;
    expect(unready).toMatchObject({ ready: false, restartCount: 0 });
    expect(restarted.status?.conditions?.find((c) => c.type === 'Ready')).toMatchObject({
      status: 'False',
      reason: 'ContainersNotReady',
    });
    await kubectl('delete', 'pod', 'probed', '--wait=false');
  });

  it('after kill -9 of the agent, a new one adopts the running pod: same containers, no restart', async () => {
    await waitFor('the probed pod to be gone', async () =>
      (await cluster.api('GET', `/api/v1/namespaces/${ns}/pods/probed`)).status === 404 ? true : undefined,
    );
    const before = (await ourContainers(docker.docker)).map((c) => c.Id).sort();
    expect(before).toHaveLength(3); // the web pod's sandbox and two containers
    agent!.kill('SIGKILL');
    await new Promise((r) => agent!.once('exit', r));
    agent = await startAgent();
    // The restarted agent has synced the pod (its status is written again on readiness) and changed nothing.
    await waitFor('the pod to be Ready under the new agent', async () => {
      const pod = await getPod('web');
      return pod.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True')
        ? true
        : undefined;
    });
    const pod = await getPod('web');
    expect(pod.status?.containerStatuses?.map((s) => s.restartCount)).toEqual([0, 0]);
    expect((await ourContainers(docker.docker)).map((c) => c.Id).sort()).toEqual(before);
    expect(await kubectl('exec', 'web', '-c', 'httpd', '--', 'cat', '/site/index.html')).toBe(
      'hello from a configmap\n',
    );
  });

  it('deletes the pod: containers stopped within the grace period and removed, the object gone', async () => {
    await kubectl('delete', 'pod', 'web', '--wait=false');
    await waitFor('the pod object to be gone', async () =>
      (await cluster.api('GET', `/api/v1/namespaces/${ns}/pods/web`)).status === 404 ? true : undefined,
    );
    await waitFor('its containers to be removed', async () =>
      (await ourContainers(docker.docker)).length === 0 ? true : undefined,
    );
  });
});
