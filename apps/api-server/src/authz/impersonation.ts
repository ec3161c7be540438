import { dnsLabelErrors, dnsSubdomainErrors, StatusError } from '@app/api';
import { type Actor } from '@app/event-store';

import { serviceAccountUsername } from '../auth/service-account-claims.js';
import { forbidden } from './forbidden.js';
import { type RequestAttributes } from './policy-rules.js';
import { type Decision } from './rbac-authorizer.js';

const USER = 'impersonate-user';
const UID = 'impersonate-uid';
const GROUP = 'impersonate-group';
const EXTRA_PREFIX = 'impersonate-extra-';
const AUTHENTICATED = 'system:authenticated';
const UNAUTHENTICATED = 'system:unauthenticated';
const ANONYMOUS = 'system:anonymous';
const SA_PREFIX = 'system:serviceaccount:';

/** One thing a request asks to act as, and the resource `impersonate` is asked on for it. */
interface Requested {
  kind: 'ServiceAccount' | 'User' | 'Group' | 'UserExtra' | 'UID';
  name: string;
  namespace?: string;
  /** UserExtra: the extra's key (the attribute's subresource). */
  key?: string;
}

/** The request's headers as sent, each occurrence on its own (Node joins repeated ones with commas). */
export type RawHeaders = readonly string[];

/**
 * Upstream's impersonation filter (apiserver endpoints/filters/impersonation.go): the
 * `Impersonate-User`, `-Uid`, `-Group` and `-Extra-<key>` headers (`kubectl --as`,
 * `--as-group`, `--as-uid`) make the request act as another user, once the requester is
 * allowed the `impersonate` verb on each thing asked for: users, groups, serviceaccounts (a
 * `system:serviceaccount:<ns>:<name>` user), uids and userextras/<key>. The acting user
 * gets system:authenticated (or system:unauthenticated as system:anonymous) unless groups say
 * otherwise, and a service account its fixed groups when none are given. The result records
 * who impersonated, for the audit log. Undefined: the request impersonates no one.
 */
export function impersonate(
  requester: Actor,
  rawHeaders: RawHeaders,
  authorize: (a: RequestAttributes) => Decision,
): Actor | undefined {
  const headers = collect(rawHeaders);
  const requests = impersonationRequests(headers);
  if (requests.length === 0) return undefined;
  const groupsSpecified = (headers.get(GROUP) ?? []).length > 0;
  let user = '';
  let uid: string | undefined;
  let groups: string[] = [];
  const extra: Record<string, string[]> = {};
  for (const r of requests) {
    const attributes = actingAs(requester, r);
    const decision = authorize(attributes);
    if (!decision.allowed) throw forbidden(attributes, decision.reason);
    switch (r.kind) {
      case 'ServiceAccount':
        user = serviceAccountUsername(r.namespace!, r.name);
        if (!groupsSpecified) groups = ['system:serviceaccounts', `system:serviceaccounts:${r.namespace}`];
        break;
      case 'User':
        user = r.name;
        break;
      case 'Group':
        groups.push(r.name);
        break;
      case 'UserExtra':
        (extra[r.key!] ??= []).push(r.name);
        break;
      case 'UID':
        uid = r.name;
        break;
    }
  }
  if (user !== ANONYMOUS) {
    if (!groups.includes(AUTHENTICATED) && !groups.includes(UNAUTHENTICATED)) groups.push(AUTHENTICATED);
  } else if (!groups.includes(UNAUTHENTICATED)) groups.push(UNAUTHENTICATED);
  return {
    user,
    ...(uid !== undefined ? { uid } : {}),
    groups,
    ...(Object.keys(extra).length ? { extra } : {}),
    impersonator: { user: requester.user, groups: requester.groups },
  };
}

/** The `impersonate` request for one thing asked for. */
function actingAs(requester: Actor, r: Requested): RequestAttributes {
  const base = {
    user: requester.user,
    groups: requester.groups,
    resourceRequest: true as const,
    verb: 'impersonate',
  };
  switch (r.kind) {
    case 'ServiceAccount':
      return { ...at('', 'serviceaccounts', r.name), namespace: r.namespace!, ...base };
    case 'User':
      return { ...at('', 'users', r.name), ...base };
    case 'Group':
      return { ...at('', 'groups', r.name), ...base };
    case 'UserExtra':
      return { ...at('authentication.k8s.io', 'userextras', r.name), subresource: r.key!, ...base };
    case 'UID':
      return { ...at('authentication.k8s.io', 'uids', r.name), ...base };
  }
}

function at(apiGroup: string, resource: string, name: string) {
  return { apiGroup, apiVersion: 'v1', resource, subresource: '', namespace: '', name };
}

/** buildImpersonationRequests: groups, extras or a uid need a user to go with them. */
function impersonationRequests(headers: Map<string, string[]>): Requested[] {
  const out: Requested[] = [];
  const user = headers.get(USER)?.[0] ?? '';
  if (user) {
    const sa = splitServiceAccount(user);
    out.push(sa ? { kind: 'ServiceAccount', ...sa } : { kind: 'User', name: user });
  }
  for (const name of headers.get(GROUP) ?? []) out.push({ kind: 'Group', name });
  for (const [header, values] of headers) {
    if (!header.startsWith(EXTRA_PREFIX)) continue;
    const key = unescapeExtraKey(header.slice(EXTRA_PREFIX.length));
    for (const name of values) out.push({ kind: 'UserExtra', name, key });
  }
  const uid = headers.get(UID)?.[0] ?? '';
  if (uid) out.push({ kind: 'UID', name: uid });
  if (out.length > 0 && !user)
    throw StatusError.internal(
      `requested ${out.map((r) => `${r.kind} ${JSON.stringify(r.name)}`).join(', ')} without impersonating a user`,
    );
  return out;
}

/** serviceaccount.SplitUsername: a valid namespace and name after the prefix, or not a service account. */
function splitServiceAccount(user: string): { namespace: string; name: string } | undefined {
  if (!user.startsWith(SA_PREFIX)) return undefined;
  const parts = user.slice(SA_PREFIX.length).split(':');
  if (parts.length !== 2) return undefined;
  const [namespace, name] = parts as [string, string];
  if (dnsLabelErrors(namespace).length || dnsSubdomainErrors(name).length) return undefined;
  return { namespace, name };
}

/** unescapeExtraKey: extra keys travel percent-encoded in header names. */
function unescapeExtraKey(encoded: string): string {
  try {
    return decodeURIComponent(encoded);
  } catch {
    return encoded;
  }
}

/** The impersonation headers, by lowercased name, every occurrence kept. */
function collect(raw: RawHeaders): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (let i = 0; i + 1 < raw.length; i += 2) {
    const name = raw[i]!.toLowerCase();
    if (name !== USER && name !== UID && name !== GROUP && !name.startsWith(EXTRA_PREFIX)) continue;
    const values = out.get(name) ?? [];
    values.push(raw[i + 1]!);
    out.set(name, values);
  }
  return out;
}
