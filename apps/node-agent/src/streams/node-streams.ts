import { serveExec, serveLogs, servePortForward } from '@app/bus';
import { type NatsConnection } from '@nats-io/transport-node';

import { type DockerRuntime } from '../runtime/index.js';
import { RuntimeExecTarget } from './runtime-exec-target.js';
import { RuntimeLogSource } from './runtime-log-source.js';
import { RuntimePortForwardTarget } from './runtime-port-forward-target.js';

/** Serves this node's `kubectl logs`, `exec`, `attach` and `port-forward` over NATS until `close()`. */
export function serveNodeStreams(
  nc: NatsConnection,
  node: string,
  runtime: DockerRuntime,
): { close(): void } {
  const logs = serveLogs(nc, node, new RuntimeLogSource(runtime));
  const exec = serveExec(nc, node, new RuntimeExecTarget(runtime));
  const portForward = servePortForward(nc, node, new RuntimePortForwardTarget(runtime));
  return {
    close: () => {
      logs.close();
      exec.close();
      portForward.close();
    },
  };
}
