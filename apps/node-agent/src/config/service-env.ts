import { type Service } from './kube-types.js';

/** Where pods reach the API server when it is not (yet) at the `kubernetes` Service's ClusterIP. */
export interface KubernetesEndpoint {
  host: string;
  port: number;
}

/** The `kubernetes` Service of `default` (upstream kubelet's masterServices). */
const MASTER_NAMESPACE = 'default';
const MASTER_SERVICES = new Set(['kubernetes']);

/** IsServiceIPSet: headless (`None`) and unset ClusterIPs get no variables. */
function hasClusterIP(s: Service): boolean {
  const ip = s.spec?.clusterIP;
  return ip !== undefined && ip !== '' && ip !== 'None';
}

/** makeEnvVariableName: upper case, `-` to `_` (Service names are DNS labels starting with a letter). */
function envName(name: string): string {
  return name.replace(/-/g, '_').toUpperCase();
}

/** net.JoinHostPort: an IPv6 address in brackets. */
function hostPort(ip: string, port: number): string {
  return ip.includes(':') ? `[${ip}]:${port}` : `${ip}:${port}`;
}

/**
 * The Service variables a container starts with, in upstream's order: pkg/kubelet/envvars
 * FromServices (`{NAME}_SERVICE_HOST`, `_SERVICE_PORT`, `_SERVICE_PORT_{PORTNAME}` for named
 * ports, then makeLinkVariables' Docker-link `{NAME}_PORT...` set per port).
 */
export function fromServices(services: readonly Service[]): [name: string, value: string][] {
  const result: [string, string][] = [];
  for (const service of services) {
    if (!hasClusterIP(service)) continue;
    const ports = service.spec?.ports ?? [];
    if (ports.length === 0) continue; // validation requires one; nothing to describe without it
    const prefix = envName(service.metadata?.name ?? '');
    const ip = service.spec!.clusterIP!;
    result.push([`${prefix}_SERVICE_HOST`, ip]);
    result.push([`${prefix}_SERVICE_PORT`, String(ports[0]!.port)]);
    for (const p of ports) {
      if (p.name) result.push([`${prefix}_SERVICE_PORT_${envName(p.name)}`, String(p.port)]);
    }
    ports.forEach((p, i) => {
      const protocol = p.protocol || 'TCP';
      const url = `${protocol.toLowerCase()}://${hostPort(ip, p.port)}`;
      // Docker special-cases the first port.
      if (i === 0) result.push([`${prefix}_PORT`, url]);
      const portPrefix = `${prefix}_PORT_${p.port}_${protocol.toUpperCase()}`;
      result.push([portPrefix, url]);
      result.push([`${portPrefix}_PROTO`, protocol.toLowerCase()]);
      result.push([`${portPrefix}_PORT`, String(p.port)]);
      result.push([`${portPrefix}_ADDR`, ip]);
    });
  }
  return result;
}

/**
 * The Service variables a pod in `namespace` sees (kubelet_pods.go getServiceEnvVarMap): the
 * master `kubernetes` Service of `default` always, the pod namespace's own Services when
 * `enableServiceLinks`; a Service of the pod's namespace named like a master one replaces it.
 * `kubernetesEndpoint`, when given, replaces the master Service's address and port.
 */
export function serviceEnvVarMap(
  namespace: string,
  enableServiceLinks: boolean,
  services: { inNamespace: readonly Service[]; inDefault: readonly Service[] },
  kubernetesEndpoint?: KubernetesEndpoint,
): Record<string, string> {
  const chosen = new Map<string, Service>();
  for (const s of services.inDefault) {
    const name = s.metadata?.name ?? '';
    if (MASTER_SERVICES.has(name) && hasClusterIP(s))
      chosen.set(name, overrideEndpoint(s, kubernetesEndpoint));
  }
  if (enableServiceLinks) {
    const own = namespace === MASTER_NAMESPACE ? services.inDefault : services.inNamespace;
    for (const s of own) {
      const name = s.metadata?.name ?? '';
      if (!hasClusterIP(s)) continue;
      if (namespace === MASTER_NAMESPACE && MASTER_SERVICES.has(name)) continue; // already chosen
      chosen.set(name, s);
    }
  }
  return Object.fromEntries(fromServices([...chosen.values()]));
}

function overrideEndpoint(s: Service, endpoint: KubernetesEndpoint | undefined): Service {
  if (!endpoint) return s;
  return {
    ...s,
    spec: {
      ...s.spec,
      clusterIP: endpoint.host,
      ports: (s.spec?.ports ?? [{ port: endpoint.port }]).map((p) => ({ ...p, port: endpoint.port })),
    },
  };
}
