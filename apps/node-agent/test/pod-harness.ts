import { randomUUID } from 'node:crypto';

import { connect, type NatsConnection } from '@nats-io/transport-node';
import { ApiClient } from '@app/client';
import { waitFor } from '@app/dev-servers';
import { type ApiCluster, startApiCluster } from '@app/testing/api-cluster.js';
import { dockerForTests, removeClusterContainers, type TestDocker } from '@app/testing/docker.js';

import { type Pod } from '../src/api-types.js';
import { type ContainerConfigurer, LiteralContainerConfigurer } from '../src/config/container-config.js';
import { NoProbeManager, type ProbeManager } from '../src/probes/probe-manager.js';
import { PodManager, type PodManagerOptions } from '../src/pods/index.js';
import { DockerRuntime, LABELS } from '../src/runtime/index.js';

/**
 * One suite's world for the pod lifecycle: the real API server (with Postgres and
 * nats-server), the real engine, a namespace, and PodManagers in this process with the
 * suite's own cluster id and node name, on short backoffs. Everything it made goes in close().
 */
export interface PodWorld {
  cluster: ApiCluster;
  env: TestDocker;
  runtime: DockerRuntime;
  api: ApiClient;
  nats: NatsConnection;
  clusterId: string;
  nodeName: string;
  ns: string;
  logs: string[];
  /** Starts a PodManager on the suite's node (a second one after `stop` plays the restarted agent). */
  startManager(
    o?: Partial<PodManagerOptions>,
    deps?: { probes?: ProbeManager; configurer?: ContainerConfigurer },
  ): Promise<PodManager>;
  createPod(name: string, spec: Record<string, unknown>): Promise<Pod>;
  getPod(name: string): Promise<Pod | undefined>;
  /** Waits until `check` holds for the pod and returns it. */
  waitPod(name: string, what: string, check: (p: Pod) => boolean, timeoutMs?: number): Promise<Pod>;
  /** This suite's containers of one pod in the engine, by docker name. */
  containersOf(
    pod: Pod,
  ): Promise<{ id: string; name: string; state: string; labels: Record<string, string> }[]>;
  close(): Promise<void>;
}

export const TEST_BACKOFF = { baseMs: 200, capMs: 2_000, resetAfterMs: 4_000 };

export async function podWorld(suite: string): Promise<PodWorld> {
  const cluster = await startApiCluster();
  const env = await dockerForTests();
  const clusterId = `test-${suite}-${randomUUID().slice(0, 8)}`;
  const nodeName = `node-${suite}`;
  const ns = suite;
  const runtime = new DockerRuntime(env.docker, { clusterId, pauseImage: env.images.pause });
  const api = new ApiClient(cluster.connection, { userAgent: 'pod-tests' });
  const nats = await connect({ servers: cluster.natsUrl });
  const managers: PodManager[] = [];
  const logs: string[] = [];
  const created = await cluster.api('POST', '/api/v1/namespaces', { metadata: { name: ns } });
  if (created.status !== 201) throw new Error(`namespace ${ns}: ${created.status} ${created.text}`);

  const getPod = async (name: string) => {
    const r = await cluster.api<Pod>('GET', `/api/v1/namespaces/${ns}/pods/${name}`);
    return r.status === 200 ? r.body : undefined;
  };
  return {
    cluster,
    env,
    runtime,
    api,
    nats,
    clusterId,
    nodeName,
    ns,
    logs,
    async startManager(o = {}, deps = {}) {
      const probes = deps.probes ?? new NoProbeManager();
      const configurer = deps.configurer ?? new LiteralContainerConfigurer();
      const manager = new PodManager(api, nats, runtime, configurer, probes, {
        nodeName,
        clusterId,
        backoff: TEST_BACKOFF,
        resyncMs: 1_000,
        engineReconnectMs: [100, 1_000],
        log: (m) => logs.push(m),
        ...o,
      });
      managers.push(manager);
      await manager.start();
      return manager;
    },
    async createPod(name, spec) {
      const r = await cluster.api<Pod>('POST', `/api/v1/namespaces/${ns}/pods`, {
        apiVersion: 'v1',
        kind: 'Pod',
        metadata: { name },
        spec: { nodeName, terminationGracePeriodSeconds: 2, ...spec },
      });
      if (r.status !== 201) throw new Error(`pod ${name}: ${r.status} ${r.text}`);
      return r.body;
    },
    getPod,
    waitPod: (name, what, check, timeoutMs = 30_000) =>
      waitFor(
        `pod ${name}: ${what}`,
        async () => {
          const p = await getPod(name);
          return p && check(p) ? p : undefined;
        },
        { timeoutMs, intervalMs: 100 },
      ),
    async containersOf(pod) {
      const found = await env.docker.listContainers({
        all: true,
        filters: { label: [`${LABELS.cluster}=${clusterId}`, `${LABELS.podUid}=${pod.metadata!.uid}`] },
      });
      return found.map((c) => ({
        id: c.Id,
        name: (c.Names[0] ?? '').replace(/^\//, ''),
        state: c.State,
        labels: c.Labels,
      }));
    },
    async close() {
      for (const m of managers) await m.stop();
      const left = await removeClusterContainers(env.docker, clusterId);
      await nats.close();
      api.close();
      await cluster.close();
      if (left.length) throw new Error(`containers left behind: ${left.map((c) => c.Names[0]).join(', ')}`);
    },
  };
}

/** The status of one container of the pod (regular or init). */
export function containerStatus(pod: Pod, name: string) {
  return [...(pod.status?.initContainerStatuses ?? []), ...(pod.status?.containerStatuses ?? [])].find(
    (s) => s.name === name,
  );
}

export function condition(pod: Pod, type: string) {
  return pod.status?.conditions?.find((c) => c.type === type);
}
