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
  finalizers?: unknown;
  ownerReferences?: unknown;
}

/** Upstream's TotalAnnotationSizeLimitB: the keys and values of all annotations, in bytes. */
export const MAX_ANNOTATIONS_BYTES = 256 * 1024;

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
      // Bytes, as Go's len() counts them: UTF-16 units would let multi-byte text past the limit.
      let total = 0;
      for (const [k, v] of Object.entries(meta.annotations as Record<string, unknown>)) {
        for (const msg of labelKeyErrors(k.toLowerCase()))
          causes.push(invalid('metadata.annotations', k, msg));
        if (typeof v !== 'string') causes.push(invalid('metadata.annotations', v, 'must be a string'));
        total += Buffer.byteLength(k) + (typeof v === 'string' ? Buffer.byteLength(v) : 0);
      }
      if (total > MAX_ANNOTATIONS_BYTES)
        causes.push({
          reason: 'FieldValueTooLong',
          message: `Too long: may not be more than ${MAX_ANNOTATIONS_BYTES} bytes`,
          field: 'metadata.annotations',
        });
    }
  }
  causes.push(...validateFinalizers(meta.finalizers), ...validateOwnerReferences(meta.ownerReferences));
  return causes;
}

/** Upstream's ValidateFinalizers: qualified names, and not both orphan and foregroundDeletion. */
function validateFinalizers(finalizers: unknown): StatusCause[] {
  if (finalizers === undefined || finalizers === null) return [];
  if (!Array.isArray(finalizers))
    return [invalid('metadata.finalizers', finalizers, 'must be a list of strings')];
  const causes: StatusCause[] = [];
  finalizers.forEach((f: unknown, i) => {
    if (typeof f !== 'string') causes.push(invalid(`metadata.finalizers[${i}]`, f, 'must be a string'));
    else for (const msg of labelKeyErrors(f)) causes.push(invalid(`metadata.finalizers[${i}]`, f, msg));
  });
  if (finalizers.includes('orphan') && finalizers.includes('foregroundDeletion'))
    causes.push(
      invalid(
        'metadata.finalizers',
        finalizers,
        'finalizer orphan and foregroundDeletion cannot be both set',
      ),
    );
  return causes;
}

/** Upstream's ValidateOwnerReferences: each names what it points at, and at most one is the controller. */
function validateOwnerReferences(refs: unknown): StatusCause[] {
  if (refs === undefined || refs === null) return [];
  if (!Array.isArray(refs)) return [invalid('metadata.ownerReferences', refs, 'must be a list')];
  const causes: StatusCause[] = [];
  const controllers: string[] = [];
  refs.forEach((ref: unknown, i) => {
    const at = `metadata.ownerReferences[${i}]`;
    if (typeof ref !== 'object' || ref === null || Array.isArray(ref)) {
      causes.push(invalid(at, ref, 'must be an object'));
      return;
    }
    const r = ref as Record<string, unknown>;
    for (const f of ['apiVersion', 'kind', 'name', 'uid'])
      if (typeof r[f] !== 'string' || r[f] === '')
        causes.push({
          reason: 'FieldValueRequired',
          message: `Required value: ${f} must not be empty`,
          field: `${at}.${f}`,
        });
    if (r.controller === true) controllers.push(`${JSON.stringify(r.kind)}/${JSON.stringify(r.name)}`);
  });
  if (controllers.length > 1)
    causes.push(
      invalid(
        'metadata.ownerReferences',
        refs,
        `Only one reference can have Controller set to true. Found "true" in references for ${controllers.join(' and ')}`,
      ),
    );
  return causes;
}
