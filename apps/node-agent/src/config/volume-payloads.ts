import { aggregate } from '@app/api';

import { type Pod } from '../api-types.js';
import { type FileProjection } from './atomic-writer.js';
import { extractFieldPathAsString } from './field-path.js';
import { type ConfigMap, type DownwardAPIVolumeFile, type KeyToPath, type Secret } from './kube-types.js';
import { type NodeAllocatable, resourceFieldValue } from './resources.js';

export type Payload = Map<string, FileProjection>;

/** The API server's default for every one of these volume kinds (0644). */
export const DEFAULT_MODE = 0o644;

/**
 * pkg/volume/configmap MakePayload: every key (data and binaryData) as a file, or only the
 * listed items at their paths; a listed key that is missing fails unless the source is optional.
 */
export function configMapPayload(
  items: readonly KeyToPath[] | undefined,
  configMap: Pick<ConfigMap, 'data' | 'binaryData'>,
  defaultMode: number,
  optional: boolean,
): Payload {
  const lookup = (key: string): Buffer | undefined => {
    const text = configMap.data?.[key];
    if (text !== undefined) return Buffer.from(text, 'utf8');
    const binary = configMap.binaryData?.[key];
    return binary !== undefined ? Buffer.from(binary, 'base64') : undefined;
  };
  const keys = [...Object.keys(configMap.data ?? {}), ...Object.keys(configMap.binaryData ?? {})];
  return keyedPayload(
    items,
    keys,
    lookup,
    defaultMode,
    optional,
    'configmap references non-existent config key',
  );
}

/** pkg/volume/secret MakePayload: the same for a Secret's (base64) data. */
export function secretPayload(
  items: readonly KeyToPath[] | undefined,
  secret: Pick<Secret, 'data'>,
  defaultMode: number,
  optional: boolean,
): Payload {
  const lookup = (key: string): Buffer | undefined => {
    const value = secret.data?.[key];
    return value !== undefined ? Buffer.from(value, 'base64') : undefined;
  };
  return keyedPayload(
    items,
    Object.keys(secret.data ?? {}),
    lookup,
    defaultMode,
    optional,
    'references non-existent secret key',
  );
}

function keyedPayload(
  items: readonly KeyToPath[] | undefined,
  keys: readonly string[],
  lookup: (key: string) => Buffer | undefined,
  defaultMode: number,
  optional: boolean,
  missing: string,
): Payload {
  const payload: Payload = new Map();
  if (!items || items.length === 0) {
    for (const key of keys) payload.set(key, { data: lookup(key)!, mode: defaultMode });
    return payload;
  }
  for (const item of items) {
    const data = lookup(item.key);
    if (data === undefined) {
      if (optional) continue;
      throw new Error(`${missing}: ${item.key}`);
    }
    payload.set(item.path, { data, mode: item.mode ?? defaultMode });
  }
  return payload;
}

/**
 * pkg/volume/downwardapi CollectData: each item's metadata field or container resource as a
 * file. Every failing item is reported, not only the first.
 */
export function downwardApiPayload(
  items: readonly DownwardAPIVolumeFile[],
  pod: Pod,
  defaultMode: number,
  allocatable: NodeAllocatable,
): Payload {
  const payload: Payload = new Map();
  const errors: string[] = [];
  for (const item of items) {
    const mode = item.mode ?? defaultMode;
    try {
      if (item.fieldRef) {
        payload.set(item.path, {
          data: Buffer.from(extractFieldPathAsString(pod, item.fieldRef.fieldPath)),
          mode,
        });
      } else if (item.resourceFieldRef) {
        // In a volume the container is named in the selector (validation requires it).
        const value = resourceFieldValue(item.resourceFieldRef, pod, undefined, allocatable);
        payload.set(item.path, { data: Buffer.from(value), mode });
      }
    } catch (e) {
      errors.push((e as Error).message);
    }
  }
  const failed = aggregate(errors);
  if (failed) throw new Error(failed);
  return payload;
}
