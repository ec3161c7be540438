/**
 * RBAC's matching rules, as upstream writes them in plugin/pkg/auth/authorizer/rbac/rbac.go
 * (RuleAllows, appliesTo) and pkg/apis/rbac/v1/evaluation_helpers.go, and the coverage check
 * the escalation rules rest on (pkg/registry/rbac/validation/policy_comparator.go: Covers,
 * BreakdownRule, ruleCovers). Pure: no objects, no I/O.
 */
import { type Actor } from '@app/event-store';

import { serviceAccountUsername } from '../auth/service-account-claims.js';

export interface PolicyRule {
  verbs: string[];
  apiGroups?: string[];
  resources?: string[];
  resourceNames?: string[];
  nonResourceURLs?: string[];
}

export interface Subject {
  kind: string;
  name: string;
  namespace?: string;
  apiGroup?: string;
}

export interface RoleRef {
  apiGroup?: string;
  kind: string;
  name: string;
}

/** Who asks: what of the authenticated actor RBAC reads. */
export type UserInfo = Pick<Actor, 'user' | 'groups'>;

/** What a request asks to do, in the authorizer's terms (upstream's authorizer.Attributes). */
export type RequestAttributes = UserInfo & { verb: string } & (
    | {
        resourceRequest: true;
        apiGroup: string;
        apiVersion: string;
        resource: string;
        subresource: string;
        namespace: string;
        name: string;
      }
    | { resourceRequest: false; path: string }
  );

const ALL = '*';

const has = (set: readonly string[] | undefined, item: string) => (set ?? []).includes(item);
const hasAll = (set: readonly string[] | undefined, items: readonly string[] | undefined) =>
  (items ?? []).every((i) => has(set, i));

/** rbacv1helpers.VerbMatches. */
function verbMatches(rule: PolicyRule, verb: string): boolean {
  return has(rule.verbs, ALL) || has(rule.verbs, verb);
}

/** rbacv1helpers.APIGroupMatches. */
function apiGroupMatches(rule: PolicyRule, group: string): boolean {
  return has(rule.apiGroups, ALL) || has(rule.apiGroups, group);
}

/**
 * rbacv1helpers.ResourceMatches: `*`, the resource with its subresource (`pods/log`), or
 * `*\/<subresource>` for that subresource of every resource.
 */
function resourceMatches(rule: PolicyRule, resource: string, subresource: string): boolean {
  const combined = subresource ? `${resource}/${subresource}` : resource;
  for (const r of rule.resources ?? []) {
    if (r === ALL || r === combined) return true;
    if (!subresource) continue;
    if (r.length === subresource.length + 2 && r.startsWith('*/') && r.endsWith(subresource)) return true;
  }
  return false;
}

/** rbacv1helpers.ResourceNameMatches: a rule without names allows every name. */
function resourceNameMatches(rule: PolicyRule, name: string): boolean {
  const names = rule.resourceNames ?? [];
  return names.length === 0 || names.includes(name);
}

/** rbacv1helpers.NonResourceURLMatches: exact, `*`, or a trailing `*` as a prefix glob. */
function nonResourceURLMatches(rule: PolicyRule, path: string): boolean {
  return (rule.nonResourceURLs ?? []).some((u) => urlCovers(u, path));
}

function urlCovers(owner: string, path: string): boolean {
  if (owner === ALL || owner === path) return true;
  return owner.endsWith('*') && path.startsWith(owner.replace(/\*+$/, ''));
}

/** rbac.RuleAllows. */
export function ruleAllows(a: RequestAttributes, rule: PolicyRule): boolean {
  if (a.resourceRequest)
    return (
      verbMatches(rule, a.verb) &&
      apiGroupMatches(rule, a.apiGroup) &&
      resourceMatches(rule, a.resource, a.subresource) &&
      resourceNameMatches(rule, a.name)
    );
  return verbMatches(rule, a.verb) && nonResourceURLMatches(rule, a.path);
}

/**
 * rbac's appliesToUser: a ServiceAccount subject without a namespace means the binding's own
 * namespace (none for a cluster binding, which then matches nobody).
 */
export function appliesTo(subject: Subject, who: UserInfo, bindingNamespace: string): boolean {
  switch (subject.kind) {
    case 'User':
      return who.user === subject.name;
    case 'Group':
      return who.groups.includes(subject.name);
    case 'ServiceAccount': {
      const ns = subject.namespace || bindingNamespace;
      return ns !== '' && who.user === serviceAccountUsername(ns, subject.name);
    }
    default:
      return false;
  }
}

/** BreakdownRule: one verb, one group, one resource and at most one name each. */
function breakdownRule(rule: PolicyRule): PolicyRule[] {
  const out: PolicyRule[] = [];
  for (const group of rule.apiGroups ?? [])
    for (const resource of rule.resources ?? [])
      for (const verb of rule.verbs) {
        const names = rule.resourceNames ?? [];
        if (names.length === 0) out.push({ apiGroups: [group], resources: [resource], verbs: [verb] });
        else
          for (const name of names)
            out.push({ apiGroups: [group], resources: [resource], verbs: [verb], resourceNames: [name] });
      }
  for (const url of rule.nonResourceURLs ?? [])
    for (const verb of rule.verbs) out.push({ nonResourceURLs: [url], verbs: [verb] });
  return out;
}

function resourceCoversAll(owner: readonly string[] | undefined, wanted: readonly string[] | undefined) {
  if (has(owner, ALL) || hasAll(owner, wanted)) return true;
  return (wanted ?? []).every((path) => {
    if (has(owner, path)) return true;
    const slash = path.indexOf('/');
    return slash >= 0 && has(owner, `*/${path.slice(slash + 1)}`);
  });
}

/** ruleCovers: `owner` (any shape) grants everything `sub` (one of breakdownRule's) does. */
function ruleCovers(owner: PolicyRule, sub: PolicyRule): boolean {
  const verbs = has(owner.verbs, ALL) || hasAll(owner.verbs, sub.verbs);
  const groups = has(owner.apiGroups, ALL) || hasAll(owner.apiGroups, sub.apiGroups);
  const resources = resourceCoversAll(owner.resources, sub.resources);
  const urls = (sub.nonResourceURLs ?? []).every((p) =>
    (owner.nonResourceURLs ?? []).some((o) => urlCovers(o, p)),
  );
  const ownerNames = owner.resourceNames ?? [];
  const names =
    (sub.resourceNames ?? []).length === 0
      ? ownerNames.length === 0
      : ownerNames.length === 0 || hasAll(ownerNames, sub.resourceNames);
  return verbs && groups && resources && names && urls;
}

/** Covers: whether `owner` grants all of `servant`, and the atomic rules it does not. */
export function covers(owner: readonly PolicyRule[], servant: readonly PolicyRule[]): PolicyRule[] {
  return servant.flatMap(breakdownRule).filter((sub) => !owner.some((o) => ruleCovers(o, sub)));
}

/**
 * CompactRules: rules of one group, one resource and at most one name (the atoms Covers
 * reports missing) that differ only in their verbs become one rule with all of them.
 */
export function compactRules(rules: readonly PolicyRule[]): PolicyRule[] {
  const out: PolicyRule[] = [];
  const simple = new Map<string, PolicyRule>();
  for (const r of rules) {
    const [group, ...moreGroups] = r.apiGroups ?? [];
    const [resource, ...moreResources] = r.resources ?? [];
    const names = r.resourceNames ?? [];
    const isSimple =
      group !== undefined &&
      resource !== undefined &&
      moreGroups.length === 0 &&
      moreResources.length === 0 &&
      names.length <= 1 &&
      (r.nonResourceURLs ?? []).length === 0;
    if (!isSimple) {
      out.push(r);
      continue;
    }
    const key = JSON.stringify([group, resource, names]);
    const seen = simple.get(key);
    if (seen) seen.verbs.push(...r.verbs);
    else {
      const copy: PolicyRule = { apiGroups: [group], resources: [resource], verbs: [...r.verbs] };
      if (names.length) copy.resourceNames = [...names];
      simple.set(key, copy);
      out.push(copy);
    }
  }
  return out;
}

/** Go's %q of a []string: `["a" "b"]`. */
function quotedList(items: readonly string[]): string {
  return `[${items.map((i) => JSON.stringify(i)).join(' ')}]`;
}

/** rbacv1helpers.CompactString: `{APIGroups:["apps"], Resources:["deployments"], Verbs:["get" "list"]}`. */
export function compactString(r: PolicyRule): string {
  const parts: string[] = [];
  if (r.apiGroups?.length) parts.push(`APIGroups:${quotedList(r.apiGroups)}`);
  if (r.resources?.length) parts.push(`Resources:${quotedList(r.resources)}`);
  if (r.nonResourceURLs?.length) parts.push(`NonResourceURLs:${quotedList(r.nonResourceURLs)}`);
  if (r.resourceNames?.length) parts.push(`ResourceNames:${quotedList(r.resourceNames)}`);
  if (r.verbs.length) parts.push(`Verbs:${quotedList(r.verbs)}`);
  return `{${parts.join(', ')}}`;
}
