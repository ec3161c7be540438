import { isDeepStrictEqual } from 'node:util';

import { type ResourceType, StatusError } from '@app/api';
import { type StoredObject } from '@app/event-store';

import { type AdmissionPlugin, type AdmissionRequest } from '../admission/admission-plugin.js';
import { RBAC_GROUP } from './bootstrap-policy.js';
import {
  compactRules,
  compactString,
  covers,
  type PolicyRule,
  type RoleRef,
  type UserInfo,
} from './policy-rules.js';
import { PRIVILEGED_GROUP, type RbacAuthorizer } from './rbac-authorizer.js';

/** What only cluster-admin holds: asked of whoever writes an aggregated ClusterRole. */
const FULL_AUTHORITY: PolicyRule[] = [
  { verbs: ['*'], apiGroups: ['*'], resources: ['*'] },
  { verbs: ['*'], nonResourceURLs: ['*'] },
];

const ROLE_KINDS: Record<string, string> = { roles: 'Role', clusterroles: 'ClusterRole' };
const BINDING_KINDS: Record<string, string> = {
  rolebindings: 'RoleBinding',
  clusterrolebindings: 'ClusterRoleBinding',
};

/**
 * RBAC's escalation prevention (pkg/registry/rbac: the policy-based storage of the four kinds,
 * escalation_check.go and validation/rule.go ConfirmNoEscalation), which holds whatever
 * authorizes the request itself: a user may write a role only with rules they already hold
 * where the role applies, or with the `escalate` verb on it; a binding only to a role whose
 * rules they hold, or with the `bind` verb on that role. `system:masters` is exempt, and so are
 * changes to nothing but owner references and finalizers (the garbage collector's).
 */
export class RbacEscalationCheck implements AdmissionPlugin {
  readonly name = 'RBACEscalation';

  constructor(private readonly authorizer: RbacAuthorizer) {}

  async admit(r: AdmissionRequest): Promise<void> {
    const t = r.type;
    if (t.group !== RBAC_GROUP || r.operation === 'delete' || r.subresource || !r.object) return;
    const isRole = t.plural in ROLE_KINDS;
    if (!isRole && !(t.plural in BINDING_KINDS)) return;
    if (r.actor.groups.includes(PRIVILEGED_GROUP)) return;
    if (r.old && onlyGarbageCollectorFields(r.object, r.old)) return;
    const name = String(r.object.metadata.name ?? '');
    if (isRole) this.checkRole(r.actor, t, r.namespace, name, r.object, r.old);
    else this.checkBinding(r.actor, t, r.namespace, name, r.object);
  }

  private checkRole(
    who: UserInfo,
    t: ResourceType,
    namespace: string,
    name: string,
    role: StoredObject,
    old: StoredObject | undefined,
  ): void {
    // RoleEscalationAuthorized: `escalate` on this role (any version of the group).
    if (this.allows(who, 'escalate', t.plural, namespace, name)) return;
    if (t.plural === 'clusterroles' && (role.aggregationRule != null || old?.aggregationRule != null)) {
      if (this.missing(who, namespace, FULL_AUTHORITY))
        throw refused(t, name, 'must have cluster-admin privileges to use the aggregationRule');
    }
    const why = this.missing(who, namespace, rulesOf(role));
    if (why) throw refused(t, name, why);
  }

  private checkBinding(
    who: UserInfo,
    t: ResourceType,
    namespace: string,
    name: string,
    binding: StoredObject,
  ): void {
    const ref = (binding.roleRef ?? {}) as RoleRef;
    // BindingAuthorized: `bind` on the very role, where the binding grants it.
    const roleResource =
      ref.kind === 'ClusterRole' ? 'clusterroles' : ref.kind === 'Role' ? 'roles' : undefined;
    if (
      roleResource &&
      this.allows(who, 'bind', roleResource, namespace, ref.name, ref.apiGroup ?? RBAC_GROUP)
    )
      return;
    const rules = this.authorizer.roleRules(ref, namespace);
    if ('error' in rules) throw refused(t, name, rules.error);
    const why = this.missing(who, namespace, rules);
    if (why) throw refused(t, name, why);
  }

  private allows(
    who: UserInfo,
    verb: string,
    resource: string,
    namespace: string,
    name: string,
    apiGroup = RBAC_GROUP,
  ): boolean {
    return this.authorizer.authorize({
      ...who,
      resourceRequest: true,
      verb,
      apiGroup,
      apiVersion: '*',
      resource,
      subresource: '',
      namespace,
      name,
    }).allowed;
  }

  /** ConfirmNoEscalation: undefined when `who` holds every rule in `namespace`, else why not. */
  private missing(who: UserInfo, namespace: string, rules: PolicyRule[]): string | undefined {
    const held = this.authorizer.rulesFor(who, namespace);
    const lacking = covers(held.rules, rules);
    if (lacking.length === 0) return undefined;
    const lines = [...new Set(compactRules(lacking).map(compactString))].sort();
    const groups = who.groups.map((g) => JSON.stringify(g)).join(' ');
    let why = `user ${JSON.stringify(who.user)} (groups=[${groups}]) is attempting to grant RBAC permissions not currently held:\n${lines.join('\n')}`;
    if (held.errors.length) why += `; resolution errors: [${held.errors.join(', ')}]`;
    return why;
  }
}

function rulesOf(role: StoredObject): PolicyRule[] {
  return Array.isArray(role.rules) ? (role.rules as PolicyRule[]) : [];
}

function refused(t: ResourceType, name: string, why: string): StatusError {
  return StatusError.forbidden({ resource: t.plural, group: t.group, name }, why);
}

/** Server-kept fields, and the garbage collector's: IsOnlyMutatingGCFields compares the rest. */
const GC_AND_SERVER_FIELDS = [
  'ownerReferences',
  'finalizers',
  'resourceVersion',
  'managedFields',
  'generation',
];

/** IsOnlyMutatingGCFields: the two objects differ in nothing but owner references and finalizers. */
function onlyGarbageCollectorFields(next: StoredObject, old: StoredObject): boolean {
  const strip = (o: StoredObject) => {
    const meta: Record<string, unknown> = { ...o.metadata };
    for (const f of GC_AND_SERVER_FIELDS) delete meta[f];
    return { ...o, metadata: meta };
  };
  return isDeepStrictEqual(strip(next), strip(old));
}
