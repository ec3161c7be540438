import { randomUUID } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { request } from 'node:https';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { readKubeconfig } from '@app/client';
import { httpsCall, waitFor } from '@app/dev-servers';
import { type ApiCluster, startApiCluster } from '@app/testing/api-cluster.js';
import { dockerForTests, removeClusterContainers, type TestDocker } from '@app/testing/docker.js';

import { ApiServerForwarder, type ApiEndpoint, dockerBridgeGateway } from '../src/api-access/index.js';
import { DockerRuntime, type PodRef } from '../src/runtime/index.js';

type Obj = { metadata: { name: string; uid: string } };

/**
 * Pods reaching the API server: the forwarder on the real Docker engine's bridge gateway,
 * piping to a real API server (Postgres, nats-server) on loopback, used from a busybox
 * container on the bridge with a service-account token file, as a pod would.
 */
describe('ApiServerForwarder: pods on the Docker bridge reach the API server', () => {
  let env: TestDocker;
  let c: ApiCluster;
  let runtime: DockerRuntime;
  let forwarder: ApiServerForwarder;
  let endpoint: ApiEndpoint;
  let gateway: string;
  let dir: string;
  const clusterId = `test-${randomUUID().slice(0, 8)}`;

  beforeAll(async () => {
    env = await dockerForTests();
    gateway = await dockerBridgeGateway(env.docker);
    // The API server names the gateway in its certificate, so clients there can verify it,
    // and accepts busybox wget's TLS 1.2 hello (no signature_algorithms: SHA-1 signatures).
    c = await startApiCluster({ servingIps: [gateway], allowSha1TlsSignatures: true });
    dir = await mkdtemp(join(tmpdir(), 'wake-api-access-'));
    runtime = new DockerRuntime(env.docker, { clusterId, pauseImage: env.images.pause });
    const { server } = await readKubeconfig(c.kubeconfig);
    forwarder = new ApiServerForwarder(env.docker, { server, closeGraceMs: 500 });
    endpoint = await forwarder.start();
  });

  afterAll(async () => {
    await forwarder?.stop();
    if (env) {
      expect(await removeClusterContainers(env.docker, clusterId)).toEqual([]);
    }
    await c?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('listens on the bridge gateway, and the API server’s certificate is valid for that address', async () => {
    expect(endpoint.host).toBe(gateway);
    expect(endpoint.host).toMatch(/^\d+\.\d+\.\d+\.\d+$/);
    expect(endpoint.port).toBeGreaterThan(0);
    // Verified against the cluster CA with the gateway as the host name: the IP SAN is there.
    const reply = await httpsCall({
      method: 'GET',
      url: new URL(`https://${endpoint.host}:${endpoint.port}/api/v1/namespaces/default/services/kubernetes`),
      ca: c.server.caCert,
      headers: { authorization: `Bearer ${c.server.tokens.tokenOf('admin')}` },
    });
    expect(reply.status).toBe(200);
    expect(JSON.parse(reply.text)).toMatchObject({ kind: 'Service', metadata: { name: 'kubernetes' } });
  });

  it('a busybox container on the bridge reads the API with its service-account token through it', async () => {
    // The pod the token is bound to, as the kubelet's projected token would be.
    const podObject = (
      await c.api<Obj>('POST', '/api/v1/namespaces/default/pods', {
        metadata: { name: 'reader' },
        spec: { containers: [{ name: 'c', image: env.images.busybox }] },
      })
    ).body;
    const tokenRequest = await c.api<{ status: { token: string } }>(
      'POST',
      '/api/v1/namespaces/default/serviceaccounts/default/token',
      {
        spec: {
          expirationSeconds: 600,
          boundObjectRef: { kind: 'Pod', apiVersion: 'v1', name: 'reader', uid: podObject.metadata.uid },
        },
      },
    );
    expect(tokenRequest.status).toBe(201);
    await c.grant(
      'default',
      'list-services',
      [{ verbs: ['list'], apiGroups: [''], resources: ['services'] }],
      ['default'],
    );
    const tokenFile = join(dir, 'token');
    await writeFile(tokenFile, tokenRequest.body.status.token, { mode: 0o644 });

    const pod: PodRef = { name: 'reader', namespace: 'default', uid: podObject.metadata.uid };
    const sandbox = await runtime.runSandbox(pod, 0);
    const id = await runtime.createContainer(
      sandbox,
      pod,
      {
        name: 'c',
        image: env.images.busybox,
        command: ['sh', '-c'],
        args: [
          'wget -q -O - --no-check-certificate --header "Authorization: Bearer $(cat /var/run/secrets/kubernetes.io/serviceaccount/token)" ' +
            'https://$KUBERNETES_SERVICE_HOST:$KUBERNETES_SERVICE_PORT/api/v1/namespaces/default/services',
        ],
        env: { KUBERNETES_SERVICE_HOST: endpoint.host, KUBERNETES_SERVICE_PORT: String(endpoint.port) },
        mounts: [
          {
            hostPath: tokenFile,
            containerPath: '/var/run/secrets/kubernetes.io/serviceaccount/token',
            readOnly: true,
          },
        ],
      },
      0,
    );
    await runtime.startContainer(id);
    const status = await waitFor('the reader to exit', async () => {
      const s = await runtime.inspect(id);
      return s.status === 'exited' ? s : undefined;
    });
    const output = (await runtime.logs(id)).map((l) => l.line).join('\n');
    // The output rides along so a failure shows what wget said.
    expect({ exitCode: status.exitCode, output }).toEqual({
      exitCode: 0,
      output: expect.stringContaining('"kind":"ServiceList"'),
    });
    const list = JSON.parse(output) as { kind: string; items: { metadata: { name: string } }[] };
    expect(list.kind).toBe('ServiceList');
    expect(list.items.map((s) => s.metadata.name)).toContain('kubernetes');
  });

  it('stop() ends open connections in order and stops listening', async () => {
    const own = new ApiServerForwarder(env.docker, {
      server: (await readKubeconfig(c.kubeconfig)).server,
      closeGraceMs: 500,
    });
    const at = await own.start();
    expect(at.host).toBe(gateway);
    // A watch through it: a connection that stays open until someone ends it.
    const watchEnded = new Promise<number>((resolve, reject) => {
      const req = request(
        `https://${at.host}:${at.port}/api/v1/namespaces/default/configmaps?watch=1`,
        { ca: c.server.caCert, headers: { authorization: `Bearer ${c.server.tokens.tokenOf('admin')}` } },
        (res) => {
          res.resume();
          res.on('close', () => resolve(res.statusCode ?? 0));
        },
      );
      req.on('error', reject);
      req.end();
    });
    await waitFor('the watch to be open', async () => own.openConnections > 0 || undefined);
    await own.stop();
    expect(await watchEnded).toBe(200);
    const refused = await new Promise<string>((resolve) => {
      const s = connect({ host: at.host, port: at.port });
      s.on('connect', () => {
        s.destroy();
        resolve('connected');
      });
      s.on('error', (e: NodeJS.ErrnoException) => resolve(e.code ?? 'error'));
    });
    expect(refused).toBe('ECONNREFUSED');
  });
});
