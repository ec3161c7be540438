import { StatusError } from '@app/api';
import { StreamOpenError } from '@app/bus';
import { type StoredObject } from '@app/event-store';

interface PodSpec {
  nodeName?: string;
  containers?: { name: string }[];
  initContainers?: { name: string }[];
  ephemeralContainers?: { name: string }[];
}

/**
 * Where one of a pod's streams (log, exec, attach) goes, as pkg/registry/core/pod/strategy.go
 * LogLocation and streamLocation find it: the container (ValidateContainer: the one named, or
 * the only one), then the node the pod runs on.
 */
export function podStreamLocation(
  pod: StoredObject,
  named: string | undefined,
): { container: string; nodeName: string } {
  const spec = (pod.spec ?? {}) as PodSpec;
  const container = validateContainer(spec, String(pod.metadata.name), named);
  return { container, nodeName: podNodeName(pod) };
}

/** The node a pod's streams (port-forward has no container) go to; 400 before it is scheduled. */
export function podNodeName(pod: StoredObject): string {
  const { nodeName } = (pod.spec ?? {}) as PodSpec;
  if (!nodeName)
    throw StatusError.badRequest(`pod ${String(pod.metadata.name)} does not have a host assigned`);
  return nodeName;
}

/** strategy.go ValidateContainer. */
function validateContainer(spec: PodSpec, pod: string, named: string | undefined): string {
  // podutil.VisitContainers order: init containers, containers, ephemeral containers.
  const all = [
    ...(spec.initContainers ?? []),
    ...(spec.containers ?? []),
    ...(spec.ephemeralContainers ?? []),
  ];
  if (named) {
    if (!all.some((c) => c.name === named))
      throw StatusError.badRequest(`container ${named} is not valid for pod ${pod}`);
    return named;
  }
  const containers = spec.containers ?? [];
  if (containers.length === 1) return containers[0]!.name;
  if (containers.length === 0)
    throw StatusError.badRequest(`a container name must be specified for pod ${pod}`);
  // Go's %s of a []string: the names in brackets, space separated.
  throw StatusError.badRequest(
    `a container name must be specified for pod ${pod}, choose one of: [${all.map((c) => c.name).join(' ')}]`,
  );
}

/** Runs `open` (a node stream's opening) and turns the agent's refusal into the Status a kubelet's would become. */
export async function withNodeRefusals<T>(
  subresource: 'log' | 'exec' | 'attach',
  pod: string,
  open: () => Promise<T>,
): Promise<T> {
  try {
    return await open();
  } catch (e) {
    if (e instanceof StreamOpenError) throw nodeRefusal(e, subresource, pod);
    throw e;
  }
}

function nodeRefusal(e: StreamOpenError, subresource: 'log' | 'exec' | 'attach', pod: string): StatusError {
  if (subresource === 'log') {
    // A log is a plain GET to the kubelet, answered as apiserver/pkg/registry/generic/rest/
    // response_checker.go GenericHttpResponseChecker words it: 400s and 500s keep the
    // kubelet's message, a 404 becomes the generic NotFound; an agent that did not answer is
    // unavailable.
    switch (e.code) {
      case 400:
        return StatusError.badRequest(e.message);
      case 404:
        return new StatusError(
          'NotFound',
          `the server could not find the requested resource ( pods/log ${pod})`,
          {
            kind: 'pods/log',
            name: pod,
          },
        );
      case 500:
        return StatusError.internal(e.message);
      default:
        return new StatusError('ServiceUnavailable', e.message, undefined, e.code);
    }
  }
  // exec and attach are upgrades: the kubelet's refusal keeps the prefix kubectl printed for it
  // (client-go's upgrade failure, "unable to upgrade connection: ...").
  if (e.code === 503) return new StatusError('ServiceUnavailable', e.message);
  const message = `unable to upgrade connection: ${e.message}`;
  if (e.code === 404) return new StatusError('NotFound', message);
  return StatusError.badRequest(message);
}
