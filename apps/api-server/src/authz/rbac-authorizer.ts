import { type StoredObject } from '@app/event-store';

import {
  appliesTo,
  type PolicyRule,
  type RequestAttributes,
  type RoleRef,
  ruleAllows,
  type Subject,
  type UserInfo,
} from './policy-rules.js';

/** The four RBAC kinds as the authorizer reads them (the API server's in-memory caches). */
export interface RbacObjects {
  clusterRoleBindings(): readonly StoredObject[];
  roleBindings(namespace: string): readonly StoredObject[];
  clusterRole(name: string): StoredObject | undefined;
  role(namespace: string, name: string): StoredObject | undefined;
}

export interface Decision {
  allowed: boolean;
  /** Why: the binding that allowed it, or what could not be resolved on the way to a denial. */
  reason: string;
}

/** The rules that apply to a user in a namespace, and the references that could not be resolved. */
export interface ResolvedRules {
  rules: PolicyRule[];
  errors: string[];
}

/** Members bypass RBAC altogether, as kube-apiserver's privileged-group authorizer lets them. */
export const PRIVILEGED_GROUP = 'system:masters';

interface Binding {
  kind: 'ClusterRoleBinding' | 'RoleBinding';
  name: string;
  namespace: string;
  roleRef: RoleRef;
  subjects: Subject[];
}

/**
 * Upstream's RBAC authorizer (plugin/pkg/auth/authorizer/rbac): allow when some rule of some
 * role bound to the user matches, cluster bindings first, then the bindings of the request's
 * namespace; otherwise no opinion, which with no other authorizer is a denial. Permissions only
 * add up: there is no deny rule. The `system:masters` group is allowed everything before RBAC
 * is asked.
 */
export class RbacAuthorizer {
  constructor(private readonly objects: RbacObjects) {}

  authorize(a: RequestAttributes): Decision {
    if (a.groups.includes(PRIVILEGED_GROUP)) return { allowed: true, reason: '' };
    const errors: string[] = [];
    const namespace = a.resourceRequest ? a.namespace : '';
    for (const binding of this.bindings(namespace)) {
      const subject = binding.subjects.find((s) => appliesTo(s, a, binding.namespace));
      if (!subject) continue;
      const rules = this.roleRules(binding.roleRef, binding.namespace);
      if ('error' in rules) {
        errors.push(rules.error);
        continue;
      }
      if (rules.some((r) => ruleAllows(a, r)))
        return { allowed: true, reason: `RBAC: allowed by ${describe(binding, subject)}` };
    }
    return { allowed: false, reason: errors.length ? `RBAC: ${aggregate(errors)}` : '' };
  }

  /** Every rule bound to `who` at cluster scope and, given one, in `namespace` (RulesFor). */
  rulesFor(who: UserInfo, namespace: string): ResolvedRules {
    const out: ResolvedRules = { rules: [], errors: [] };
    for (const binding of this.bindings(namespace)) {
      if (!binding.subjects.some((s) => appliesTo(s, who, binding.namespace))) continue;
      const rules = this.roleRules(binding.roleRef, binding.namespace);
      if ('error' in rules) out.errors.push(rules.error);
      else out.rules.push(...rules);
    }
    return out;
  }

  /** GetRoleReferenceRules: the rules of the role `ref` names, seen from a binding in `namespace`. */
  roleRules(ref: RoleRef, namespace: string): PolicyRule[] | { error: string } {
    let role: StoredObject | undefined;
    switch (ref.kind) {
      case 'ClusterRole':
        role = this.objects.clusterRole(ref.name);
        break;
      case 'Role':
        role = this.objects.role(namespace, ref.name);
        break;
      default:
        return { error: `unsupported role reference kind: ${JSON.stringify(ref.kind)}` };
    }
    if (!role)
      return {
        error: `${ref.kind.toLowerCase()}.rbac.authorization.k8s.io ${JSON.stringify(ref.name)} not found`,
      };
    return Array.isArray(role.rules) ? (role.rules as PolicyRule[]) : [];
  }

  private *bindings(namespace: string): Iterable<Binding> {
    for (const o of this.objects.clusterRoleBindings()) yield bindingOf('ClusterRoleBinding', o);
    if (namespace) for (const o of this.objects.roleBindings(namespace)) yield bindingOf('RoleBinding', o);
  }
}

function bindingOf(kind: Binding['kind'], o: StoredObject): Binding {
  return {
    kind,
    name: String(o.metadata.name ?? ''),
    namespace: String(o.metadata.namespace ?? ''),
    roleRef: (o.roleRef ?? { kind: '', name: '' }) as RoleRef,
    subjects: Array.isArray(o.subjects) ? (o.subjects as Subject[]) : [],
  };
}

/** The allowing binding as upstream's describers word it. */
function describe(b: Binding, s: Subject): string {
  const who =
    s.kind === 'ServiceAccount'
      ? `${s.kind} ${JSON.stringify(`${s.name}/${s.namespace || b.namespace}`)}`
      : `${s.kind} ${JSON.stringify(s.name)}`;
  const name = b.kind === 'RoleBinding' ? `${b.name}/${b.namespace}` : b.name;
  return `${b.kind} ${JSON.stringify(name)} of ${b.roleRef.kind} ${JSON.stringify(b.roleRef.name)} to ${who}`;
}

/** utilerrors.NewAggregate's message: one error as itself, several in brackets. */
function aggregate(errors: readonly string[]): string {
  return errors.length === 1 ? errors[0] : `[${errors.join(', ')}]`;
}
