import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';

import { ApiClient } from '@app/client';
import { waitFor } from '@app/dev-servers';
import { type ApiCluster, startApiCluster } from '@app/testing/api-cluster.js';

import { ClusterConnections } from '../../api-server/src/cluster-connections.js';
import { GroupDiscoveryFailedError, serverPreferredNamespacedResources } from '../src/namespace/discovery.js';
import { type NamespaceCondition } from '../src/namespace/namespace-conditions.js';
import { NamespacedResourcesDeleter } from '../src/namespace/namespaced-resources-deleter.js';
import { type RunningControllerManager, startControllerManager } from '../src/run-controller-manager.js';

interface Obj {
  metadata: { name: string; uid: string; resourceVersion: string; deletionTimestamp?: string };
  spec?: { finalizers?: string[] };
  status?: { phase?: string; conditions?: NamespaceCondition[] };
  items?: unknown[];
}

const CONDITION_TYPES = [
  'NamespaceDeletionDiscoveryFailure',
  'NamespaceDeletionGroupVersionParsingFailure',
  'NamespaceDeletionContentFailure',
  'NamespaceContentRemaining',
  'NamespaceFinalizersRemaining',
];

/** The namespace controller through the real API server, log and bus, driven by kubectl. */
describe('namespace controller', () => {
  let cluster: ApiCluster;
  let cm: RunningControllerManager | undefined;
  let nsCount = 0;

  beforeAll(async () => {
    cluster = await startApiCluster();
    cm = await startControllerManager({
      connection: cluster.connection,
      natsUrl: cluster.natsUrl,
      leaderElect: false,
      controllers: ['namespace'],
      // Short timings: upstream waits 5 s before emptying and 15 s for content with finalizers.
      namespaceDeletionGracePeriodMs: 100,
      namespaceFinalizerEstimateSeconds: 1,
      backoffMs: [5, 1000],
    });
  });
  afterAll(async () => {
    await Promise.allSettled([cm?.close()]);
    await Promise.allSettled([cluster?.close()]);
  });

  const store = () => cluster.server.app.get(ClusterConnections).store;
  const get = async (path: string): Promise<Obj | undefined> => {
    const r = await cluster.api<Obj>('GET', path);
    if (r.status === 404) return undefined;
    expect(r.status).toBe(200);
    return r.body;
  };
  const kubectl = async (args: string[], input?: string) => {
    const r = await cluster.kubectl(33, args, { input });
    if (r.code !== 0) throw new Error(`kubectl ${args.join(' ')}: ${r.stderr}`);
    return r.stdout;
  };
  const namespace = async (): Promise<string> => {
    const name = `ns-${++nsCount}`;
    await kubectl(['create', 'namespace', name]);
    return name;
  };
  const gone = (path: string) =>
    waitFor(`${path} gone`, async () => ((await get(path)) === undefined ? true : undefined));
  const conditionsOf = (ns: Obj | undefined) =>
    Object.fromEntries((ns?.status?.conditions ?? []).map((c) => [c.type, c]));

  it('kubectl delete namespace empties it (pods, configmaps, deployments, secrets), then removes it', async () => {
    const ns = await namespace();
    await kubectl(
      ['-n', ns, 'apply', '-f', '-'],
      // One YAML document per object (JSON is YAML).
      [
        { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'settings' }, data: { a: '1' } },
        { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'creds' }, stringData: { p: 'x' } },
        {
          apiVersion: 'v1',
          kind: 'Pod',
          metadata: { name: 'solo' },
          spec: { terminationGracePeriodSeconds: 1, containers: [{ name: 'c', image: 'busybox' }] },
        },
        {
          apiVersion: 'apps/v1',
          kind: 'Deployment',
          metadata: { name: 'web' },
          spec: {
            replicas: 1,
            selector: { matchLabels: { app: 'web' } },
            template: {
              metadata: { labels: { app: 'web' } },
              spec: { containers: [{ name: 'c', image: 'nginx' }] },
            },
          },
        },
      ]
        .map((o) => JSON.stringify(o))
        .join('\n---\n'),
    );
    const before = (await get(`/api/v1/namespaces/${ns}`)) as Obj;
    // kubectl waits until the namespace is gone.
    const out = await kubectl(['delete', 'namespace', ns, '--timeout=60s']);
    expect(out).toContain(`namespace "${ns}" deleted`);
    expect(await get(`/api/v1/namespaces/${ns}`)).toBeUndefined();
    // Every object that was in it was deleted, each deletion caused by a version of the namespace.
    const nsVersions = await store().history({ group: '', resource: 'namespaces', namespace: '', name: ns });
    const nsSeqs = new Set(nsVersions.map((v) => v.event.seq));
    const deletions = (await store().events.after(Number(before.metadata.resourceVersion))).filter(
      (e) => e.type === 'DELETED' && e.namespace === ns,
    );
    expect(deletions.map((e) => `${e.resource}/${e.name}`).sort()).toEqual(
      expect.arrayContaining([
        'configmaps/kube-root-ca.crt',
        'configmaps/settings',
        'deployments/web',
        'pods/solo',
        'secrets/creds',
        'serviceaccounts/default',
      ]),
    );
    for (const d of deletions) expect(nsSeqs.has(d.cause ?? -1)).toBe(true);
    // The controller recorded the five deletion conditions, all "ok", then took its finalizer off via /finalize.
    const lastStatus = [...nsVersions].reverse().find((v) => v.event.object?.status);
    const conditions = conditionsOf(lastStatus?.event.object as Obj);
    expect(Object.keys(conditions).sort()).toEqual([...CONDITION_TYPES].sort());
    for (const c of Object.values(conditions)) expect(c.status).toBe('False');
    expect(conditions.NamespaceContentRemaining).toMatchObject({
      reason: 'ContentRemoved',
      message: 'All content successfully removed',
    });
    const [finalize, removal] = nsVersions.slice(-2).map((v) => v.event);
    expect(finalize).toMatchObject({ verb: 'update', userAgent: 'wake-controller-manager' });
    expect((finalize.object as Obj).spec?.finalizers ?? []).toEqual([]);
    expect(nsSeqs.has(finalize.cause ?? -1)).toBe(true);
    expect(removal.type).toBe('DELETED');
  });

  it('content held by a finalizer keeps the namespace Terminating, with conditions saying why, until it goes', async () => {
    const ns = await namespace();
    await kubectl(
      ['-n', ns, 'create', '-f', '-'],
      JSON.stringify({
        apiVersion: 'v1',
        kind: 'ConfigMap',
        metadata: { name: 'held', finalizers: ['example.com/hold'] },
      }),
    );
    await kubectl(['delete', 'namespace', ns, '--wait=false']);
    const stuck = await waitFor('the content conditions', async () => {
      const o = await get(`/api/v1/namespaces/${ns}`);
      return conditionsOf(o).NamespaceFinalizersRemaining?.status === 'True' ? o : undefined;
    });
    expect(conditionsOf(stuck)).toMatchObject({
      NamespaceContentRemaining: {
        status: 'True',
        reason: 'SomeResourcesRemain',
        message: 'Some resources are remaining: configmaps. has 1 resource instances',
      },
      NamespaceFinalizersRemaining: {
        status: 'True',
        reason: 'SomeFinalizersRemain',
        message:
          'Some content in the namespace has finalizers remaining: example.com/hold in 1 resource instances',
      },
      NamespaceDeletionContentFailure: { status: 'False', reason: 'ContentDeleted' },
      NamespaceDeletionDiscoveryFailure: { status: 'False', reason: 'ResourcesDiscovered' },
    });
    expect(stuck.spec?.finalizers).toEqual(['kubernetes']);
    expect(await kubectl(['get', 'namespace', ns, '--no-headers'])).toMatch(
      new RegExp(`^${ns}\\s+Terminating`),
    );
    // Nothing new goes into a terminating namespace.
    const refused = await cluster.kubectl(33, ['-n', ns, 'create', 'configmap', 'late']);
    expect(refused.code).not.toBe(0);
    expect(refused.stderr).toContain(
      `configmaps "late" is forbidden: unable to create new content in namespace ${ns} because it is being terminated`,
    );
    // The finalizer's owner lets go: the content goes, then the namespace.
    await kubectl([
      '-n',
      ns,
      'patch',
      'configmap',
      'held',
      '--type=merge',
      '-p',
      '{"metadata":{"finalizers":null}}',
    ]);
    await gone(`/api/v1/namespaces/${ns}`);
  });

  it('takes off only its own finalizer: another spec.finalizer keeps the namespace until /finalize clears it', async () => {
    const name = `ns-${++nsCount}`;
    const created = await cluster.api('POST', '/api/v1/namespaces', {
      metadata: { name },
      spec: { finalizers: ['kubernetes', 'example.com/other'] },
    });
    expect(created.status).toBe(201);
    await kubectl(['-n', name, 'create', 'configmap', 'c', '--from-literal=k=v']);
    await kubectl(['delete', 'namespace', name, '--wait=false']);
    const left = await waitFor('the kubernetes finalizer removed', async () => {
      const o = await get(`/api/v1/namespaces/${name}`);
      return o?.spec?.finalizers?.length === 1 ? o : undefined;
    });
    expect(left.spec?.finalizers).toEqual(['example.com/other']);
    expect(left.status?.phase).toBe('Terminating');
    expect(((await get(`/api/v1/namespaces/${name}/configmaps`)) as Obj).items).toEqual([]);
    // spec.finalizers change only through /finalize: a patch of them is ignored, as upstream.
    await kubectl(['patch', 'namespace', name, '--type=merge', '-p', '{"spec":{"finalizers":[]}}']);
    expect((await get(`/api/v1/namespaces/${name}`))?.spec?.finalizers).toEqual(['example.com/other']);
    // /finalize is an update: a resourceVersion sent is a precondition.
    const stale = await cluster.api('PUT', `/api/v1/namespaces/${name}/finalize`, {
      apiVersion: 'v1',
      kind: 'Namespace',
      metadata: { name, resourceVersion: String(Number(left.metadata.resourceVersion) - 1) },
      spec: { finalizers: [] },
    });
    expect(stale.status).toBe(409);
    // The other finalizer's owner finishes through the finalize subresource: the namespace goes.
    const finalized = await cluster.api<Obj>('PUT', `/api/v1/namespaces/${name}/finalize`, {
      apiVersion: 'v1',
      kind: 'Namespace',
      metadata: { name },
      spec: { finalizers: [] },
    });
    expect(finalized.status).toBe(200);
    await gone(`/api/v1/namespaces/${name}`);
  });
});

/** The deleter on its own (no controller racing it), with discovery that reports a failed group. */
describe('namespaced resources deleter with incomplete discovery', () => {
  let cluster: ApiCluster;
  let client: ApiClient | undefined;

  beforeAll(async () => {
    cluster = await startApiCluster();
    client = new ApiClient(cluster.connection, { userAgent: 'namespace-int-spec' });
  });
  afterAll(async () => {
    client?.close();
    await Promise.allSettled([cluster?.close()]);
  });

  it('deletes what it could discover, says which group failed, and keeps its finalizer until discovery is whole', async () => {
    const api = client as ApiClient;
    const ns = 'partial';
    expect((await cluster.kubectl(33, ['create', 'namespace', ns])).code).toBe(0);
    expect(
      (await cluster.kubectl(33, ['-n', ns, 'create', 'configmap', 'c', '--from-literal=k=v'])).code,
    ).toBe(0);
    expect((await cluster.kubectl(33, ['delete', 'namespace', ns, '--wait=false'])).code).toBe(0);
    const failing = new NamespacedResourcesDeleter({
      api,
      discover: async (a) => ({
        ...(await serverPreferredNamespacedResources(a)),
        error: new GroupDiscoveryFailedError(
          new Map([
            ['metrics.k8s.io/v1beta1', new Error('the server is currently unable to handle the request')],
          ]),
        ),
      }),
    });
    await expect(failing.delete(ns)).rejects.toThrow(
      'unable to retrieve the complete list of server APIs: metrics.k8s.io/v1beta1: the server is currently unable to handle the request',
    );
    const after = await cluster.api<Obj>('GET', `/api/v1/namespaces/${ns}`);
    expect(after.body.spec?.finalizers).toEqual(['kubernetes']);
    const conditions = Object.fromEntries((after.body.status?.conditions ?? []).map((c) => [c.type, c]));
    expect(conditions.NamespaceDeletionDiscoveryFailure).toMatchObject({
      status: 'True',
      reason: 'DiscoveryFailed',
      message:
        'Discovery failed for some groups, 1 failing: unable to retrieve the complete list of server APIs: metrics.k8s.io/v1beta1: the server is currently unable to handle the request',
    });
    expect(conditions.NamespaceContentRemaining).toMatchObject({ status: 'False' });
    expect((await cluster.api(`GET`, `/api/v1/namespaces/${ns}/configmaps/c`)).status).toBe(404);
    // Discovery whole again: the namespace is finalized and removed.
    await new NamespacedResourcesDeleter({ api }).delete(ns);
    expect((await cluster.api('GET', `/api/v1/namespaces/${ns}`)).status).toBe(404);
  });
});
