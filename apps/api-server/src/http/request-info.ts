import { StatusError } from '@app/api';

import { storableString } from './request-decoding.js';

/**
 * What a request path addresses, in the apiserver's terms (its RequestInfoFactory):
 *
 *   /api/v1[/namespaces/{ns}]/{resource}[/{name}[/{subresource}]]
 *   /apis/{group}/{version}[/namespaces/{ns}]/{resource}[/{name}[/{subresource}]]
 *   /api/v1/watch/... and /apis/{g}/{v}/watch/...   (the legacy watch prefix)
 *
 * `/api/v1/namespaces/{name}` is the namespace itself, not a namespace scope.
 */
export interface ResourcePath {
  group: string;
  version: string;
  resource: string;
  namespace?: string;
  name?: string;
  subresource?: string;
  /** Came with the legacy `/watch/` prefix. */
  watchPrefix: boolean;
}

/** One %-decoded path segment; a malformed escape or a NUL (no name has one; Postgres text cannot) is a 400. */
function decodeSegment(segment: string): string {
  let decoded: string;
  try {
    decoded = decodeURIComponent(segment);
  } catch {
    throw StatusError.badRequest(`invalid escape in the request path: ${JSON.stringify(segment)}`);
  }
  if (!storableString(decoded))
    throw StatusError.badRequest(`invalid character in the request path: ${JSON.stringify(segment)}`);
  return decoded;
}

const NAMESPACE_SUBRESOURCES = new Set(['status', 'finalize']);

export function parseResourcePath(path: string): ResourcePath | undefined {
  const parts = path.split('/').filter(Boolean).map(decodeSegment);
  let group: string;
  let rest: string[];
  if (parts[0] === 'api' && parts.length >= 3) {
    group = '';
    rest = parts.slice(1);
  } else if (parts[0] === 'apis' && parts.length >= 4) {
    group = parts[1];
    rest = parts.slice(2);
  } else {
    return undefined;
  }
  const [version, ...segments] = rest;
  let watchPrefix = false;
  if (segments[0] === 'watch') {
    watchPrefix = true;
    segments.shift();
  }
  let namespace: string | undefined;
  // namespaces/{ns}/{resource}...: a namespace scope; namespaces[/{name}[/status|finalize]]: the
  // namespace itself (its subresources).
  if (segments[0] === 'namespaces' && segments.length >= 3 && !NAMESPACE_SUBRESOURCES.has(segments[2])) {
    namespace = segments[1];
    segments.splice(0, 2);
  }
  const [resource, name, subresource, ...extra] = segments;
  if (!resource || extra.length > 0) return undefined;
  return { group, version, resource, namespace, name, subresource, watchPrefix };
}

/** A watch: the legacy `/watch/` prefix, or `watch=true` (or `1`) in the query. */
export function isWatch(path: ResourcePath, query: Record<string, string | undefined>): boolean {
  return path.watchPrefix || query.watch === 'true' || query.watch === '1';
}
