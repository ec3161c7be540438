import { type Pod } from '../api-types.js';
import { type PortMapping, type SandboxOptions } from '../runtime/index.js';

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
