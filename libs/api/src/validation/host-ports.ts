import { type StatusCause } from '../errors/index.js';
import { type Json, listOf } from './pod-fields.js';

/**
 * The host ports of a pod spec (ValidatePodSpec's validateHostNetwork and
 * checkHostPortConflicts): under hostNetwork a container's port is the node's, so a hostPort
 * must be the containerPort; and no two regular containers' ports claim the same
 * protocol/hostIP/hostPort of the node.
 */
export function validateHostPorts(spec: Json, path: string): StatusCause[] {
  const causes: StatusCause[] = [];
  const claimed = new Set<string>();
  listOf(spec, 'containers').forEach((c, i) => {
    listOf(c, 'ports').forEach((p, j) => {
      const at = `${path}.containers[${i}].ports[${j}]`;
      const hostPort = typeof p.hostPort === 'number' ? p.hostPort : 0;
      if (spec.hostNetwork === true && hostPort !== 0 && hostPort !== p.containerPort)
        causes.push({
          reason: 'FieldValueInvalid',
          message: `Invalid value: ${JSON.stringify(p.containerPort)}: must match \`hostPort\` when \`hostNetwork\` is true`,
          field: `${at}.containerPort`,
        });
      if (hostPort === 0) return;
      const claim = `${typeof p.protocol === 'string' ? p.protocol : 'TCP'}/${typeof p.hostIP === 'string' ? p.hostIP : ''}/${hostPort}`;
      if (claimed.has(claim))
        causes.push({
          reason: 'FieldValueDuplicate',
          message: `Duplicate value: ${JSON.stringify(claim)}`,
          field: `${at}.hostPort`,
        });
      claimed.add(claim);
    });
  });
  return causes;
}
