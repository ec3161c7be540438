import { randomUUID } from 'node:crypto';

import { expect } from '@jest/globals';
import { connect as natsConnect, type NatsConnection } from '@nats-io/transport-node';
import { waitFor } from '@app/dev-servers';
import { type ApiCluster, startApiCluster } from '@app/testing/api-cluster.js';
import { dockerForTests, removeClusterContainers, type TestDocker } from '@app/testing/docker.js';

import { DockerRuntime, type PodRef } from '../src/runtime/index.js';
import { serveNodeStreams } from '../src/streams/index.js';

/**
 * An API server (with its Postgres and nats-server), the real Docker engine, and this node's
 * log and exec endpoints served in-process for a test node: what `kubectl logs` and `kubectl
 * exec` reach end to end. Pods are created through the API; their containers are made here,
 * named and labelled as the pod workers would, since the pod lifecycle is not under test.
 */
export interface StreamsCluster {
  api: ApiCluster;
  env: TestDocker;
  runtime: DockerRuntime;
  node: string;
  createPod(
    name: string,
    containers: TestContainer[],
    extra?: { annotations?: Record<string, string> },
  ): Promise<TestPod>;
  close(): Promise<void>;
}

export interface TestContainer {
  name: string;
  /** The shell script the container runs (`sh -c`); none: in the spec, not started. */
  script?: string;
  /** Keeps a stdin open for attaching (the container's `stdin: true`). */
  stdin?: boolean;
}

export interface TestPod {
  ref: PodRef;
  sandboxId: string;
  /** Creates and starts an instance of a container; returns its id. */
  run(container: string, script: string, attempt?: number, options?: { stdin?: boolean }): Promise<string>;
  /** Creates an instance without starting it. */
  create(container: string, script: string, attempt?: number, options?: { stdin?: boolean }): Promise<string>;
}

export async function startStreamsCluster(): Promise<StreamsCluster> {
  const env = await dockerForTests();
  const clusterId = `test-${randomUUID().slice(0, 8)}`;
  const node = `node-${clusterId}`;
  const runtime = new DockerRuntime(env.docker, { clusterId, pauseImage: env.images.pause });
  const api = await startApiCluster();
  let nc: NatsConnection | undefined;
  try {
    nc = await natsConnect({ servers: api.natsUrl });
  } catch (e) {
    await api.close();
    throw e;
  }
  const served = serveNodeStreams(nc, node, runtime);
  const conn = nc;
  return {
    api,
    env,
    runtime,
    node,
    async createPod(name, containers, extra = {}) {
      const created = await api.api<{ metadata: { uid: string } }>(
        'POST',
        '/api/v1/namespaces/default/pods',
        {
          metadata: { name, ...(extra.annotations ? { annotations: extra.annotations } : {}) },
          spec: {
            nodeName: node,
            containers: containers.map((c) => ({
              name: c.name,
              image: env.images.busybox,
              ...(c.stdin ? { stdin: true } : {}),
            })),
          },
        },
      );
      expect(created.status).toBe(201);
      const ref: PodRef = { name, namespace: 'default', uid: created.body.metadata.uid };
      const sandboxId = await runtime.runSandbox(ref, 0);
      const create = (container: string, script: string, attempt = 0, options: { stdin?: boolean } = {}) =>
        runtime.createContainer(
          sandboxId,
          ref,
          {
            name: container,
            image: env.images.busybox,
            command: ['sh', '-c'],
            args: [script],
            stdin: options.stdin,
          },
          attempt,
        );
      const pod: TestPod = {
        ref,
        sandboxId,
        create,
        async run(container, script, attempt = 0, options = {}) {
          const id = await create(container, script, attempt, options);
          await runtime.startContainer(id);
          return id;
        },
      };
      for (const c of containers)
        if (c.script !== undefined) await pod.run(c.name, c.script, 0, { stdin: c.stdin });
      return pod;
    },
    async close() {
      served.close();
      await conn.close();
      await api.close();
      // Everything labelled with this run's cluster, whichever test made it and however it ended.
      expect(await removeClusterContainers(env.docker, clusterId)).toEqual([]);
    },
  };
}

/** Waits until the container's log holds `text`. */
export function waitForLog(runtime: DockerRuntime, id: string, text: string): Promise<true> {
  return waitFor(`"${text}" in the log of ${id}`, async () =>
    (await runtime.logs(id)).some((l) => l.line.includes(text)) ? true : undefined,
  );
}
