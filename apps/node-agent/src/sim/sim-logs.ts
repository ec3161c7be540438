import { type NatsConnection } from '@nats-io/transport-node';

import { type Informer } from '@app/client';
import { type LogRequest, type LogSink, type LogSource, serveLogs, StreamRefused } from '@app/bus';

import { type ApiObject, type Pod } from '../api-types.js';

/**
 * Answers `kubectl logs` for the pods of simulated nodes: a simulated container writes
 * nothing, so its log is empty (followed until the reader leaves), but the refusals are the
 * kubelet's (pkg/kubelet/kubelet_pods.go validateContainerLogStatus): a container that has
 * not started is "waiting to start", a previous log needs a previous run.
 */
export function serveSimLogs(
  nats: NatsConnection,
  nodes: Iterable<string>,
  informer: Informer<ApiObject<Pod>>,
): { close(): void } {
  const containerStatus = (r: LogRequest) => {
    const pod = informer.cache.get(`${r.namespace}/${r.pod}`);
    const all = [...(pod?.status?.initContainerStatuses ?? []), ...(pod?.status?.containerStatuses ?? [])];
    return all.find((s) => s.name === r.container);
  };
  // A stopped container's log is complete (and empty); following a running one, nothing
  // comes until the reader leaves.
  const empty = async () => {};
  const untilTheReaderLeaves = async (sink: LogSink) => {
    if (sink.signal.aborted) return;
    await new Promise<void>((resolve) =>
      sink.signal.addEventListener('abort', () => resolve(), { once: true }),
    );
  };
  const source: LogSource = {
    open: async (r: LogRequest) => {
      const pod = informer.cache.get(`${r.namespace}/${r.pod}`);
      if (!pod || (r.uid && pod.metadata.uid !== r.uid))
        throw new StreamRefused(404, `pod "${r.pod}" not found`);
      const status = containerStatus(r);
      if (r.previous) {
        if (!status?.lastState?.terminated)
          throw new StreamRefused(
            400,
            `previous terminated container "${r.container}" in pod "${r.pod}" not found`,
          );
        return empty;
      }
      if (!status?.state?.running && !status?.state?.terminated)
        throw new StreamRefused(
          400,
          `container "${r.container}" in pod "${r.pod}" is waiting to start: ${status?.state?.waiting?.reason ?? 'ContainerCreating'}`,
        );
      return r.follow && status.state?.running ? untilTheReaderLeaves : empty;
    },
  };
  const served = [...nodes].map((node) => serveLogs(nats, node, source));
  return { close: () => served.forEach((s) => s.close()) };
}
