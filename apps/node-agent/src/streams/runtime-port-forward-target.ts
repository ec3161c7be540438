import { connect, type Socket } from 'node:net';

import { type PortForwardRequest, type PortForwardTarget, StreamRefused } from '@app/bus';

import { type DockerRuntime } from '../runtime/index.js';

/**
 * Connects `kubectl port-forward`'s connections to the pod's port, at the pod's address on the
 * node's container network. The kubelet dials localhost inside the pod's network namespace,
 * which also reaches a port the pod bound to 127.0.0.1 only; from the node, the pod's address
 * reaches what it serves on all its addresses (what a Service reaches too). A host-network
 * pod is dialled on localhost, as the kubelet does.
 */
export class RuntimePortForwardTarget implements PortForwardTarget {
  constructor(
    private readonly runtime: DockerRuntime,
    private readonly connectTimeoutMs = 10_000,
  ) {}

  async connect(request: PortForwardRequest): Promise<Socket> {
    const sandboxes = (
      await this.runtime.listContainers({
        ...(request.uid ? { podUid: request.uid } : {}),
        type: 'podsandbox',
      })
    ).filter((c) => c.pod.namespace === request.namespace && c.pod.name === request.pod);
    // pkg/kubelet/server/server.go getPortForward: a pod this node does not run is a 404.
    if (sandboxes.length === 0) throw new StreamRefused(404, 'pod does not exist');
    const running = sandboxes.find((s) => s.state === 'running');
    const sandbox = running && (await this.runtime.inspect(running.id));
    // A host-network pod listens in the node's namespace, where this agent is: on localhost.
    const address = sandbox?.hostNetwork ? '127.0.0.1' : sandbox?.ipAddress;
    if (!address)
      throw new StreamRefused(500, `pod ${request.namespace}/${request.pod} has no running network sandbox`);
    return dialPodPort(address, request.port, this.connectTimeoutMs);
  }
}

/** A connection to a pod's port; a refusal (or no answer within `timeoutMs`) as the StreamRefused the API server passes on. */
export function dialPodPort(host: string, port: number, timeoutMs: number): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host, port, timeout: timeoutMs });
    const fail = (reason: string) => {
      socket.destroy();
      reject(new StreamRefused(500, `failed to connect to ${host}:${port} inside the pod: ${reason}`));
    };
    socket.once('error', (e) => fail(e.message));
    socket.once('timeout', () => fail(`no answer in ${timeoutMs} ms`));
    socket.once('connect', () => {
      socket.removeAllListeners('error');
      socket.removeAllListeners('timeout');
      socket.setTimeout(0);
      resolve(socket);
    });
  });
}
