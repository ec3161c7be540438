import { type StatusCause } from '../errors/index.js';
import {
  dnsSubdomainErrors,
  labelKeyErrors,
  labelValueErrors,
  maxLenError,
  regexError,
} from '../selectors/label-validation.js';

/** A 63-byte label rule: too long, or not matching `fmt`, each in upstream's words. */
function labelRule(fmt: string, message: string, examples: string[]): (value: string) => string[] {
  const re = new RegExp(`^${fmt}$`);
  return (value) => {
    const errs: string[] = [];
    if (Buffer.byteLength(value) > 63) errs.push(maxLenError(63));
    if (!re.test(value)) errs.push(regexError(message, fmt, examples));
    return errs;
  };
}

/** Reasons `value` is not a lowercase RFC 1123 label (namespace and container names). */
export const dnsLabelErrors = labelRule(
  '[a-z0-9]([-a-z0-9]*[a-z0-9])?',
  "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character",
  ['my-name', '123-abc'],
);

/** Reasons `value` is not an RFC 1035 label (Service names). */
export const dns1035LabelErrors = labelRule(
  '[a-z]([-a-z0-9]*[a-z0-9])?',
  "a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an alphabetic character, and end with an alphanumeric character",
  ['my-name', 'abc-123'],
);

export type NameRule = (name: string) => string[];

/** Which names a kind accepts (upstream's per-kind ValidateName functions). */
export function nameRuleFor(group: string, plural: string): NameRule {
  if (group === '' && plural === 'namespaces') return dnsLabelErrors;
  if (group === '' && plural === 'services') return dns1035LabelErrors;
  // RBAC and a few others accept any path segment name.
  if (group === 'rbac.authorization.k8s.io') return pathSegmentErrors;
  return dnsSubdomainErrors;
}

/** Upstream's path.IsValidPathSegmentName. */
export function pathSegmentErrors(name: string): string[] {
  if (name === '.' || name === '..') return [`may not be '${name}'`];
  const bad = ['/', '%'].find((c) => name.includes(c));
  return bad ? [`may not contain '${bad}'`] : [];
}

function invalid(field: string, value: unknown, message: string): StatusCause {
  return {
    reason: 'FieldValueInvalid',
    message: `Invalid value: ${JSON.stringify(value)}: ${message}`,
    field,
  };
}

export interface MetaToValidate {
  name?: unknown;
  generateName?: unknown;
  labels?: unknown;
  annotations?: unknown;
}

/** ObjectMeta checks every kind shares: the name, labels and annotations (upstream ValidateObjectMeta). */
export function validateObjectMeta(meta: MetaToValidate, rule: NameRule): StatusCause[] {
  const causes: StatusCause[] = [];
  if (meta.name === undefined || meta.name === '') {
    if (!meta.generateName)
      causes.push({
        reason: 'FieldValueRequired',
        message: 'Required value: name or generateName is required',
        field: 'metadata.name',
      });
  } else if (typeof meta.name !== 'string') {
    causes.push(invalid('metadata.name', meta.name, 'must be a string'));
  } else {
    for (const msg of rule(meta.name)) causes.push(invalid('metadata.name', meta.name, msg));
  }
  if (meta.labels !== undefined && meta.labels !== null) {
    if (typeof meta.labels !== 'object' || Array.isArray(meta.labels)) {
      causes.push(invalid('metadata.labels', meta.labels, 'must be a map of strings'));
    } else {
      for (const [k, v] of Object.entries(meta.labels as Record<string, unknown>)) {
        for (const msg of labelKeyErrors(k)) causes.push(invalid('metadata.labels', k, msg));
        if (typeof v !== 'string') causes.push(invalid(`metadata.labels`, v, 'must be a string'));
        else for (const msg of labelValueErrors(v)) causes.push(invalid('metadata.labels', v, msg));
      }
    }
  }
  if (meta.annotations !== undefined && meta.annotations !== null) {
    if (typeof meta.annotations !== 'object' || Array.isArray(meta.annotations)) {
      causes.push(invalid('metadata.annotations', meta.annotations, 'must be a map of strings'));
    } else {
      let total = 0;
      for (const [k, v] of Object.entries(meta.annotations as Record<string, unknown>)) {
        for (const msg of labelKeyErrors(k.toLowerCase()))
          causes.push(invalid('metadata.annotations', k, msg));
        if (typeof v !== 'string') causes.push(invalid('metadata.annotations', v, 'must be a string'));
        total += k.length + (typeof v === 'string' ? v.length : 0);
      }
      if (total > 256 * 1024)
        causes.push({
          reason: 'FieldValueTooLong',
          message: `Too long: may not be more than 262144 bytes`,
          field: 'metadata.annotations',
        });
    }
  }
  return causes;
}
