import { type StatusCause } from '../errors/index.js';

/** Upstream's MaxSecretSize, which ConfigMaps share: the data of one object, in bytes. */
export const MAX_CONFIG_DATA_BYTES = 1024 * 1024;

const CONFIG_MAP_KEY_FMT = '[-._a-zA-Z0-9]+';
const CONFIG_MAP_KEY_RE = new RegExp(`^${CONFIG_MAP_KEY_FMT}$`);
const BASE64_RE = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

type Json = Record<string, unknown>;

function invalid(field: string, value: unknown, message: string): StatusCause {
  return {
    reason: 'FieldValueInvalid',
    message: `Invalid value: ${JSON.stringify(value)}: ${message}`,
    field,
  };
}

/** Upstream's IsConfigMapKey: a file name, as the key becomes one when the data is mounted. */
export function configMapKeyErrors(key: string): string[] {
  const errs: string[] = [];
  if (Buffer.byteLength(key) > 253) errs.push('must be no more than 253 bytes');
  if (!CONFIG_MAP_KEY_RE.test(key))
    errs.push(
      `a valid config key must consist of alphanumeric characters, '-', '_' or '.' (e.g. 'key.name',  or 'KEY_NAME',  or 'key-name', regex used for validation is '${CONFIG_MAP_KEY_FMT}')`,
    );
  if (key === '.') errs.push("must not be '.'");
  else if (key === '..') errs.push("must not be '..'");
  else if (key.startsWith('..')) errs.push("must not start with '..'");
  return errs;
}

interface DataMap {
  field: string;
  /** The bytes a value stands for: the text itself, or what its base64 decodes to. */
  size: (value: string) => number | undefined;
}

const text: DataMap['size'] = (v) => Buffer.byteLength(v);
const base64: DataMap['size'] = (v) => (BASE64_RE.test(v) ? Buffer.from(v, 'base64').length : undefined);

/** Keys, value types and the 1 MiB total of the maps of a ConfigMap or Secret. */
function validateDataMaps(o: Json, maps: DataMap[]): StatusCause[] {
  const causes: StatusCause[] = [];
  const seen = new Set<string>();
  let total = 0;
  for (const { field, size } of maps) {
    const m = o[field];
    if (m === undefined || m === null) continue;
    if (typeof m !== 'object' || Array.isArray(m)) {
      causes.push(invalid(field, m, 'must be a map of strings'));
      continue;
    }
    for (const [k, v] of Object.entries(m as Json)) {
      for (const msg of configMapKeyErrors(k)) causes.push(invalid(field, k, msg));
      if (seen.has(k) && field !== 'stringData')
        causes.push({
          reason: 'FieldValueDuplicate',
          message: `Duplicate value: ${JSON.stringify(k)}`,
          field,
        });
      seen.add(k);
      if (typeof v !== 'string') {
        causes.push(invalid(`${field}[${k}]`, v, 'must be a string'));
        continue;
      }
      const bytes = size(v);
      if (bytes === undefined)
        causes.push(invalid(`${field}[${k}]`, '<value omitted>', 'must be base64-encoded'));
      else total += bytes;
    }
  }
  if (total > MAX_CONFIG_DATA_BYTES)
    causes.push({
      reason: 'FieldValueTooLong',
      message: `Too long: may not be more than ${MAX_CONFIG_DATA_BYTES} bytes`,
      field: 'data',
    });
  return causes;
}

/** A ConfigMap's data and binaryData: file-name keys, in one or the other, 1 MiB in all. */
export function validateConfigMap(o: Json): StatusCause[] {
  return validateDataMaps(o, [
    { field: 'data', size: text },
    { field: 'binaryData', size: base64 },
  ]);
}

/** A Secret's data (base64) and stringData (text, written into data): file-name keys, 1 MiB in all. */
export function validateSecret(o: Json): StatusCause[] {
  return validateDataMaps(o, [
    { field: 'data', size: base64 },
    { field: 'stringData', size: text },
  ]);
}
