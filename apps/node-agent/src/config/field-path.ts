import { goQuote } from '@app/api';

import { type Pod } from '../api-types.js';
import { type ObjectFieldSelector } from './kube-types.js';

/** The node's addresses and the pod's, as the kubelet knows them when it starts a container. */
export interface PodAddresses {
  /** The node's IPs, first the primary one (status.hostIP). */
  hostIPs: readonly string[];
  /** The sandbox's IPs, first the primary one (status.podIP). */
  podIPs: readonly string[];
}

/**
 * The value of an env var's `fieldRef` (kubelet_pods.go podFieldSelectorRuntimeValue): node and
 * address fields from what the kubelet knows, everything else from the pod's metadata.
 */
export function podFieldValue(selector: ObjectFieldSelector, pod: Pod, addresses: PodAddresses): string {
  const path = convertDownwardAPIFieldLabel(selector.apiVersion ?? 'v1', selector.fieldPath);
  switch (path) {
    case 'spec.nodeName':
      return pod.spec?.nodeName ?? '';
    case 'spec.serviceAccountName':
      return pod.spec?.serviceAccountName ?? '';
    case 'status.hostIP':
      return requireHostIPs(addresses)[0]!;
    case 'status.hostIPs':
      return requireHostIPs(addresses).join(',');
    case 'status.podIP':
      return addresses.podIPs[0] ?? '';
    case 'status.podIPs':
      return addresses.podIPs.join(',');
  }
  return extractFieldPathAsString(pod, path);
}

/** getHostIPsAnyWay fails the same way when the node has no address yet. */
function requireHostIPs(addresses: PodAddresses): readonly string[] {
  if (addresses.hostIPs.length === 0) throw new Error('host IP unknown; known addresses: []');
  return addresses.hostIPs;
}

/** pkg/apis/core/pods ConvertDownwardAPIFieldLabel: the field paths a pod's downward API accepts. */
function convertDownwardAPIFieldLabel(version: string, label: string): string {
  if (version !== 'v1') throw new Error(`unsupported pod version: ${version}`);
  const subscripted = splitMaybeSubscriptedPath(label);
  if (subscripted) {
    if (subscripted.path === 'metadata.annotations' || subscripted.path === 'metadata.labels') return label;
    throw new Error(`field label does not support subscript: ${label}`);
  }
  switch (label) {
    case 'metadata.annotations':
    case 'metadata.labels':
    case 'metadata.name':
    case 'metadata.namespace':
    case 'metadata.uid':
    case 'spec.nodeName':
    case 'spec.restartPolicy':
    case 'spec.serviceAccountName':
    case 'spec.schedulerName':
    case 'status.phase':
    case 'status.hostIP':
    case 'status.hostIPs':
    case 'status.podIP':
    case 'status.podIPs':
      return label;
    case 'spec.host':
      // Old v1 clients' name for spec.nodeName.
      return 'spec.nodeName';
    default:
      throw new Error(`field label not supported: ${label}`);
  }
}

/**
 * pkg/fieldpath ExtractFieldPathAsString: the metadata fields (what downwardAPI volume files
 * may hold). Whole label and annotation maps render as FormatMap's sorted `key="value"` lines.
 */
export function extractFieldPathAsString(pod: Pod, fieldPath: string): string {
  const meta = pod.metadata ?? {};
  const subscripted = splitMaybeSubscriptedPath(fieldPath);
  if (subscripted) {
    const { path, subscript } = subscripted;
    if (path !== 'metadata.annotations' && path !== 'metadata.labels')
      throw new Error(`fieldPath ${JSON.stringify(fieldPath)} does not support subscript`);
    const problem = qualifiedNameProblem(subscript.toLowerCase());
    if (problem) throw new Error(`invalid key subscript in ${fieldPath}: ${problem}`);
    const map = path === 'metadata.annotations' ? meta.annotations : meta.labels;
    return map?.[subscript] ?? '';
  }
  switch (fieldPath) {
    case 'metadata.annotations':
      return formatMap(meta.annotations ?? {});
    case 'metadata.labels':
      return formatMap(meta.labels ?? {});
    case 'metadata.name':
      return meta.name ?? '';
    case 'metadata.namespace':
      return meta.namespace ?? '';
    case 'metadata.uid':
      return meta.uid ?? '';
  }
  throw new Error(`unsupported fieldPath: ${fieldPath}`);
}

/** SplitMaybeSubscriptedPath: `metadata.labels['app']` → path and subscript. */
function splitMaybeSubscriptedPath(fieldPath: string): { path: string; subscript: string } | undefined {
  if (!fieldPath.endsWith("']")) return undefined;
  const s = fieldPath.slice(0, -2);
  const at = s.indexOf("['");
  if (at <= 0 || at + 2 >= s.length) return undefined;
  return { path: s.slice(0, at), subscript: s.slice(at + 2) };
}

const QUALIFIED_NAME = /^([A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?)$/;
const DNS1123_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

/** apimachinery IsQualifiedName, reduced to one message: `[prefix/]name`. */
function qualifiedNameProblem(value: string): string | undefined {
  const parts = value.split('/');
  const name = parts.length === 2 ? parts[1]! : parts[0]!;
  if (parts.length > 2) return 'a qualified name must consist of an optional DNS subdomain prefix and a name';
  if (parts.length === 2 && (parts[0] === '' || parts[0]!.length > 253 || !DNS1123_SUBDOMAIN.test(parts[0]!)))
    return 'prefix part must be a valid DNS subdomain';
  if (name === '' || name.length > 63 || !QUALIFIED_NAME.test(name))
    return "name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character";
  return undefined;
}

/** fieldpath.FormatMap: `key="value"` lines (Go-quoted), sorted by key, no trailing newline. */
export function formatMap(m: Readonly<Record<string, string>>): string {
  return Object.keys(m)
    .sort()
    .map((k) => `${k}=${goQuote(m[k]!)}`)
    .join('\n');
}
