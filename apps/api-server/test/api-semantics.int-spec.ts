import { type IncomingMessage } from 'node:http';
import { request } from 'node:https';

import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';

import { waitFor } from '@app/dev-servers';
import { sampleSum } from '@app/metrics';
import { configMapBody as cm, deploymentBody as deployment } from '@app/testing/fixtures.js';
import { type ApiCluster, startApiCluster } from '@app/testing/api-cluster.js';

type Obj = {
  metadata: Record<string, unknown>;
  spec?: Record<string, unknown>;
  status?: Record<string, unknown>;
  [k: string]: unknown;
};
type List = { metadata: { resourceVersion: string; continue?: string }; items: Obj[] };

const ns = 'sem';

describe('API semantics over HTTPS', () => {
  let c: ApiCluster;
  beforeAll(async () => {
    // A tiny watch cache: watches that start a little behind read the log, not memory.
    c = await startApiCluster({ watchTimeoutMs: 60_000, watchCacheSize: 4, watchMaxQueue: 20 });
    expect((await c.api('POST', '/api/v1/namespaces', { metadata: { name: ns } })).status).toBe(201);
  });
  afterAll(() => c?.close());

  describe('authentication', () => {
    it('refuses anonymous requests with a 401 Status, except the health and version endpoints', async () => {
      const anonymous = await c.api('GET', '/api/v1/namespaces', undefined, { authorization: '' });
      expect(anonymous.status).toBe(401);
      expect(anonymous.body).toEqual({
        kind: 'Status',
        apiVersion: 'v1',
        metadata: {},
        status: 'Failure',
        message: 'Unauthorized',
        reason: 'Unauthorized',
        code: 401,
      });
      expect(
        (await c.api('GET', '/api/v1/namespaces', undefined, { authorization: 'Bearer wrong' })).status,
      ).toBe(401);
      for (const path of ['/healthz', '/livez', '/readyz', '/version'])
        expect((await c.api('GET', path, undefined, { authorization: '' })).status).toBe(200);
    });
  });

  describe('metrics', () => {
    it('exposes request latency per verb and resource (watches aside) and watch delivery, to authenticated callers', async () => {
      await c.api('POST', `/api/v1/namespaces/${ns}/configmaps`, cm('metered'));
      await c.api('GET', `/api/v1/namespaces/${ns}/configmaps/metered`);
      expect((await c.api('GET', '/metrics', undefined, { authorization: '' })).status).toBe(401);
      const text = (await c.api<string>('GET', '/metrics')).text;
      expect(text).toMatch(
        /^apiserver_request_duration_seconds_count\{verb="POST",group="",version="v1",resource="configmaps",subresource="",scope="namespace",component="apiserver",dry_run=""\} [1-9]\d*$/m,
      );
      expect(text).toMatch(
        /^apiserver_request_duration_seconds_bucket\{le="\+Inf",verb="GET",group="",version="v1",resource="configmaps",subresource="",scope="resource",component="apiserver",dry_run=""\} [1-9]\d*$/m,
      );
      expect(text).toMatch(
        /^apiserver_request_total\{verb="POST",group="",version="v1",resource="configmaps",subresource="",scope="namespace",component="apiserver",dry_run="",code="201"\} [1-9]\d*$/m,
      );
      expect(text).toContain('process_resident_memory_bytes');
      expect(text).toContain('# TYPE wake_watch_delivery_seconds histogram');
    });
  });

  describe('discovery', () => {
    it('negotiates aggregated v2, v2beta1 and the legacy documents by Accept', async () => {
      const v2 = await c.api('GET', '/apis', undefined, {
        accept: 'application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList,application/json',
      });
      expect(v2.headers['content-type']).toBe(
        'application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList',
      );
      const beta = await c.api('GET', '/api', undefined, {
        accept: 'application/json;g=apidiscovery.k8s.io;v=v2beta1;as=APIGroupDiscoveryList,application/json',
      });
      expect(beta.headers['content-type']).toBe(
        'application/json;g=apidiscovery.k8s.io;v=v2beta1;as=APIGroupDiscoveryList',
      );
      expect(
        (
          beta.body as { items: { versions: { resources: { resource: string }[] }[] }[] }
        ).items[0].versions[0].resources.map((r) => r.resource),
      ).toContain('pods');
      const legacy = await c.api('GET', '/apis/apps/v1');
      expect(legacy.body).toMatchObject({ kind: 'APIResourceList', groupVersion: 'apps/v1' });
      expect(
        (legacy.body as { resources: { name: string; kind: string; group?: string }[] }).resources,
      ).toContainEqual(
        expect.objectContaining({ name: 'deployments/scale', kind: 'Scale', group: 'autoscaling' }),
      );
      expect((await c.api('GET', '/version')).body).toMatchObject({ major: '1', minor: '33' });
    });
  });

  describe('errors', () => {
    it('answers unknown paths and kinds with a 404 Status, wrong methods with 405', async () => {
      expect((await c.api('GET', '/apis/nope.io/v1/things')).body).toMatchObject({
        status: 'Failure',
        code: 404,
        reason: 'NotFound',
      });
      expect((await c.api('GET', '/nonsense')).body).toMatchObject({ status: 'Failure', code: 404 });
      expect((await c.api('POST', '/api/v1/pods', cm('x'))).status).toBe(405);
    });

    it('refuses unknown media types (415), oversized bodies (413) and broken JSON (400), changing nothing', async () => {
      const before = (await c.api<List>('GET', `/api/v1/namespaces/${ns}/configmaps`)).body.items.length;
      const proto = await c.api('POST', `/api/v1/namespaces/${ns}/configmaps`, 'k8s\u0000', {
        'content-type': 'application/vnd.kubernetes.protobuf',
      });
      expect(proto.status).toBe(415);
      expect(proto.body).toMatchObject({ reason: 'UnsupportedMediaType' });
      const big = await c.api(
        'POST',
        `/api/v1/namespaces/${ns}/configmaps`,
        cm('big', { a: 'x'.repeat(3 * 1024 * 1024 + 1) }),
      );
      expect(big.status).toBe(413);
      expect(big.body).toMatchObject({ reason: 'RequestEntityTooLarge', status: 'Failure' });
      const broken = await c.api('POST', `/api/v1/namespaces/${ns}/configmaps`, '{"metadata":');
      expect(broken.status).toBe(400);
      expect(broken.body).toMatchObject({ reason: 'BadRequest' });
      expect((await c.api<List>('GET', `/api/v1/namespaces/${ns}/configmaps`)).body.items.length).toBe(
        before,
      );
    });

    it('reports invalid objects with 422, field paths in causes', async () => {
      const r = await c.api('POST', `/apis/apps/v1/namespaces/${ns}/deployments`, {
        ...deployment('bad'),
        spec: {
          selector: { matchLabels: { app: 'x' } },
          template: { metadata: { labels: { app: 'y' } }, spec: { containers: [{ name: 'c' }] } },
        },
      });
      expect(r.status).toBe(422);
      expect(r.body).toMatchObject({
        reason: 'Invalid',
        details: {
          name: 'bad',
          group: 'apps',
          kind: 'Deployment',
          causes: expect.arrayContaining([
            expect.objectContaining({ field: 'spec.template.metadata.labels' }),
            {
              reason: 'FieldValueRequired',
              message: 'Required value',
              field: 'spec.template.spec.containers[0].image',
            },
          ]),
        },
      });
      expect((r.body as { message: string }).message).toMatch(/^Deployment\.apps "bad" is invalid: \[/);
    });

    it('keeps namespaced objects out of missing and terminating namespaces', async () => {
      const missing = await c.api('POST', '/api/v1/namespaces/ghost/configmaps', cm('x'));
      expect(missing.status).toBe(404);
      expect((missing.body as { message: string }).message).toBe('namespaces "ghost" not found');
      expect((await c.api('POST', '/api/v1/namespaces', { metadata: { name: 'doomed' } })).status).toBe(201);
      const del = await c.api('DELETE', '/api/v1/namespaces/doomed');
      expect(del.status).toBe(200);
      expect(del.body).toMatchObject({
        status: { phase: 'Terminating' },
        metadata: { deletionTimestamp: expect.any(String) },
      });
      const refused = await c.api('POST', '/api/v1/namespaces/doomed/configmaps', cm('late'));
      expect(refused.status).toBe(403);
      expect((refused.body as { message: string }).message).toContain('because it is being terminated');
      expect((await c.api('DELETE', '/api/v1/namespaces/kube-system')).status).toBe(403);
      // The namespace controller's last step: clearing spec.finalizers through /finalize ends it.
      const finalized = await c.api('PUT', '/api/v1/namespaces/doomed/finalize', {
        metadata: { name: 'doomed' },
        spec: { finalizers: [] },
      });
      expect(finalized.status).toBe(200);
      expect((await c.api('GET', '/api/v1/namespaces/doomed')).status).toBe(404);
    });
  });

  describe('writes', () => {
    it('bumps generation on spec changes only, and status writes go through /status alone', async () => {
      const created = (
        await c.api<Obj>('POST', `/apis/apps/v1/namespaces/${ns}/deployments`, deployment('gen'))
      ).body;
      expect(created.metadata.generation).toBe(1);
      const path = `/apis/apps/v1/namespaces/${ns}/deployments/gen`;
      const labelled = (
        await c.api<Obj>(
          'PATCH',
          path,
          { metadata: { labels: { a: 'b' } } },
          { 'content-type': 'application/merge-patch+json' },
        )
      ).body;
      expect(labelled.metadata.generation).toBe(1);
      const scaled = (
        await c.api<Obj>(
          'PATCH',
          path,
          { spec: { replicas: 3 } },
          { 'content-type': 'application/merge-patch+json' },
        )
      ).body;
      expect(scaled.metadata.generation).toBe(2);
      // Status sent to the main resource is ignored; /status changes only status.
      const ignored = (
        await c.api<Obj>(
          'PATCH',
          path,
          { status: { replicas: 9 } },
          { 'content-type': 'application/merge-patch+json' },
        )
      ).body;
      expect(ignored.status).toBeUndefined();
      expect(ignored.metadata.resourceVersion).toBe(scaled.metadata.resourceVersion);
      const status = (
        await c.api<Obj>(
          'PATCH',
          `${path}/status`,
          { status: { observedGeneration: 2, replicas: 3 }, spec: { replicas: 7 } },
          { 'content-type': 'application/merge-patch+json' },
        )
      ).body;
      expect(status).toMatchObject({
        status: { observedGeneration: 2, replicas: 3 },
        spec: { replicas: 3 },
        metadata: { generation: 2 },
      });
      const scale = (await c.api<Obj>('GET', `${path}/scale`)).body;
      expect(scale).toMatchObject({
        kind: 'Scale',
        apiVersion: 'autoscaling/v1',
        spec: { replicas: 3 },
        status: { replicas: 3, selector: 'app=gen' },
      });
    });

    it('evicts a pod through pods/eviction and deletes a labelled collection, sparing the rest', async () => {
      const pods = `/api/v1/namespaces/${ns}/pods`;
      await c.api('POST', pods, {
        metadata: { name: 'evictee' },
        spec: { containers: [{ name: 'c', image: 'busybox:1.36' }] },
      });
      const evicted = await c.api('POST', `${pods}/evictee/eviction`, {
        apiVersion: 'policy/v1',
        kind: 'Eviction',
        metadata: { name: 'evictee' },
      });
      expect(evicted.status).toBe(201);
      expect(evicted.body).toMatchObject({ kind: 'Status', status: 'Success' });
      expect((await c.api('GET', `${pods}/evictee`)).status).toBe(404);

      const cms = `/api/v1/namespaces/${ns}/configmaps`;
      for (const [name, set] of [
        ['dc-1', 'yes'],
        ['dc-2', 'yes'],
        ['dc-3', 'no'],
      ])
        await c.api('POST', cms, cm(name, {}, { labels: { dc: set } }));
      const gone = await c.api<List>('DELETE', `${cms}?labelSelector=dc%3Dyes`);
      expect(gone.status).toBe(200);
      expect(gone.body.items.map((i) => i.metadata.name).sort()).toEqual(['dc-1', 'dc-2']);
      expect(
        (await c.api<List>('GET', `${cms}?labelSelector=dc`)).body.items.map((i) => i.metadata.name),
      ).toEqual(['dc-3']);
    });

    it('does not persist dry runs', async () => {
      const dry = await c.api<Obj>('POST', `/api/v1/namespaces/${ns}/configmaps?dryRun=All`, cm('dry'));
      expect(dry.status).toBe(201);
      expect(dry.body.metadata.name).toBe('dry');
      expect((await c.api('GET', `/api/v1/namespaces/${ns}/configmaps/dry`)).status).toBe(404);
      expect((await c.api('POST', `/api/v1/namespaces/${ns}/configmaps?dryRun=Some`, cm('dry'))).status).toBe(
        400,
      );
    });

    it('generates names from generateName', async () => {
      const r = await c.api<Obj>('POST', `/api/v1/namespaces/${ns}/configmaps`, {
        metadata: { generateName: 'gen-' },
      });
      expect(r.status).toBe(201);
      expect(r.body.metadata.name).toMatch(/^gen-[bcdfghjklmnpqrstvwxz2456789]{5}$/);
    });

    it('holds an object with finalizers until the last one is removed', async () => {
      const path = `/api/v1/namespaces/${ns}/configmaps/held`;
      await c.api('POST', `/api/v1/namespaces/${ns}/configmaps`, {
        ...cm('held'),
        metadata: { name: 'held', finalizers: ['example.com/keep'] },
      });
      const del = await c.api<Obj>('DELETE', path, { propagationPolicy: 'Foreground' });
      expect(del.status).toBe(200);
      expect(del.body.metadata).toMatchObject({
        deletionTimestamp: expect.any(String),
        finalizers: ['example.com/keep', 'foregroundDeletion'],
      });
      const noNew = await c.api(
        'PATCH',
        path,
        { metadata: { finalizers: ['example.com/keep', 'foregroundDeletion', 'another'] } },
        { 'content-type': 'application/merge-patch+json' },
      );
      // Upstream's ValidateNoNewFinalizers: a field error (Forbidden), so 422 Invalid.
      expect(noNew.status).toBe(422);
      expect(
        (
          await c.api(
            'PATCH',
            path,
            { metadata: { finalizers: null } },
            { 'content-type': 'application/merge-patch+json' },
          )
        ).status,
      ).toBe(200);
      expect((await c.api('GET', path)).status).toBe(404);
    });

    it("a delete's propagationPolicy replaces the garbage collector's finalizer, as upstream", async () => {
      const path = `/api/v1/namespaces/${ns}/configmaps/policies`;
      await c.api('POST', `/api/v1/namespaces/${ns}/configmaps`, {
        ...cm('policies'),
        metadata: { name: 'policies', finalizers: ['example.com/keep'] },
      });
      const finalizersAfter = async (propagationPolicy: string) => {
        const r = await c.api<Obj>('DELETE', path, { propagationPolicy });
        expect(r.status).toBe(200);
        expect(r.body.metadata.deletionTimestamp).toEqual(expect.any(String));
        return r.body.metadata.finalizers;
      };
      expect(await finalizersAfter('Foreground')).toEqual(['example.com/keep', 'foregroundDeletion']);
      expect(await finalizersAfter('Orphan')).toEqual(['example.com/keep', 'orphan']);
      expect(await finalizersAfter('Background')).toEqual(['example.com/keep']);
      // No policy: the object keeps what it has.
      await finalizersAfter('Orphan');
      const none = await c.api<Obj>('DELETE', path);
      expect(none.body.metadata.finalizers).toEqual(['example.com/keep', 'orphan']);
      // Background with no finalizer of its own left: gone at once.
      const release = await c.api(
        'PATCH',
        path,
        { metadata: { finalizers: ['orphan'] } },
        { 'content-type': 'application/merge-patch+json' },
      );
      expect(release.status).toBe(200);
      expect((await c.api('DELETE', path, { propagationPolicy: 'Background' })).status).toBe(200);
      expect((await c.api('GET', path)).status).toBe(404);
    });

    it('deletes a bound pod gracefully, and at once with gracePeriodSeconds=0', async () => {
      const pods = `/api/v1/namespaces/${ns}/pods`;
      await c.api('POST', pods, {
        metadata: { name: 'p' },
        spec: { containers: [{ name: 'c', image: 'busybox:1.36' }] },
      });
      expect(
        (
          await c.api('POST', `${pods}/p/binding`, {
            metadata: { name: 'p' },
            target: { kind: 'Node', name: 'n1' },
          })
        ).status,
      ).toBe(201);
      const twice = await c.api('POST', `${pods}/p/binding`, {
        metadata: { name: 'p' },
        target: { kind: 'Node', name: 'n2' },
      });
      expect(twice.status).toBe(409);
      const graceful = await c.api<Obj>('DELETE', `${pods}/p`);
      expect(graceful.body.metadata).toMatchObject({
        deletionGracePeriodSeconds: 30,
        deletionTimestamp: expect.any(String),
      });
      expect((await c.api('GET', `${pods}/p`)).status).toBe(200);
      await c.api('DELETE', `${pods}/p`, { gracePeriodSeconds: 0 });
      expect((await c.api('GET', `${pods}/p`)).status).toBe(404);
    });

    it('records who wrote, with the cause header, in the event log', async () => {
      const r = await c.api<Obj>('POST', `/api/v1/namespaces/${ns}/configmaps`, cm('audited'), {
        'wake-cause': '3',
        'user-agent': 'audit-test/1.0',
        'x-request-id': 'req-42',
      });
      const event = await c.server.app
        .get((await import('../src/cluster-connections.js')).ClusterConnections)
        .store.events.at(Number(r.body.metadata.resourceVersion));
      expect(event).toMatchObject({
        verb: 'create',
        cause: 3,
        userAgent: 'audit-test/1.0',
        requestId: 'req-42',
        actor: { user: 'admin', groups: ['system:masters', 'system:authenticated'] },
      });
      expect(event?.actor.credential).toMatch(/^token:sha256:[0-9a-f]{12}$/);
      expect(event?.sourceIp).toBe('127.0.0.1');
    });
  });

  describe('admission', () => {
    it('defaults pods from PriorityClasses and LimitRanges, and refuses unknown classes', async () => {
      await c.api('POST', '/apis/scheduling.k8s.io/v1/priorityclasses', {
        metadata: { name: 'high' },
        value: 1000,
      });
      await c.api('POST', `/api/v1/namespaces/${ns}/limitranges`, {
        metadata: { name: 'defaults' },
        spec: { limits: [{ type: 'Container', default: { cpu: '500m' }, defaultRequest: { cpu: '100m' } }] },
      });
      const pod = (name: string, extra: Record<string, unknown> = {}) => ({
        metadata: { name },
        spec: { containers: [{ name: 'c', image: 'busybox:1.36' }], ...extra },
      });
      // Admission sees this server's own writes at once (read your writes), with no polling.
      const created = (
        await c.api<Obj>(
          'POST',
          `/api/v1/namespaces/${ns}/pods`,
          pod('admitted', { priorityClassName: 'high' }),
        )
      ).body;
      expect(created.spec).toMatchObject({
        priority: 1000,
        serviceAccountName: 'default',
        containers: [{ resources: { limits: { cpu: '500m' }, requests: { cpu: '100m' } } }],
      });
      expect(created.status).toMatchObject({ phase: 'Pending', qosClass: 'Burstable' });
      const unknown = await c.api(
        'POST',
        `/api/v1/namespaces/${ns}/pods`,
        pod('classless', { priorityClassName: 'nope' }),
      );
      expect(unknown.status).toBe(403);
      expect((unknown.body as { message: string }).message).toContain(
        'no PriorityClass with name nope was found',
      );
    });
  });

  describe('leader fence', () => {
    it('refuses writes made under a leadership the Lease no longer has', async () => {
      const leases = '/apis/coordination.k8s.io/v1/namespaces/kube-system/leases';
      await c.api('POST', leases, {
        metadata: { name: 'ctrl' },
        spec: { holderIdentity: 'a', leaseTransitions: 2 },
      });
      const fenced = { 'wake-leader-fence': 'kube-system/ctrl@2' };
      expect(
        (await c.api('POST', `/api/v1/namespaces/${ns}/configmaps`, cm('fenced-1'), fenced)).status,
      ).toBe(201);
      await c.api(
        'PATCH',
        `${leases}/ctrl`,
        { spec: { holderIdentity: 'b', leaseTransitions: 3 } },
        { 'content-type': 'application/merge-patch+json' },
      );
      const deposed = await c.api('POST', `/api/v1/namespaces/${ns}/configmaps`, cm('fenced-2'), fenced);
      expect(deposed.status).toBe(409);
      expect((deposed.body as { message: string }).message).toContain(
        'the leader fence does not hold: lease kube-system/ctrl is at leaseTransitions 3',
      );
      expect((await c.api('GET', `/api/v1/namespaces/${ns}/configmaps/fenced-2`)).status).toBe(404);
      expect(
        (
          await c.api('POST', `/api/v1/namespaces/${ns}/configmaps`, cm('fenced-3'), {
            'wake-leader-fence': 'nonsense',
          })
        ).status,
      ).toBe(400);
    });
  });

  describe('services', () => {
    it('has the kubernetes Service with this server as its endpoint', async () => {
      const svc = (await c.api<Obj>('GET', '/api/v1/namespaces/default/services/kubernetes')).body;
      expect(svc.spec).toMatchObject({ clusterIP: '10.96.0.1', ports: [{ name: 'https', port: 443 }] });
      const ep = (await c.api<Obj>('GET', '/api/v1/namespaces/default/endpoints/kubernetes')).body;
      expect(ep.subsets).toEqual([
        {
          addresses: [{ ip: '127.0.0.1' }],
          ports: [{ name: 'https', port: Number(new URL(c.server.url).port), protocol: 'TCP' }],
        },
      ]);
    });

    it('has the kube-dns Service at the range’s tenth address, claimed so nothing else gets it', async () => {
      const svc = (await c.api<Obj>('GET', '/api/v1/namespaces/kube-system/services/kube-dns')).body;
      expect(svc.metadata.labels).toMatchObject({ 'k8s-app': 'kube-dns', 'kubernetes.io/name': 'CoreDNS' });
      expect(svc.spec).toMatchObject({
        type: 'ClusterIP',
        clusterIP: '10.96.0.10',
        ports: [
          { name: 'dns', port: 53, protocol: 'UDP' },
          { name: 'dns-tcp', port: 53, protocol: 'TCP' },
          { name: 'metrics', port: 9153, protocol: 'TCP' },
        ],
      });
      expect(svc.spec?.selector).toBeUndefined();
      const ip = (await c.api<Obj>('GET', '/apis/networking.k8s.io/v1/ipaddresses/10.96.0.10')).body;
      expect(ip.spec).toMatchObject({
        parentRef: { resource: 'services', namespace: 'kube-system', name: 'kube-dns' },
      });
      const taken = await c.api('POST', `/api/v1/namespaces/${ns}/services`, {
        metadata: { name: 'wants-dns-ip' },
        spec: { clusterIP: '10.96.0.10', ports: [{ port: 53 }] },
      });
      expect(taken.status).toBe(422);
    });

    it('allocates distinct ClusterIPs and NodePorts to concurrent creates, and frees them on delete', async () => {
      const svc = (i: number) => ({
        metadata: { name: `s${i}` },
        spec: { type: 'NodePort', selector: { app: 'x' }, ports: [{ port: 80 }] },
      });
      const created = await Promise.all(
        Array.from({ length: 20 }, (_, i) => c.api<Obj>('POST', `/api/v1/namespaces/${ns}/services`, svc(i))),
      );
      expect(created.map((r) => r.status)).toEqual(Array(20).fill(201));
      const ips = created.map((r) => r.body.spec?.clusterIP as string);
      const ports = created.map((r) => (r.body.spec?.ports as { nodePort: number }[])[0].nodePort);
      expect(new Set(ips).size).toBe(20);
      expect(new Set(ports).size).toBe(20);
      for (const ip of ips) expect(ip).toMatch(/^10\.96\.\d+\.\d+$/);
      for (const p of ports) expect(p).toBeGreaterThanOrEqual(30000);
      // Explicit values: a taken one and one outside the range are refused; a freed one can be reused.
      const taken = await c.api('POST', `/api/v1/namespaces/${ns}/services`, {
        metadata: { name: 'dup' },
        spec: { clusterIP: ips[0], ports: [{ port: 80 }] },
      });
      expect(taken.status).toBe(422);
      expect((taken.body as { message: string }).message).toContain('provided IP is already allocated');
      const outside = await c.api('POST', `/api/v1/namespaces/${ns}/services`, {
        metadata: { name: 'far' },
        spec: { clusterIP: '192.168.1.1', ports: [{ port: 80 }] },
      });
      expect(outside.status).toBe(422);
      const portTaken = await c.api('POST', `/api/v1/namespaces/${ns}/services`, {
        metadata: { name: 'dupport' },
        spec: { type: 'NodePort', ports: [{ port: 80, nodePort: ports[1] }] },
      });
      expect(portTaken.status).toBe(422);
      expect((await c.api('GET', `/api/v1/namespaces/${ns}/services/dupport`)).status).toBe(404);
      expect((await c.api('DELETE', `/api/v1/namespaces/${ns}/services/s0`)).status).toBe(200);
      const reuse = await c.api<Obj>('POST', `/api/v1/namespaces/${ns}/services`, {
        metadata: { name: 'reuse' },
        spec: { clusterIP: ips[0], type: 'NodePort', ports: [{ port: 80, nodePort: ports[0] }] },
      });
      expect(reuse.status).toBe(201);
      expect(reuse.body.spec).toMatchObject({ clusterIP: ips[0], clusterIPs: [ips[0]] });
      const ipObject = await c.api<Obj>('GET', `/apis/networking.k8s.io/v1/ipaddresses/${ips[0]}`);
      expect(ipObject.body.spec).toMatchObject({
        parentRef: { resource: 'services', namespace: ns, name: 'reuse' },
      });
      const immutable = await c.api(
        'PATCH',
        `/api/v1/namespaces/${ns}/services/reuse`,
        { spec: { clusterIP: '10.96.9.9' } },
        { 'content-type': 'application/merge-patch+json' },
      );
      expect(immutable.status).toBe(422);
    });
  });

  describe('lists', () => {
    it('pages with limit and continue, all pages at the resourceVersion of the first', async () => {
      for (let i = 0; i < 7; i++)
        await c.api(
          'POST',
          `/api/v1/namespaces/${ns}/configmaps`,
          cm(`page-${i}`, {}, { labels: { set: 'paged' } }),
        );
      const first = (
        await c.api<List>('GET', `/api/v1/namespaces/${ns}/configmaps?labelSelector=set%3Dpaged&limit=3`)
      ).body;
      expect(first.items.map((i) => i.metadata.name)).toEqual(['page-0', 'page-1', 'page-2']);
      await c.api(
        'POST',
        `/api/v1/namespaces/${ns}/configmaps`,
        cm('page-3a', {}, { labels: { set: 'paged' } }),
      );
      const names: string[] = first.items.map((i) => i.metadata.name as string);
      let token = first.metadata.continue;
      while (token) {
        const page = (
          await c.api<List>(
            'GET',
            `/api/v1/namespaces/${ns}/configmaps?labelSelector=set%3Dpaged&limit=3&continue=${encodeURIComponent(token)}`,
          )
        ).body;
        expect(page.metadata.resourceVersion).toBe(first.metadata.resourceVersion);
        names.push(...page.items.map((i) => i.metadata.name as string));
        token = page.metadata.continue;
      }
      expect(names).toEqual(['page-0', 'page-1', 'page-2', 'page-3', 'page-4', 'page-5', 'page-6']);
      const withRv = await c.api(
        'GET',
        `/api/v1/namespaces/${ns}/configmaps?limit=3&continue=abc&resourceVersion=5`,
      );
      expect(withRv.status).toBe(400);
      const future = await c.api('GET', `/api/v1/namespaces/${ns}/configmaps?resourceVersion=99999999`);
      expect(future.status).toBe(504);
      expect(future.body).toMatchObject({
        reason: 'Timeout',
        details: { causes: [{ reason: 'ResourceVersionTooLarge' }] },
      });
    });

    it('serves Tables when asked, with object metadata in every row', async () => {
      const r = await c.api<{
        kind: string;
        columnDefinitions: { name: string }[];
        rows: { cells: unknown[]; object: Obj }[];
      }>('GET', `/apis/apps/v1/namespaces/${ns}/deployments?limit=500`, undefined, {
        accept:
          'application/json;as=Table;v=v1;g=meta.k8s.io,application/json;as=Table;v=v1beta1;g=meta.k8s.io,application/json',
      });
      expect(r.body.kind).toBe('Table');
      expect(r.body.columnDefinitions.map((d) => d.name)).toEqual([
        'Name',
        'Ready',
        'Up-to-date',
        'Available',
        'Age',
        'Containers',
        'Images',
        'Selector',
      ]);
      expect(r.body.rows[0].object).toMatchObject({
        kind: 'PartialObjectMetadata',
        metadata: { namespace: ns },
      });
    });
  });

  describe('watch', () => {
    /** A watch as the admin over Node's HTTP/1.1 client: its response, once the headers are in. */
    const openWatch = (path: string, query: string) =>
      new Promise<IncomingMessage>((resolve, reject) => {
        const auth = { authorization: `Bearer ${c.server.tokens.tokenOf('admin')}` };
        request(new URL(`${path}?${query}`, c.server.url), { ca: c.server.caCert, headers: auth }, resolve)
          .on('error', reject)
          .end();
      });

    /**
     * Reads a (paused) watch response to its end: its whole lines, and whether it ended properly
     * or was broken off (a line cut short by that is not counted).
     */
    const readToEnd = async (res: IncomingMessage) => {
      let text = '';
      const outcome = new Promise<'end' | 'broken'>((done) =>
        res
          .on('end', () => done('end'))
          .on('error', () => done('broken'))
          .on('close', () => done('broken')),
      );
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (text += chunk));
      res.resume();
      return { outcome: await outcome, lines: text.split('\n').slice(0, -1) };
    };

    /** Every line of a watch whose client stops reading at once, for `pauseMs`, then reads to its end. */
    const linesAfterPause = async (res: IncomingMessage, pauseMs: number) => {
      res.pause();
      await new Promise((r) => setTimeout(r, pauseMs));
      return (await readToEnd(res)).lines.map(
        (l) => JSON.parse(l) as { type: string; object: { metadata: { resourceVersion?: string } } },
      );
    };

    const watchPath = `/api/v1/namespaces/${ns}/configmaps?watch=true`;

    it('replays every change after a resourceVersion, filtered by labels, then follows live', async () => {
      const start = (await c.api<List>('GET', `/api/v1/namespaces/${ns}/configmaps`)).body.metadata
        .resourceVersion;
      await c.api(
        'POST',
        `/api/v1/namespaces/${ns}/configmaps`,
        cm('w-before', {}, { labels: { w: 'yes' } }),
      );
      await c.api('POST', `/api/v1/namespaces/${ns}/configmaps`, cm('w-other', {}, { labels: { w: 'no' } }));
      const s = await c.stream(`${watchPath}&resourceVersion=${start}&labelSelector=w%3Dyes`);
      try {
        expect(s.status).toBe(200);
        expect(s.headers['content-type']).toBe('application/json');
        await c.api(
          'PATCH',
          `/api/v1/namespaces/${ns}/configmaps/w-before`,
          { data: { k: 'v' } },
          { 'content-type': 'application/merge-patch+json' },
        );
        await c.api('DELETE', `/api/v1/namespaces/${ns}/configmaps/w-before`);
        await waitFor('three events', () => (s.lines.length >= 3 ? true : undefined));
        const events = s.lines.map((l) => JSON.parse(l) as { type: string; object: Obj });
        expect(events.map((e) => `${e.type} ${String(e.object.metadata.name)}`)).toEqual([
          'ADDED w-before',
          'MODIFIED w-before',
          'DELETED w-before',
        ]);
        const rvs = events.map((e) => Number(e.object.metadata.resourceVersion));
        expect([...rvs].sort((a, b) => a - b)).toEqual(rvs);
      } finally {
        s.close();
      }
    });

    it('starts with the current state as ADDED without a resourceVersion, sends bookmarks, and ends at timeoutSeconds', async () => {
      await c.api('POST', `/api/v1/namespaces/${ns}/configmaps`, cm('w-now'));
      const s = await c.stream(
        `${watchPath}&fieldSelector=metadata.name%3Dw-now&allowWatchBookmarks=true&timeoutSeconds=3`,
      );
      await s.ended;
      const events = s.lines.map((l) => JSON.parse(l) as { type: string; object: Obj });
      expect(events[0]).toMatchObject({ type: 'ADDED', object: { metadata: { name: 'w-now' } } });
      expect(events.filter((e) => e.type === 'BOOKMARK').length).toBeGreaterThanOrEqual(1);
      expect(events.find((e) => e.type === 'BOOKMARK')?.object).toMatchObject({
        kind: 'ConfigMap',
        apiVersion: 'v1',
        metadata: { resourceVersion: expect.any(String) },
      });
    });

    it('says ADDED and DELETED as objects come to match a label selector and stop matching it', async () => {
      const path = `/api/v1/namespaces/${ns}/configmaps`;
      const relabel = (name: string, tier: string) =>
        c.api(
          'PATCH',
          `${path}/${name}`,
          { metadata: { labels: { tier } } },
          { 'content-type': 'application/merge-patch+json' },
        );
      await c.api('POST', path, cm('sel-a', {}, { labels: { tier: 'web' } }));
      await c.api('POST', path, cm('sel-b', {}, { labels: { tier: 'db' } }));
      const rv = (await c.api<List>('GET', path)).body.metadata.resourceVersion;
      // From a resourceVersion (the matching set is worked out as of it) and from "now".
      for (const from of [`&resourceVersion=${rv}`, '']) {
        const s = await c.stream(`${path}?watch=true&labelSelector=tier%3Dweb${from}`);
        try {
          if (from === '') await waitFor('the initial state', () => (s.lines.length >= 1 ? true : undefined));
          const skip = s.lines.length;
          await relabel('sel-a', 'db');
          await relabel('sel-b', 'web');
          await c.api(
            'PATCH',
            `${path}/sel-b`,
            { data: { from } },
            { 'content-type': 'application/merge-patch+json' },
          );
          await waitFor('three transitions', () => (s.lines.length >= skip + 3 ? true : undefined));
          const seen = s.lines.slice(skip).map((l) => JSON.parse(l) as { type: string; object: Obj });
          expect(seen.map((e) => `${e.type} ${String(e.object.metadata.name)}`)).toEqual([
            'DELETED sel-a',
            'ADDED sel-b',
            'MODIFIED sel-b',
          ]);
        } finally {
          s.close();
        }
        await relabel('sel-a', 'web');
        await relabel('sel-b', 'db');
      }
    });

    it('ends a watch from before an expired payload with a 410 Expired ERROR event', async () => {
      const events = `/api/v1/namespaces/${ns}/events`;
      const start = (await c.api<List>('GET', events)).body.metadata.resourceVersion;
      const e = {
        metadata: { name: 'churn' },
        involvedObject: { kind: 'Pod', name: 'p', namespace: ns },
        reason: 'Tick',
        message: '1',
        type: 'Normal',
      };
      await c.api('POST', events, e);
      await c.api(
        'PATCH',
        `${events}/churn`,
        { message: '2' },
        { 'content-type': 'application/merge-patch+json' },
      );
      // Push those events out of the (tiny) watch cache, so a watch from `start` reads the log.
      for (let i = 0; i < 6; i++) await c.api('POST', `/api/v1/namespaces/${ns}/configmaps`, cm(`push-${i}`));
      const store = c.server.app.get(
        (await import('../src/cluster-connections.js')).ClusterConnections,
      ).store;
      await store.adminSql`SELECT wake.expire_payloads(ARRAY['/events'], now() + interval '1 hour')`;
      const s = await c.stream(`${events}?watch=true&resourceVersion=${start}&timeoutSeconds=10`);
      await s.ended;
      const last = JSON.parse(s.lines.at(-1) as string) as { type: string; object: Obj };
      expect(last).toMatchObject({
        type: 'ERROR',
        object: { kind: 'Status', status: 'Failure', reason: 'Expired', code: 410 },
      });
    });

    it('serves events.k8s.io/v1 Events from the core Event store, each in its own shape', async () => {
      const created = await c.api<Obj>('POST', `/apis/events.k8s.io/v1/namespaces/${ns}/events`, {
        metadata: { name: 'new-style' },
        eventTime: '2026-01-01T00:00:00.000000Z',
        regarding: { kind: 'Pod', name: 'web', namespace: ns },
        note: 'pulled',
        reason: 'Pulled',
        reportingController: 'wake/kubelet',
        reportingInstance: 'node-1',
        action: 'Pull',
        type: 'Normal',
      });
      expect(created.status).toBe(201);
      expect(created.body).toMatchObject({
        apiVersion: 'events.k8s.io/v1',
        kind: 'Event',
        note: 'pulled',
        regarding: { name: 'web' },
      });
      const core = (await c.api<Obj>('GET', `/api/v1/namespaces/${ns}/events/new-style`)).body;
      expect(core).toMatchObject({
        apiVersion: 'v1',
        kind: 'Event',
        message: 'pulled',
        involvedObject: { name: 'web' },
        reportingComponent: 'wake/kubelet',
      });
      expect(core.note).toBeUndefined();
    });

    it('cuts off a watcher that stops reading instead of buffering for it', async () => {
      const path = `/api/v1/namespaces/${ns}/configmaps`;
      const big = 'x'.repeat(200_000);
      const rv = (await c.api<List>('GET', path)).body.metadata.resourceVersion;
      const res = await openWatch(path, `watch=true&resourceVersion=${rv}&labelSelector=slow%3Dyes`);
      res.pause(); // a client that stops reading
      const total = 150;
      for (let i = 0; i < total; i++)
        await c.api('POST', path, cm(`slow-${i}`, { big }, { labels: { slow: 'yes' } }));
      // Reading again only now: by then the server has given up on this watch and ended it.
      const { lines } = await readToEnd(res);
      expect(lines.length).toBeGreaterThan(0);
      expect(lines.length).toBeLessThan(total);
    });

    /** Watches of ConfigMaps the server is serving now. */
    const watchesOpen = async () =>
      sampleSum(await c.scrape(), 'apiserver_longrunning_requests', { resource: 'configmaps' });

    /**
     * Opens a watch whose client stops reading at once and keeps its connection, waits until the
     * server no longer serves it (bounded), then reads what the server had written: its lines,
     * and whether the response ended properly or was broken off.
     */
    const stalledUntilServerEnds = async (query: string) => {
      const before = await watchesOpen();
      const res = await openWatch(`/api/v1/namespaces/${ns}/configmaps`, query);
      res.pause();
      expect(await watchesOpen()).toBe(before + 1);
      await waitFor(
        'the stalled watch to end',
        async () => ((await watchesOpen()) === before ? true : undefined),
        {
          timeoutMs: 30_000,
        },
      );
      return readToEnd(res);
    };

    /**
     * Creates `count` ConfigMaps of 900 KB labelled `label=yes`: a watch handed them waits for
     * its reader in the middle. Returns the resourceVersion from before them.
     */
    const writeBigConfigMaps = async (label: string, count = 16) => {
      const path = `/api/v1/namespaces/${ns}/configmaps`;
      const rv = (await c.api<List>('GET', path)).body.metadata.resourceVersion;
      const big = 'x'.repeat(900_000);
      for (let i = 0; i < count; i++)
        await c.ok('POST', path, cm(`${label}-${i}`, { big }, { labels: { [label]: 'yes' } }));
      return rv;
    };

    /**
     * 36 MB: well beyond what the loopback socket buffers and Node's client hold for a paused
     * reader (16 objects, 14 MB, all got through now and then).
     */
    const STALLED = 40;

    it('ends the watch of a client that stops reading at its timeoutSeconds, though its body is full', async () => {
      // Written before the watch, from before them: handed over as one catch-up batch, far
      // fewer than the hub's queue, so the watch is blocked on its reader from the start,
      // neither done nor cut off.
      const rv = await writeBigConfigMaps('stalled', STALLED);
      const { outcome, lines } = await stalledUntilServerEnds(
        `watch=true&resourceVersion=${rv}&labelSelector=stalled%3Dyes&timeoutSeconds=2`,
      );
      // What it had written before the timeout, then the response's proper end: the client
      // resumes from the last event it got.
      expect(outcome).toBe('end');
      expect(lines.length).toBeGreaterThan(0);
      expect(lines.length).toBeLessThan(STALLED);
    });

    it('breaks off, not ends, a watch whose timeout comes in the middle of its initial objects', async () => {
      await writeBigConfigMaps('cut-initial', STALLED);
      // No resourceVersion: the current objects come first as ADDED, in no resourceVersion order.
      const { outcome, lines } = await stalledUntilServerEnds(
        'watch=true&labelSelector=cut-initial%3Dyes&timeoutSeconds=2',
      );
      // A clean end would let the client resume from the last object it got and never see the
      // rest: the stream must read as broken, so that the client lists again.
      expect(lines.length).toBeLessThan(STALLED);
      expect(outcome).toBe('broken');
    });

    it('sends no bookmark among the initial objects, even to a client that stops reading for a while', async () => {
      const path = `/api/v1/namespaces/${ns}/configmaps`;
      // The server waits for the reader mid-list.
      const count = 24;
      await writeBigConfigMaps('initial', count);
      const res = await openWatch(
        path,
        `watch=true&labelSelector=initial%3Dyes&allowWatchBookmarks=true&timeoutSeconds=6`,
      );
      // Not read for longer than two bookmark intervals (1 s in this cluster).
      const types = (await linesAfterPause(res, 2500)).map((e) => e.type);
      expect(types.filter((t) => t === 'ADDED')).toHaveLength(count);
      expect(types).toContain('BOOKMARK');
      expect(types.indexOf('BOOKMARK')).toBeGreaterThan(types.lastIndexOf('ADDED'));
    });

    it('sends no bookmark ahead of events it has yet to write, to a client that stops reading mid-batch', async () => {
      const path = `/api/v1/namespaces/${ns}/configmaps`;
      // Written before the watch starts, from before them: the watch is handed all of them in one
      // catch-up batch, so the server waits for the reader in the middle of it, for longer
      // than two bookmark intervals (1 s here).
      const rv = await writeBigConfigMaps('behind', STALLED);
      const res = await openWatch(
        path,
        `watch=true&resourceVersion=${rv}&labelSelector=behind%3Dyes&allowWatchBookmarks=true&timeoutSeconds=10`,
      );
      const items = (await linesAfterPause(res, 2500)).map((e) => ({
        type: e.type,
        rv: Number(e.object.metadata.resourceVersion),
      }));
      expect(items.filter((e) => e.type === 'ADDED')).toHaveLength(STALLED);
      expect(items.some((e) => e.type === 'BOOKMARK')).toBe(true);
      // A client resuming from any bookmark must miss nothing: no event after it is older.
      items.forEach((bookmark, i) => {
        if (bookmark.type !== 'BOOKMARK') return;
        for (const later of items.slice(i + 1))
          if (later.type !== 'BOOKMARK') expect(later.rv).toBeGreaterThan(bookmark.rv);
      });
    });

    it('sends each watch its own events once and in order when many watches share bursts', async () => {
      // Watches of one filter, level with the hub, are handed the same bursts and share their
      // encoded lines; beside them, watches of other filters and a selector must get theirs.
      const other = `${ns}-burst`;
      await c.api('POST', '/api/v1/namespaces', { metadata: { name: other } });
      const start = (await c.api<List>('GET', '/api/v1/configmaps')).body.metadata.resourceVersion;
      const from = `watch=true&resourceVersion=${start}`;
      const watches = {
        here: await Promise.all([1, 2, 3].map(() => c.stream(`/api/v1/namespaces/${ns}/configmaps?${from}`))),
        there: await Promise.all(
          [1, 2].map(() => c.stream(`/api/v1/namespaces/${other}/configmaps?${from}`)),
        ),
        everywhere: [await c.stream(`/api/v1/configmaps?${from}`)],
        selected: [await c.stream(`/api/v1/namespaces/${ns}/configmaps?${from}&labelSelector=odd%3Dyes`)],
      };
      const all = Object.values(watches).flat();
      try {
        // At once, so that the hub hands them over in bursts (a burst stays under the tiny
        // cluster's queue limit of 20).
        const writes = await Promise.all(
          Array.from({ length: 16 }, (_, i) =>
            c.api<Obj>(
              'POST',
              `/api/v1/namespaces/${i % 3 === 0 ? other : ns}/configmaps`,
              cm(`burst-${i}`, {}, { labels: { odd: i % 2 ? 'yes' : 'no' } }),
            ),
          ),
        );
        const written = writes
          .map((w) => w.body.metadata)
          .sort((a, b) => Number(a.resourceVersion) - Number(b.resourceVersion))
          .map((m) => ({
            where: String(m.namespace),
            odd: (m.labels as Record<string, string>).odd === 'yes',
            line: `${String(m.name)}@${String(m.resourceVersion)}`,
          }));
        const expected = {
          here: written.filter((w) => w.where === ns),
          there: written.filter((w) => w.where === other),
          everywhere: written,
          selected: written.filter((w) => w.where === ns && w.odd),
        };
        const burstLines = (s: (typeof all)[number]) =>
          s.lines
            .map((l) => JSON.parse(l) as { type: string; object: Obj })
            .filter((e) => String(e.object.metadata.name).startsWith('burst-'))
            .map(
              (e) =>
                `${e.type} ${String(e.object.metadata.name)}@${String(e.object.metadata.resourceVersion)}`,
            );
        for (const [scope, streams] of Object.entries(watches)) {
          const want = expected[scope as keyof typeof expected].map((w) => `ADDED ${w.line}`);
          for (const s of streams) {
            await waitFor(`the ${scope} watch's ${want.length} events`, () =>
              burstLines(s).length >= want.length ? true : undefined,
            );
            expect(burstLines(s)).toEqual(want);
          }
        }
      } finally {
        for (const s of all) s.close();
      }
    });

    it('flushes the response headers before any event', async () => {
      const headers = await new Promise<number>((resolve, reject) => {
        const req = request(
          new URL(
            `${watchPath}&resourceVersion=999999&labelSelector=never%3Dmatches`.replace('999999', '1'),
            c.server.url,
          ),
          {
            ca: c.server.caCert,
            headers: { authorization: `Bearer ${c.server.tokens.tokenOf('admin')}` },
          },
          (res) => {
            resolve(res.statusCode ?? 0);
            req.destroy();
          },
        );
        req.on('error', (e) => ((e as NodeJS.ErrnoException).code === 'ECONNRESET' ? undefined : reject(e)));
        req.end();
      });
      expect(headers).toBe(200);
    });
  });

  describe('concurrency', () => {
    it('20 clients doing read-modify-write with preconditions: successes equal the final counter, no two from one RV', async () => {
      const path = `/api/v1/namespaces/${ns}/configmaps/counter`;
      await c.api('POST', `/api/v1/namespaces/${ns}/configmaps`, cm('counter', { n: '0' }));
      const successes: string[] = [];
      await Promise.all(
        Array.from({ length: 20 }, async () => {
          for (let i = 0; i < 10; i++) {
            const current = (await c.api<Obj>('GET', path)).body;
            const n = Number((current.data as { n: string }).n);
            const r = await c.api('PUT', path, { ...current, data: { n: String(n + 1) } });
            if (r.status === 200) successes.push(current.metadata.resourceVersion as string);
            else expect(r.body).toMatchObject({ code: 409, reason: 'Conflict' });
          }
        }),
      );
      const final = (await c.api<Obj>('GET', path)).body;
      expect(Number((final.data as { n: string }).n)).toBe(successes.length);
      expect(new Set(successes).size).toBe(successes.length);
      expect(successes.length).toBeGreaterThan(0);
    });

    it('a delete without preconditions wins over concurrent writes (no 409); a stale resourceVersion precondition still gets one', async () => {
      const base = `/api/v1/namespaces/${ns}/configmaps`;
      const names = Array.from({ length: 10 }, (_, i) => `churn-${i}`);
      for (const name of names) expect((await c.api('POST', base, cm(name, { n: '0' }))).status).toBe(201);
      // Writers patch every object as fast as they can until it is gone, as controllers writing status do.
      let writes = 0;
      const writers = names.flatMap((name) =>
        Array.from({ length: 3 }, async () => {
          for (let i = 0; i < 1000; i++) {
            const r = await c.api(
              'PATCH',
              `${base}/${name}`,
              { data: { n: String(i) } },
              {
                'content-type': 'application/merge-patch+json',
              },
            );
            if (r.status === 404) return;
            // Upstream's patch handler also gives up after 5 conflicts (maxRetryWhenPatchConflicts).
            expect([200, 409]).toContain(r.status);
            writes++;
          }
        }),
      );
      await waitFor('the writers under way', () => (writes >= 30 ? true : undefined), { timeoutMs: 30_000 });
      const stale = await c.api('DELETE', `${base}/${names[0]}`, {
        kind: 'DeleteOptions',
        apiVersion: 'v1',
        preconditions: { resourceVersion: '1' },
      });
      expect(stale.body).toMatchObject({ code: 409, reason: 'Conflict' });
      const deletes = await Promise.all(names.map((name) => c.api('DELETE', `${base}/${name}`)));
      expect(deletes.map((d) => d.status)).toEqual(names.map(() => 200));
      await Promise.all(writers);
    });
  });
});
