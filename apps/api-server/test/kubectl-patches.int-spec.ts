import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';

import { type ApiCluster, startApiCluster } from '@app/testing/api-cluster.js';

/**
 * The kubectl commands that change a live object with a strategic merge patch: set image,
 * set env, set resources, rollout restart, and diff (a dry-run patch), with the versions of
 * kubectl users run.
 */
interface Deployment {
  metadata: { resourceVersion: string; generation: number };
  spec: {
    template: {
      metadata: { annotations?: Record<string, string> };
      spec: {
        containers: {
          name: string;
          image: string;
          env?: { name: string; value: string }[];
          resources?: Record<string, Record<string, string>>;
        }[];
      };
    };
  };
}

const shop = (ns: string, image: string) =>
  JSON.stringify({
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: 'shop', namespace: ns, labels: { app: 'shop' } },
    spec: {
      replicas: 1,
      selector: { matchLabels: { app: 'shop' } },
      template: {
        metadata: { labels: { app: 'shop' } },
        spec: {
          containers: [
            { name: 'app', image, env: [{ name: 'A', value: '1' }] },
            { name: 'sidecar', image: 'busybox:1.36' },
          ],
        },
      },
    },
  });

describe.each([33, 30, 29])('kubectl 1.%i patches live objects', (minor) => {
  let cluster: ApiCluster;
  const ns = `p${minor}`;
  const kubectl = (...args: string[]) => cluster.kubectl(minor, ['-n', ns, ...args]);
  const get = async () =>
    JSON.parse((await kubectl('get', 'deploy', 'shop', '-o', 'json')).stdout) as Deployment;
  const container = (d: Deployment, name: string) =>
    d.spec.template.spec.containers.find((c) => c.name === name);

  beforeAll(async () => {
    cluster = await startApiCluster();
    expect((await cluster.api('POST', '/api/v1/namespaces', { metadata: { name: ns } })).status).toBe(201);
    const created = await cluster.api(
      'POST',
      `/apis/apps/v1/namespaces/${ns}/deployments`,
      JSON.parse(shop(ns, 'nginx:1.25')),
    );
    expect(created.status).toBe(201);
  });
  afterAll(() => cluster?.close());

  it('set image changes one container and keeps the other', async () => {
    const r = await kubectl('set', 'image', 'deployment/shop', 'app=nginx:1.27');
    expect(r.stderr).toBe('');
    expect(r.stdout).toBe('deployment.apps/shop image updated\n');
    const d = await get();
    expect(container(d, 'app')?.image).toBe('nginx:1.27');
    expect(container(d, 'sidecar')?.image).toBe('busybox:1.36');
    expect(d.metadata.generation).toBe(2);
  });

  it('set env adds and changes variables by name', async () => {
    expect((await kubectl('set', 'env', 'deployment/shop', '-c', 'app', 'A=one', 'B=2')).stdout).toBe(
      'deployment.apps/shop env updated\n',
    );
    expect(container(await get(), 'app')?.env).toEqual([
      { name: 'A', value: 'one' },
      { name: 'B', value: '2' },
    ]);
    expect((await kubectl('set', 'env', 'deployment/shop', '-c', 'app', 'B-')).code).toBe(0);
    expect(container(await get(), 'app')?.env).toEqual([{ name: 'A', value: 'one' }]);
  });

  it('set resources merges requests and limits into the named container', async () => {
    const r = await kubectl(
      'set',
      'resources',
      'deployment/shop',
      '-c',
      'sidecar',
      '--requests=cpu=100m,memory=64Mi',
      '--limits=cpu=200m',
    );
    expect(r.stdout).toBe('deployment.apps/shop resource requirements updated\n');
    const d = await get();
    expect(container(d, 'sidecar')?.resources).toEqual({
      requests: { cpu: '100m', memory: '64Mi' },
      limits: { cpu: '200m' },
    });
    expect(container(d, 'app')?.resources ?? {}).toEqual({});
  });

  it('rollout restart stamps the pod template and bumps the generation', async () => {
    const before = await get();
    expect((await kubectl('rollout', 'restart', 'deployment/shop')).stdout).toBe(
      'deployment.apps/shop restarted\n',
    );
    const after = await get();
    expect(after.spec.template.metadata.annotations?.['kubectl.kubernetes.io/restartedAt']).toMatch(
      /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d/,
    );
    expect(after.metadata.generation).toBe(before.metadata.generation + 1);
    expect(after.spec.template.spec.containers).toEqual(before.spec.template.spec.containers);
  });

  it('diff shows a pending change without storing it', async () => {
    const before = await get();
    const changed = await cluster.kubectl(minor, ['-n', ns, 'diff', '-f', '-'], {
      input: shop(ns, 'nginx:1.29'),
    });
    expect(changed.code).toBe(1);
    expect(changed.stdout).toMatch(/^-\s+image: nginx:1\.27$/m);
    expect(changed.stdout).toMatch(/^\+\s+image: nginx:1\.29$/m);
    const after = await get();
    expect(after.metadata.resourceVersion).toBe(before.metadata.resourceVersion);
    expect(container(after, 'app')?.image).toBe('nginx:1.27');
  });
});
