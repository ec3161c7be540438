import { type Container, type Pod, type Probe } from '../api-types.js';
import { type CommandRunner, execProbe } from './handlers/exec-probe.js';
import { grpcProbe } from './handlers/grpc-probe.js';
import { httpGetRequest, httpProbe } from './handlers/http-probe.js';
import { type HandlerOutcome } from './handlers/outcome.js';
import { resolveContainerPort } from './handlers/port.js';
import { tcpProbe } from './handlers/tcp-probe.js';
import { type ProbeEventInfo } from './probe-manager.js';
import { type ProbeKind } from './probe-spec.js';

/** A probe's effect on the container's result, after warnings and errors are accounted for. */
export type ProbeResult = 'Success' | 'Failure' | 'Unknown';

export interface ProbeVerdict {
  result: Exclude<ProbeResult, 'Unknown'>;
  /** The handler's output (the failure's text for a failure). */
  output: string;
  /** The handler could not run even after retries: upstream throws the result away. */
  errored: boolean;
  /** What the kubelet records as a Warning Event on the container for this run. */
  event?: ProbeEventInfo;
}

/** Where a probe runs: the container, its pod, and the pod's IP. */
export interface ProbeTarget {
  pod: Pod;
  container: Container;
  containerId: string;
  /** The pod's IP, for httpGet and tcpSocket probes without a host. */
  podIP?: string;
}

/** A handler that cannot run is retried this many times in all (maxProbeRetries). */
const MAX_PROBE_RETRIES = 3;

/**
 * Runs one probe once and says what it means (pkg/kubelet/prober/prober.go): picks the handler,
 * retries a handler that errored, and words the Event the kubelet records: `Liveness probe
 * failed: <output>`, `... probe warning: <output>`, `... probe errored and resulted in <state>
 * state: <error>`.
 */
export class Prober {
  constructor(
    private readonly runner: CommandRunner,
    /** `kube-probe/<major>.<minor>`. */
    private readonly userAgent: string,
  ) {}

  async probe(kind: ProbeKind, probe: Probe, target: ProbeTarget, timeoutMs: number): Promise<ProbeVerdict> {
    let outcome: HandlerOutcome | undefined;
    let error: unknown;
    for (let i = 0; i < MAX_PROBE_RETRIES && !outcome; i++) {
      try {
        outcome = await this.run(probe, target, timeoutMs);
      } catch (e) {
        error = e;
      }
    }
    if (!outcome) {
      const message = error instanceof Error ? error.message : String(error);
      return {
        result: 'Failure',
        output: message,
        errored: true,
        event: {
          reason: 'Unhealthy',
          message: `${kind} probe errored and resulted in unknown state: ${message}`,
        },
      };
    }
    switch (outcome.result) {
      case 'success':
        return { result: 'Success', output: outcome.output, errored: false };
      case 'warning':
        return {
          result: 'Success',
          output: outcome.output,
          errored: false,
          event: { reason: 'ProbeWarning', message: `${kind} probe warning: ${outcome.output}` },
        };
      default:
        return {
          result: 'Failure',
          output: outcome.output,
          errored: false,
          event: { reason: 'Unhealthy', message: `${kind} probe failed: ${outcome.output}` },
        };
    }
  }

  /** runProbe: the one handler the probe sets. */
  private run(probe: Probe, target: ProbeTarget, timeoutMs: number): Promise<HandlerOutcome> {
    const { container } = target;
    if (probe.exec) return execProbe(this.runner, target.containerId, probe.exec.command ?? [], timeoutMs);
    if (probe.httpGet)
      return httpProbe(httpGetRequest(probe.httpGet, container, target.podIP, this.userAgent), timeoutMs);
    if (probe.tcpSocket) {
      const port = resolveContainerPort(probe.tcpSocket.port, container);
      return tcpProbe(this.hostOf(probe.tcpSocket.host, target), port, timeoutMs);
    }
    if (probe.grpc) {
      // No port names here: the API only takes a number (GRPCAction.port is int32).
      const port = resolveContainerPort(probe.grpc.port, container);
      return grpcProbe(
        this.hostOf(undefined, target),
        port,
        probe.grpc.service ?? '',
        timeoutMs,
        this.userAgent,
      );
    }
    const { name, namespace, uid } = target.pod.metadata ?? {};
    return Promise.reject(
      new Error(`missing probe handler for ${name}_${namespace}(${uid}):${container.name}`),
    );
  }

  private hostOf(host: string | undefined, target: ProbeTarget): string {
    const chosen = host || target.podIP;
    // Upstream would dial ":port", that is this very node; the agent must not probe itself.
    if (!chosen) throw new Error('the pod has no IP yet and the probe names no host');
    return chosen;
  }
}
