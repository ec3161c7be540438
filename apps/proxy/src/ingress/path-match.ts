import { type PathType } from './ingress-types.js';

/**
 * Whether a request path matches an Ingress path (networking/v1 semantics, the "Examples" table
 * of the Ingress docs): Exact compares the whole path, case-sensitively; Prefix compares
 * element by element, split on `/`, a trailing slash on either side ignored — `/foo` matches
 * `/foo`, `/foo/` and `/foo/bar` but not `/foobar` — and `/` matches every path.
 * ImplementationSpecific is Prefix here (ingress-nginx treats it as its own prefix match too).
 */
export function pathMatches(type: PathType, rulePath: string, requestPath: string): boolean {
  if (type === 'Exact') return requestPath === rulePath;
  const prefix = trimTrailingSlashes(rulePath);
  if (prefix === '') return true;
  return requestPath === prefix || requestPath.startsWith(`${prefix}/`);
}

/** The length a match is ranked by: the Ingress path without its trailing slashes for a prefix. */
export function matchLength(type: PathType, rulePath: string): number {
  return type === 'Exact' ? rulePath.length : trimTrailingSlashes(rulePath).length;
}

function trimTrailingSlashes(p: string): string {
  let end = p.length;
  while (end > 0 && p[end - 1] === '/') end--;
  return p.slice(0, end);
}

/**
 * Whether a request host matches a rule's host: exact, or `*.foo.com` for exactly one more
 * label (`bar.foo.com`, not `foo.com` nor `baz.bar.foo.com`), as the Ingress docs' hostname
 * wildcards say. Both sides are compared lower-cased.
 */
export function hostMatches(ruleHost: string, requestHost: string): boolean {
  const rule = ruleHost.toLowerCase();
  const host = requestHost.toLowerCase();
  if (!rule.startsWith('*.')) return rule === host;
  const dot = host.indexOf('.');
  return dot > 0 && host.slice(dot) === rule.slice(1);
}

/** The host a Host header names, without its port and lower-cased (`[::1]:80` → `::1`). */
export function requestHostName(header: string | undefined): string {
  const h = (header ?? '').trim().toLowerCase();
  if (h.startsWith('[')) {
    const close = h.indexOf(']');
    return close > 0 ? h.slice(1, close) : h;
  }
  const colon = h.indexOf(':');
  // More than one colon: a bare IPv6 address, which has no port.
  return colon >= 0 && h.indexOf(':', colon + 1) < 0 ? h.slice(0, colon) : h;
}

/** The path of a request target, without its query (`/a/b?x=1` → `/a/b`); `*` or an absolute URL as their path. */
export function requestPath(url: string | undefined): string {
  let u = url ?? '/';
  if (!u.startsWith('/')) {
    try {
      u = new URL(u).pathname;
    } catch {
      // Not a URL (`*` of OPTIONS): routed as the root.
      return '/';
    }
  }
  const q = u.search(/[?#]/);
  return q >= 0 ? u.slice(0, q) : u;
}
