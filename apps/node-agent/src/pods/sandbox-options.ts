import { type Container, type EphemeralContainer, type Pod } from '../api-types.js';
import { type PidNamespace, type PortMapping, type SandboxOptions } from '../runtime/index.js';
import { latestStatus, type RuntimePodStatus } from './runtime-pod.js';

/**
 * What the pod asks of the node beside its resolver: the host's namespaces (hostNetwork,
 * hostPID, hostIPC), and its containers' hostPorts (generatePodSandboxConfig; a host-network
 * pod listens on the node's ports already).
 */
export function sandboxHostOptions(pod: Pod): Omit<SandboxOptions, 'dns'> {
  const spec = pod.spec;
  const portMappings: PortMapping[] = [];
  if (!spec?.hostNetwork)
    for (const c of spec?.containers ?? [])
      for (const p of c.ports ?? [])
        if (p.hostPort && p.hostPort > 0)
          portMappings.push({
            containerPort: p.containerPort,
            hostPort: p.hostPort,
            protocol: (p.protocol ?? 'TCP').toLowerCase() as PortMapping['protocol'],
            ...(p.hostIP ? { hostIP: p.hostIP } : {}),
          });
  return {
    ...(spec?.hostNetwork ? { hostNetwork: true } : {}),
    ...(spec?.hostPID ? { hostPID: true } : {}),
    ...(spec?.hostIPC ? { hostIPC: true } : {}),
    ...(portMappings.length ? { portMappings } : {}),
  };
}

/**
 * Whose PID namespace a container joins (namespacesForPod and startSpec.getTargetID): the
 * node's for a hostPID pod; the sandbox's when the pod shares one; an ephemeral container's
 * target's (a running instance of it) otherwise, or an `error` while it does not run; else its own.
 */
export function pidNamespace(
  pod: Pod,
  container: Container | EphemeralContainer,
  engine: RuntimePodStatus,
): { namespace?: PidNamespace; error?: string } {
  if (pod.spec?.hostPID) return { namespace: { of: 'node' } };
  if (pod.spec?.shareProcessNamespace) return { namespace: { of: 'sandbox' } };
  const target = 'targetContainerName' in container ? container.targetContainerName : undefined;
  if (!target) return {};
  const running = latestStatus(engine, target);
  if (running?.state !== 'running') return { error: `unable to find target container ${target}` };
  return { namespace: { of: 'container', id: running.id } };
}
