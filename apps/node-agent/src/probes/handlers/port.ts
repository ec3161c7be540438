import { type Container } from '../../api-types.js';

/**
 * The port a probe names: a number, or the name of one of the container's ports, or a number
 * written as a string (upstream ResolveContainerPort in pkg/probe/util.go). Throws as upstream
 * does, which makes the probe "errored" rather than failed.
 */
export function resolveContainerPort(port: number | string, container: Container): number {
  let resolved: number;
  if (typeof port === 'number') {
    resolved = port;
  } else {
    const named = container.ports?.find((p) => p.name === port);
    if (named) {
      resolved = named.containerPort;
    } else if (/^[+-]?\d+$/.test(port)) {
      // Last ditch effort, as upstream: maybe it was an int stored as a string.
      resolved = Number(port);
    } else {
      throw new Error(`strconv.Atoi: parsing ${JSON.stringify(port)}: invalid syntax`);
    }
  }
  if (Number.isInteger(resolved) && resolved > 0 && resolved < 65536) return resolved;
  throw new Error(`invalid port number: ${resolved}`);
}
