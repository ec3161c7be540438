import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';

import { waitFor } from '@app/dev-servers';
import { type ApiCluster, startApiCluster } from '@app/testing/api-cluster.js';
import { dockerForTests, removeClusterContainers, type TestDocker } from '@app/testing/docker.js';
import { type SimControlPlane, startSimControlPlane } from '@app/testing/sim-control-plane.js';

import { LABELS } from '../../node-agent/src/runtime/index.js';
import { type RunningNodeAgent, startNodeAgent } from '../../node-agent/src/run-node-agent.js';

interface Pod {
  metadata: { name: string; labels?: Record<string, string>; deletionTimestamp?: string };
  spec: { containers: { name: string; image: string }[] };
  status?: { phase?: string; conditions?: { type: string; status: string }[] };
}
interface ReplicaSet {
  metadata: { name: string; annotations?: Record<string, string> };
  spec: { replicas: number; template: { spec: { containers: { image: string }[] } } };
  status?: { readyReplicas?: number };
}

const NS = 'e2e';
/** The second local tag `kubectl set image` moves to: the same busybox, no registry involved. */
const V2 = 'wake/busybox:e2e-v2';

/**
 * A Deployment of busybox httpd pods on a real Docker node (the node agent on the engine, the
 * scheduler and the controller manager in this process), driven by the real kubectl: it rolls
 * out, `kubectl set image` rolls it to another tag, `kubectl rollout undo` brings the first back.
 */
describe('Deployment on a real Docker node: rollout, set image, rollout undo', () => {
  let cluster: ApiCluster;
  let docker: TestDocker;
  let dataDir = '';
  let agent: RunningNodeAgent | undefined;
  let plane: SimControlPlane | undefined;
  let v1 = '';
  const clusterId = `test-deploy-${randomUUID().slice(0, 8)}`;

  const kubectl = async (...args: string[]) => {
    const r = await cluster.kubectl(33, ['-n', NS, ...args], { timeoutMs: 150_000 });
    if (r.code !== 0) throw new Error(`kubectl ${args.join(' ')}: ${r.code} ${r.stderr}${r.stdout}`);
    return r.stdout;
  };
  const list = async <T>(path: string) => (await cluster.api<{ items: T[] }>('GET', path)).body.items;
  const livePods = async () =>
    (await list<Pod>(`/api/v1/namespaces/${NS}/pods?labelSelector=app%3Dweb`)).filter(
      (p) => !p.metadata.deletionTimestamp,
    );
  /** The running httpd containers of this suite on the engine, by image. */
  const runningImages = async () =>
    (
      await docker.docker.listContainers({
        filters: { label: [`${LABELS.cluster}=${clusterId}`, `${LABELS.containerName}=httpd`] },
      })
    )
      .map((c) => c.Image)
      .sort();
  /** After `kubectl rollout status` said done: 2 ready pods, all of `image`, and only their containers running. */
  const rolledOutTo = async (image: string) => {
    const pods = await waitFor('exactly 2 pods, of the new template', async () => {
      const live = await livePods();
      return live.length === 2 && live.every((p) => p.spec.containers[0].image === image) ? live : undefined;
    });
    for (const p of pods) expect(p.status?.conditions?.find((c) => c.type === 'Ready')?.status).toBe('True');
    // The old pods' containers stop within their grace period (2 s); the new ones run the new tag.
    await waitFor(`only ${image} httpd containers running`, async () => {
      const images = await runningImages();
      return images.length === 2 && images.every((i) => i === image) ? true : undefined;
    });
  };

  beforeAll(async () => {
    [cluster, docker] = await Promise.all([startApiCluster(), dockerForTests()]);
    v1 = docker.images.busybox;
    const [repo, tag] = V2.split(':');
    await docker.docker.getImage(v1).tag({ repo, tag });
    dataDir = await mkdtemp(join(tmpdir(), 'wake-deploy-e2e-'));
    agent = await startNodeAgent({
      connection: cluster.connection,
      natsUrl: cluster.natsUrl,
      nodeName: 'deploy-node',
      dataDir,
      clusterId,
      pauseImage: docker.images.pause,
      leaseRenewMs: 1000,
      statusSyncMs: 500,
      healthzPort: 0,
    });
    // The node is the real agent above: no simulated ones.
    plane = await startSimControlPlane(cluster, { nodes: 0 });
    expect((await cluster.api('POST', '/api/v1/namespaces', { metadata: { name: NS } })).status).toBe(201);
  });
  afterAll(async () => {
    await plane?.close();
    await Promise.allSettled([agent?.close()]);
    if (docker) {
      expect(await removeClusterContainers(docker.docker, clusterId)).toEqual([]);
      await docker.docker
        .getImage(V2)
        .remove({ noprune: true })
        .catch(() => undefined);
    }
    await cluster?.close();
    if (dataDir) await rm(dataDir, { recursive: true, force: true });
  });

  it('rolls out, rolls to a new image with kubectl set image, and back with kubectl rollout undo', async () => {
    const manifest = {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: 'web', namespace: NS },
      spec: {
        replicas: 2,
        selector: { matchLabels: { app: 'web' } },
        template: {
          metadata: { labels: { app: 'web' } },
          spec: {
            terminationGracePeriodSeconds: 2,
            containers: [
              {
                name: 'httpd',
                image: v1,
                command: ['httpd', '-f', '-p', '8080', '-h', '/etc'],
                readinessProbe: { httpGet: { path: '/passwd', port: 8080 }, periodSeconds: 1 },
              },
            ],
          },
        },
      },
    };
    await cluster.kubectl(33, ['apply', '-f', '-'], { input: JSON.stringify(manifest) });
    expect(await kubectl('rollout', 'status', 'deployment/web', '--timeout=120s')).toContain(
      'deployment "web" successfully rolled out',
    );
    await rolledOutTo(v1);

    await kubectl('set', 'image', 'deployment/web', `httpd=${V2}`);
    expect(await kubectl('rollout', 'status', 'deployment/web', '--timeout=120s')).toContain(
      'successfully rolled out',
    );
    await rolledOutTo(V2);

    await kubectl('rollout', 'undo', 'deployment/web');
    expect(await kubectl('rollout', 'status', 'deployment/web', '--timeout=120s')).toContain(
      'successfully rolled out',
    );
    await rolledOutTo(v1);

    // Two ReplicaSets: the first template's, back at 2 as revision 3, and the second's at 0.
    const sets = await list<ReplicaSet>(`/apis/apps/v1/namespaces/${NS}/replicasets`);
    const byImage = new Map(sets.map((rs) => [rs.spec.template.spec.containers[0].image, rs]));
    expect(sets).toHaveLength(2);
    expect(byImage.get(v1)?.spec.replicas).toBe(2);
    expect(byImage.get(v1)?.metadata.annotations?.['deployment.kubernetes.io/revision']).toBe('3');
    expect(byImage.get(V2)?.spec.replicas).toBe(0);
    expect(await kubectl('rollout', 'history', 'deployment/web')).toMatch(/2\s+<none>\s*\n3\s+<none>/);
  }, 400_000);
});
