import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';

import { waitFor } from '@app/dev-servers';
import { type ApiCluster, startApiCluster } from '@app/testing/api-cluster.js';

import { ClusterConnections } from '../../api-server/src/cluster-connections.js';
import { DESCRIPTION_ANNOTATION } from '../src/root-ca-cert-publisher/root-ca-cert-publisher.js';

interface Obj {
  metadata: {
    name: string;
    namespace?: string;
    uid: string;
    resourceVersion: string;
    annotations?: Record<string, string>;
    deletionTimestamp?: string;
  };
  data?: Record<string, string>;
  status?: { phase?: string };
}

/**
 * The serviceaccount controller and root-ca-cert-publisher through the real API server, log
 * and bus: the cluster the harness starts runs them in its in-process controller manager.
 */
describe('ServiceAccount controller and root-CA publisher', () => {
  let cluster: ApiCluster;
  let nsCount = 0;

  beforeAll(async () => {
    cluster = await startApiCluster({ controllers: ['serviceaccount', 'root-ca-cert-publisher'] });
  });
  afterAll(async () => {
    await Promise.allSettled([cluster?.close()]);
  });

  const store = () => cluster.server.app.get(ClusterConnections).store;
  const get = async (path: string): Promise<Obj | undefined> => {
    const r = await cluster.api<Obj>('GET', path);
    if (r.status === 404) return undefined;
    expect(r.status).toBe(200);
    return r.body;
  };
  const namespace = async (): Promise<Obj> => {
    const name = `sa-${++nsCount}`;
    const r = await cluster.kubectl(33, ['create', 'namespace', name]);
    expect(r.code).toBe(0);
    return (await get(`/api/v1/namespaces/${name}`)) as Obj;
  };
  const saPath = (ns: string) => `/api/v1/namespaces/${ns}/serviceaccounts/default`;
  const cmPath = (ns: string) => `/api/v1/namespaces/${ns}/configmaps/kube-root-ca.crt`;
  const appears = (path: string, notUid?: string) =>
    waitFor(`${path}${notUid ? ' again' : ''}`, async () => {
      const o = await get(path);
      return o && o.metadata.uid !== notUid ? o : undefined;
    });

  it('gives a new namespace its default ServiceAccount and kube-root-ca.crt, caused by the namespace', async () => {
    const ns = await namespace();
    const name = ns.metadata.name;
    const sa = await appears(saPath(name));
    const cm = await appears(cmPath(name));
    expect(cm.data).toEqual({ 'ca.crt': cluster.server.caCert });
    expect(cm.metadata.annotations?.[DESCRIPTION_ANNOTATION]).toMatch(/^Contains a CA bundle/);
    const got = await cluster.kubectl(33, ['-n', name, 'get', 'serviceaccount', 'default', '-o', 'name']);
    expect(got.stdout.trim()).toBe('serviceaccount/default');
    // Both creations name as their cause the namespace version the controllers reconciled.
    for (const [resource, o] of [
      ['serviceaccounts', sa],
      ['configmaps', cm],
    ] as const) {
      const [first] = await store().history({ group: '', resource, namespace: name, name: o.metadata.name });
      expect(first.event.verb).toBe('create');
      expect(first.event.cause).toBe(Number(ns.metadata.resourceVersion));
    }
  });

  it('makes the default ServiceAccount again when it is deleted', async () => {
    const name = (await namespace()).metadata.name;
    const sa = await appears(saPath(name));
    expect((await cluster.kubectl(33, ['-n', name, 'delete', 'serviceaccount', 'default'])).code).toBe(0);
    const again = await appears(saPath(name), sa.metadata.uid);
    expect(again.metadata.name).toBe('default');
  });

  it('restores kube-root-ca.crt when it is edited or deleted', async () => {
    const name = (await namespace()).metadata.name;
    const cm = await appears(cmPath(name));
    const patched = await cluster.kubectl(33, [
      '-n',
      name,
      'patch',
      'configmap',
      'kube-root-ca.crt',
      '--type=merge',
      '-p',
      JSON.stringify({ data: { 'ca.crt': 'not a CA', extra: 'x' }, metadata: { annotations: null } }),
    ]);
    expect(patched.code).toBe(0);
    const restored = await waitFor('kube-root-ca.crt restored', async () => {
      const o = await get(cmPath(name));
      return o && o.data?.['ca.crt'] === cluster.server.caCert ? o : undefined;
    });
    expect(restored.metadata.uid).toBe(cm.metadata.uid);
    expect(restored.data).toEqual({ 'ca.crt': cluster.server.caCert });
    expect(restored.metadata.annotations?.[DESCRIPTION_ANNOTATION]).toMatch(/^Contains a CA bundle/);

    expect((await cluster.kubectl(33, ['-n', name, 'delete', 'configmap', 'kube-root-ca.crt'])).code).toBe(0);
    const recreated = await appears(cmPath(name), cm.metadata.uid);
    expect(recreated.data).toEqual({ 'ca.crt': cluster.server.caCert });
  });

  it('makes nothing in a namespace being deleted', async () => {
    // Without the namespace controller here, a deleted namespace stays Terminating.
    const doomed = (await namespace()).metadata.name;
    const alive = (await namespace()).metadata.name;
    await appears(saPath(doomed));
    await appears(cmPath(doomed));
    const aliveSa = await appears(saPath(alive));
    const aliveCm = await appears(cmPath(alive));
    expect((await cluster.kubectl(33, ['delete', 'namespace', doomed, '--wait=false'])).code).toBe(0);
    const listed = await cluster.kubectl(33, ['get', 'namespace', doomed, '--no-headers']);
    expect(listed.stdout).toMatch(new RegExp(`^${doomed}\\s+Terminating`));
    // One worker per controller takes namespaces in the order their changes came: once
    // `alive` has its objects back, `doomed` was looked at before, and left without them (the
    // publisher's create there is refused Forbidden, NamespaceTerminating, and not retried).
    for (const path of [saPath(doomed), cmPath(doomed), saPath(alive), cmPath(alive)])
      expect((await cluster.api('DELETE', path)).status).toBe(200);
    await appears(saPath(alive), aliveSa.metadata.uid);
    await appears(cmPath(alive), aliveCm.metadata.uid);
    expect(await get(saPath(doomed))).toBeUndefined();
    expect(await get(cmPath(doomed))).toBeUndefined();
  });
});
