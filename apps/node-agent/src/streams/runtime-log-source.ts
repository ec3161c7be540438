import { type LogRequest, type LogSink, type LogSource, type LogWriter, StreamRefused } from '@app/bus';

import { type DockerRuntime, type RuntimeContainer } from '../runtime/index.js';
import { findPodContainers } from './pod-containers.js';

/** Most bytes per log message to the API server (NATS refuses messages over 1 MiB by default). */
const LOG_CHUNK_BYTES = 32 * 1024;

/**
 * Serves `kubectl logs` from the engine, as the dockershim did (pkg/kubelet/dockershim/
 * docker_legacy_service.go GetContainerLogs): the engine's own log with its tail, since (whole
 * seconds), timestamps and follow, stdout and stderr sharing one `limitBytes` budget.
 */
export class RuntimeLogSource implements LogSource {
  constructor(
    private readonly runtime: DockerRuntime,
    private readonly now: () => number = Date.now,
  ) {}

  async open(request: LogRequest): Promise<LogWriter> {
    const container = await this.containerFor(request);
    return (sink) => this.stream(container, request, sink);
  }

  private async stream(container: RuntimeContainer, request: LogRequest, sink: LogSink): Promise<void> {
    let budget = request.limitBytes ?? Infinity;
    for await (const data of this.runtime.streamLogs(container.id, {
      follow: request.follow ?? false,
      timestamps: request.timestamps ?? false,
      ...(request.tailLines !== undefined ? { tail: request.tailLines } : {}),
      ...sinceOf(request, this.now()),
      signal: sink.signal,
    })) {
      // As the dockershim's sharedLimitWriter: stdout and stderr share one budget; write what
      // fits, then stop.
      const allowed = data.subarray(0, Math.min(data.length, budget));
      budget -= allowed.length;
      for (let at = 0; at < allowed.length; at += LOG_CHUNK_BYTES)
        await sink.write(allowed.subarray(at, at + LOG_CHUNK_BYTES));
      if (budget === 0) return;
    }
  }

  /**
   * The instance a request reads. Errors as the kubelet words them: an unknown pod is a 404
   * (pkg/kubelet/server/server.go getContainerLogs), the rest 400s from
   * validateContainerLogStatus (pkg/kubelet/kubelet_pods.go).
   */
  private async containerFor(request: LogRequest): Promise<RuntimeContainer> {
    const { podFound, attempts } = await findPodContainers(this.runtime, request);
    if (!podFound) throw new StreamRefused(404, `pod "${request.pod}" does not exist`);
    if (request.previous) {
      const previous = attempts[1];
      if (!previous)
        throw new StreamRefused(
          400,
          `previous terminated container "${request.container}" in pod "${request.pod}" not found`,
        );
      return previous;
    }
    const current = attempts[0];
    if (!current)
      throw new StreamRefused(
        400,
        `container "${request.container}" in pod "${request.pod}" is not available`,
      );
    return current;
  }
}

/** sinceSeconds or sinceTime as the dockershim passed them: truncated to whole seconds. */
function sinceOf(request: LogRequest, now: number): { since?: Date } {
  const at =
    request.sinceTime !== undefined
      ? Date.parse(request.sinceTime)
      : request.sinceSeconds !== undefined
        ? now - request.sinceSeconds * 1000
        : undefined;
  if (at === undefined || Number.isNaN(at)) return {};
  return { since: new Date(Math.floor(at / 1000) * 1000) };
}
