import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import {
  AppsV1Api,
  CoreV1Api,
  KubeConfig,
  makeInformer,
  PatchStrategy,
  setHeaderOptions,
  type V1ConfigMap,
} from '@kubernetes/client-node';

import { waitFor } from '@app/dev-servers';
import { type ApiCluster, startApiCluster } from '@app/testing/api-cluster.js';

/** Status code of a failed client-node call (its ApiException carries it). */
async function codeOf(p: Promise<unknown>): Promise<number> {
  try {
    await p;
    return 200;
  } catch (e) {
    return (e as { code?: number }).code ?? -1;
  }
}

describe('@kubernetes/client-node against the API server', () => {
  let c: ApiCluster;
  let core: CoreV1Api;
  let apps: AppsV1Api;
  let kc: KubeConfig;
  const namespace = 'client';

  beforeAll(async () => {
    // Short server-side watch timeouts: the informer must reconnect during the test.
    c = await startApiCluster({ watchTimeoutMs: 1_500 });
    kc = new KubeConfig();
    kc.loadFromFile(c.kubeconfig);
    core = kc.makeApiClient(CoreV1Api);
    apps = kc.makeApiClient(AppsV1Api);
    await core.createNamespace({ body: { metadata: { name: namespace } } });
  });
  afterAll(() => c?.close());

  it('creates, reads, lists, patches, replaces and deletes with typed clients', async () => {
    const created = await core.createNamespacedConfigMap({
      namespace,
      body: { metadata: { name: 'one', labels: { k: 'v' } }, data: { a: '1' } },
    });
    expect(created.metadata?.uid).toBeTruthy();
    expect((await core.readNamespacedConfigMap({ namespace, name: 'one' })).data).toEqual({ a: '1' });
    const list = await core.listNamespacedConfigMap({ namespace, labelSelector: 'k=v' });
    expect(list.items.map((i) => i.metadata?.name)).toEqual(['one']);
    expect(list.metadata?.resourceVersion).toMatch(/^\d+$/);
    const patched = await core.patchNamespacedConfigMap(
      { namespace, name: 'one', body: { data: { b: '2' } } },
      setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
    );
    expect(patched.data).toEqual({ a: '1', b: '2' });
    const replaced = await core.replaceNamespacedConfigMap({
      namespace,
      name: 'one',
      body: { ...patched, data: { c: '3' } },
    });
    expect(replaced.data).toEqual({ c: '3' });
    expect(await codeOf(core.replaceNamespacedConfigMap({ namespace, name: 'one', body: patched }))).toBe(
      409,
    );
    expect(
      await codeOf(core.createNamespacedConfigMap({ namespace, body: { metadata: { name: 'one' } } })),
    ).toBe(409);
    await core.deleteNamespacedConfigMap({ namespace, name: 'one' });
    expect(await codeOf(core.readNamespacedConfigMap({ namespace, name: 'one' }))).toBe(404);

    const d = await apps.createNamespacedDeployment({
      namespace,
      body: {
        metadata: { name: 'd' },
        spec: {
          selector: { matchLabels: { app: 'd' } },
          template: {
            metadata: { labels: { app: 'd' } },
            spec: { containers: [{ name: 'c', image: 'nginx:1.25' }] },
          },
        },
      },
    });
    expect(d.spec?.replicas).toBe(1);
    const scale = await apps.replaceNamespacedDeploymentScale({
      namespace,
      name: 'd',
      body: { metadata: { name: 'd' }, spec: { replicas: 4 } },
    });
    expect(scale.spec?.replicas).toBe(4);
    expect((await apps.readNamespacedDeployment({ namespace, name: 'd' })).spec?.replicas).toBe(4);
  });

  it('keeps an informer in step across list, watch and the server ending its watches', async () => {
    const seen = new Map<string, string>();
    const deleted: string[] = [];
    let connects = 0;
    const informer = makeInformer<V1ConfigMap>(kc, `/api/v1/namespaces/${namespace}/configmaps`, () =>
      core.listNamespacedConfigMap({ namespace }),
    );
    informer.on('add', (o) => seen.set(o.metadata!.name!, o.data?.v ?? ''));
    informer.on('update', (o) => seen.set(o.metadata!.name!, o.data?.v ?? ''));
    informer.on('delete', (o) => deleted.push(o.metadata!.name!));
    informer.on('connect', () => connects++);
    let stopped = false;
    informer.on('error', () => {
      // client-node reports a watch that failed as an error and leaves restarting to its user.
      if (!stopped) setTimeout(() => void (stopped ? undefined : informer.start()), 200);
    });
    await core.createNamespacedConfigMap({
      namespace,
      body: { metadata: { name: 'before' }, data: { v: '0' } },
    });
    await informer.start();
    try {
      await waitFor('the listed object', () => (seen.get('before') === '0' ? true : undefined));
      for (let i = 1; i <= 5; i++) {
        await core.createNamespacedConfigMap({
          namespace,
          body: { metadata: { name: `live-${i}` }, data: { v: String(i) } },
        });
        // Space the writes over several server watch timeouts (1.5 s): each must survive a reconnect.
        await new Promise((r) => setTimeout(r, 700));
      }
      await core.patchNamespacedConfigMap(
        { namespace, name: 'before', body: { data: { v: 'changed' } } },
        setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
      );
      await core.deleteNamespacedConfigMap({ namespace, name: 'live-1' });
      await waitFor('every change in the informer', () =>
        seen.get('before') === 'changed' && seen.get('live-5') === '5' && deleted.includes('live-1')
          ? true
          : undefined,
      );
      expect([...seen.keys()].sort()).toEqual(
        expect.arrayContaining(['before', 'live-1', 'live-2', 'live-3', 'live-4', 'live-5']),
      );
      expect(
        informer
          .list()
          .map((o) => o.metadata?.name)
          .sort(),
      ).toEqual(expect.arrayContaining(['before', 'live-2', 'live-5']));
      expect(informer.list().some((o) => o.metadata?.name === 'live-1')).toBe(false);
      expect(connects).toBeGreaterThanOrEqual(2);
    } finally {
      stopped = true;
      await informer.stop();
    }
  });
});
