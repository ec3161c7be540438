import { serveExec, serveLogs } from '@app/bus';
import { type NatsConnection } from '@nats-io/transport-node';

import { type DockerRuntime } from '../runtime/index.js';
import { RuntimeExecTarget } from './runtime-exec-target.js';
import { RuntimeLogSource } from './runtime-log-source.js';

/** Serves this node's `kubectl logs` and `kubectl exec` over NATS until `close()`. */
export function serveNodeStreams(
  nc: NatsConnection,
  node: string,
  runtime: DockerRuntime,
): { close(): void } {
  const logs = serveLogs(nc, node, new RuntimeLogSource(runtime));
  const exec = serveExec(nc, node, new RuntimeExecTarget(runtime));
  return {
    close: () => {
      logs.close();
      exec.close();
    },
  };
}
