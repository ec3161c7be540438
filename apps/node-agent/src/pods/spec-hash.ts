import { createHash } from 'node:crypto';

import { type Container } from '../api-types.js';

/**
 * The hash of a container's spec that the kubelet labels each container with
 * (`io.kubernetes.container.hash`, pkg/kubelet/container/helpers.go HashContainer): a running
 * container whose spec hash differs from the pod's current spec — a new image from
 * `kubectl set image` — is killed and started again. Resources are left out, as upstream
 * does since in-place resize, so a resize alone never restarts anything.
 */
export function hashContainer(container: Container): string {
  const { resources: _resources, ...rest } = container;
  return createHash('sha256').update(stableJson(rest)).digest('hex').slice(0, 8);
}

/** JSON with object keys sorted, so equal specs hash equal however the server ordered them. */
export function stableJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(stableJson).join(',')}]`;
  if (value && typeof value === 'object')
    return `{${Object.keys(value)
      .sort()
      .filter((k) => (value as Record<string, unknown>)[k] !== undefined)
      .map((k) => `${JSON.stringify(k)}:${stableJson((value as Record<string, unknown>)[k])}`)
      .join(',')}}`;
  return JSON.stringify(value);
}
