import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { ApiClient, readKubeconfig } from '@app/client';
import { waitFor } from '@app/dev-servers';
import { type ApiCluster, startApiCluster } from '@app/testing/api-cluster.js';
import { dockerForTests, removeClusterContainers, type TestDocker } from '@app/testing/docker.js';

import { type Pod } from '../src/api-types.js';
import { ApiObjectSource, ApiTokenSource, PodConfigurer } from '../src/config/index.js';
import { DockerRuntime, type PodRef } from '../src/runtime/index.js';

/**
 * The projected service-account volume every pod gets from admission (token, ca.crt,
 * namespace), set up through the real TokenRequest API and read inside a real container. It
 * needs the API server's serviceaccounts/token subresource and token authenticator (the
 * agent-tokens branch): run it once both are merged.
 */
describe('PodConfigurer: the projected service account token on the real API server', () => {
  let cluster: ApiCluster;
  let client: ApiClient;
  let docker: TestDocker;
  let runtime: DockerRuntime;
  let configurer: PodConfigurer;
  let work: string;
  const clusterId = `test-${randomUUID().slice(0, 8)}`;
  const ns = 'tokens';
  let podUid = '';

  beforeAll(async () => {
    [cluster, docker] = await Promise.all([startApiCluster(), dockerForTests()]);
    client = new ApiClient(await readKubeconfig(cluster.kubeconfig), { userAgent: 'config-token-int-spec' });
    runtime = new DockerRuntime(docker.docker, { clusterId, pauseImage: docker.images.pause });
    work = await mkdtemp(join(tmpdir(), 'wake-config-token-'));
    configurer = new PodConfigurer(new ApiObjectSource(client, { ttlMs: 100 }), new ApiTokenSource(client), {
      podsDir: join(work, 'pods'),
    });
    await client.create('/api/v1/namespaces', { metadata: { name: ns } });
    // The controller manager (serviceaccount, root-ca-cert-publisher) makes the namespace's default account and kube-root-ca.crt shortly after.
    await waitFor('the default service account and the root CA ConfigMap', async () => {
      const sa = await cluster.api('GET', `/api/v1/namespaces/${ns}/serviceaccounts/default`);
      const ca = await cluster.api('GET', `/api/v1/namespaces/${ns}/configmaps/kube-root-ca.crt`);
      return sa.status === 200 && ca.status === 200 ? true : undefined;
    });
  }, 240_000);

  afterAll(async () => {
    if (docker) expect(await removeClusterContainers(docker.docker, clusterId)).toEqual([]);
    if (podUid) await configurer?.cleanupPod(podUid);
    client?.close();
    await cluster?.close();
    if (work) await rm(work, { recursive: true, force: true });
  });

  it('mounts a pod-bound token that authenticates as the pod’s account, the cluster CA and the namespace', async () => {
    const created = await client.call<Pod>('POST', `/api/v1/namespaces/${ns}/pods`, {
      metadata: { name: 'reader' },
      spec: {
        nodeName: 'node-a',
        containers: [
          {
            name: 'reader',
            image: docker.images.busybox,
            command: [
              'sh',
              '-c',
              'cd /var/run/secrets/kubernetes.io/serviceaccount && cat token; echo; cat namespace; echo; cat ca.crt',
            ],
          },
        ],
      },
    });
    podUid = created.metadata!.uid!;
    // Admission added the projected kube-api-access volume and its mount.
    expect(created.spec!.volumes?.some((v) => v.projected?.sources?.some((s) => s.serviceAccountToken))).toBe(
      true,
    );
    const ref: PodRef = { name: 'reader', namespace: ns, uid: podUid };
    const sandboxId = await runtime.runSandbox(ref, 0);
    await configurer.preparePod(created);
    const id = await runtime.createContainer(
      sandboxId,
      ref,
      await configurer.containerSpec(created, created.spec!.containers[0]!),
      0,
    );
    await runtime.startContainer(id);
    const status = await waitFor('reader to exit', async () => {
      const s = await runtime.inspect(id);
      return s.status === 'exited' ? s : undefined;
    });
    const lines = (await runtime.logs(id)).map((l) => l.line);
    expect(status.exitCode).toBe(0);
    const [token, namespace, ...ca] = lines;
    expect(namespace).toBe(ns);
    expect(`${ca.join('\n')}\n`).toBe(cluster.server.caCert);

    // A JWT bound to this pod. Admission's 3607 s is upstream's marker for a legacy-compatible
    // token: the server extends it to a year and only warns after 3607 s.
    const claims = JSON.parse(Buffer.from(token!.split('.')[1]!, 'base64url').toString('utf8')) as {
      sub: string;
      exp: number;
      iat: number;
      'kubernetes.io': { namespace: string; pod: { name: string; uid: string } };
    };
    expect(claims.sub).toBe(`system:serviceaccount:${ns}:default`);
    expect(claims['kubernetes.io']).toMatchObject({ namespace: ns, pod: { name: 'reader', uid: podUid } });
    expect(claims.exp - claims.iat).toBe(365 * 24 * 3600);

    // The API server accepts it as the account, and refuses a token that is not one it issued.
    const asPod = await cluster.api('GET', `/api/v1/namespaces/${ns}/serviceaccounts/default`, undefined, {
      authorization: `Bearer ${token}`,
    });
    expect(asPod.status).not.toBe(401);
    const forged = await cluster.api('GET', `/api/v1/namespaces/${ns}/serviceaccounts/default`, undefined, {
      authorization: `Bearer ${token!.slice(0, -4)}AAAA`,
    });
    expect(forged.status).toBe(401);

    // A resync keeps the cached token: the file does not change.
    await configurer.preparePod(created);
    const again = await runtime.createContainer(
      sandboxId,
      ref,
      await configurer.containerSpec(created, created.spec!.containers[0]!),
      1,
    );
    await runtime.startContainer(again);
    await waitFor('second reader to exit', async () =>
      (await runtime.inspect(again)).status === 'exited' ? true : undefined,
    );
    expect((await runtime.logs(again)).map((l) => l.line)[0]).toBe(token);
  });
});
