import {
  labelSelectorFromObject,
  matchesLabels,
  type ResourceRegistry,
  type ResourceType,
  StatusError,
} from '@app/api';
import { type StoredObject, SYSTEM_ACTOR } from '@app/event-store';

import {
  AUTOUPDATE_ANNOTATION,
  BOOTSTRAP_CLUSTER_ROLE_BINDINGS,
  BOOTSTRAP_CLUSTER_ROLES,
  BOOTSTRAP_LABELS,
  type BootstrapClusterRole,
  RBAC_GROUP,
} from '../authz/bootstrap-policy.js';
import { covers, type PolicyRule, type Subject } from '../authz/policy-rules.js';
import { type ObjectService } from '../objects/object-service.js';

const CONTEXT = { actor: SYSTEM_ACTOR, userAgent: 'wake-apiserver/rbac-bootstrap' };
const API_VERSION = `${RBAC_GROUP}/v1`;

/**
 * Upstream's RBAC post-start hook (bootstrappolicy's ensureRBACPolicy with reconciliation):
 * creates each default ClusterRole and ClusterRoleBinding that is missing; for those still
 * annotated `rbac.authorization.kubernetes.io/autoupdate: "true"` it adds back permissions and
 * subjects that were removed, never removing what an operator added. An operator who sets the
 * annotation to "false" owns the object from then on. Safe to run on every start.
 * Returns the highest resourceVersion written, so readers can wait for their caches.
 */
export async function ensureBootstrapPolicy(
  objects: ObjectService,
  registry: ResourceRegistry,
): Promise<number> {
  const roles = registry.get(RBAC_GROUP, 'v1', 'clusterroles');
  const bindings = registry.get(RBAC_GROUP, 'v1', 'clusterrolebindings');
  let written = 0;
  const note = (o: StoredObject | undefined) => {
    if (o) written = Math.max(written, Number(o.metadata.resourceVersion));
  };
  for (const role of BOOTSTRAP_CLUSTER_ROLES) {
    note(
      await reconcile(objects, roles, clusterRole(role), (current, wanted) => {
        const rules = (current.rules as PolicyRule[] | undefined) ?? [];
        const missing = (wanted.rules as PolicyRule[]).filter((r) => covers(rules, [r]).length > 0);
        return missing.length ? { ...current, rules: [...rules, ...missing] } : undefined;
      }),
    );
  }
  for (const b of BOOTSTRAP_CLUSTER_ROLE_BINDINGS) {
    const wanted = {
      apiVersion: API_VERSION,
      kind: 'ClusterRoleBinding',
      metadata: bootstrapMeta(b.name),
      roleRef: { apiGroup: RBAC_GROUP, kind: 'ClusterRole', name: b.role },
      subjects: b.subjects,
    };
    note(
      await reconcile(objects, bindings, wanted, (current) => {
        const subjects = (current.subjects as Subject[] | undefined) ?? [];
        const missing = b.subjects.filter((s) => !subjects.some((x) => sameSubject(x, s)));
        return missing.length ? { ...current, subjects: [...subjects, ...missing] } : undefined;
      }),
    );
  }
  return written;
}

/** A bootstrap role as stored; an aggregated one starts with the rules of the roles it selects. */
function clusterRole(role: BootstrapClusterRole): StoredObject {
  return {
    apiVersion: API_VERSION,
    kind: 'ClusterRole',
    metadata: { ...bootstrapMeta(role.name), labels: { ...BOOTSTRAP_LABELS, ...role.labels } },
    ...(role.aggregatesFrom
      ? { aggregationRule: { clusterRoleSelectors: [{ matchLabels: role.aggregatesFrom }] } }
      : {}),
    rules: aggregatedRules(role),
  };
}

/** The role's rules, or for an aggregated one the union of those of the roles it selects (transitively). */
function aggregatedRules(role: BootstrapClusterRole, seen = new Set<string>()): PolicyRule[] {
  if (!role.aggregatesFrom) return role.rules;
  const selector = labelSelectorFromObject({ matchLabels: role.aggregatesFrom });
  seen.add(role.name);
  const rules: PolicyRule[] = [];
  // In name order, as the aggregation controller will keep them: it then has nothing to change.
  const byName = [...BOOTSTRAP_CLUSTER_ROLES].sort((a, b) =>
    a.name < b.name ? -1 : a.name > b.name ? 1 : 0,
  );
  for (const r of byName) {
    if (seen.has(r.name) || !matchesLabels(selector, r.labels)) continue;
    for (const rule of aggregatedRules(r, seen))
      if (!rules.some((x) => JSON.stringify(x) === JSON.stringify(rule))) rules.push(rule);
  }
  return rules;
}

function bootstrapMeta(name: string) {
  return { name, labels: { ...BOOTSTRAP_LABELS }, annotations: { [AUTOUPDATE_ANNOTATION]: 'true' } };
}

function sameSubject(a: Subject, b: Subject): boolean {
  return a.kind === b.kind && a.name === b.name && (a.namespace ?? '') === (b.namespace ?? '');
}

/**
 * Creates `wanted` when missing; otherwise, while the object is still auto-updated, writes what
 * `amend` returns (undefined: nothing is missing). A conflict with another server's start is
 * taken as that server having done the same.
 */
async function reconcile(
  objects: ObjectService,
  t: ResourceType,
  wanted: StoredObject,
  amend: (current: StoredObject, wanted: StoredObject) => StoredObject | undefined,
): Promise<StoredObject | undefined> {
  const name = wanted.metadata.name!;
  let current: StoredObject;
  try {
    current = await objects.get(t, '', name);
  } catch (e) {
    if (!(e instanceof StatusError && e.reason === 'NotFound')) throw e;
    try {
      return await objects.create(t, '', wanted, CONTEXT);
    } catch (err) {
      if (err instanceof StatusError && err.reason === 'AlreadyExists') return undefined;
      throw new Error(`bootstrap: creating ${t.kind} ${name}: ${(err as Error).message}`, { cause: err });
    }
  }
  if (current.metadata.annotations?.[AUTOUPDATE_ANNOTATION] !== 'true') return undefined;
  const amended = amend(current, wanted);
  if (!amended) return undefined;
  try {
    return await objects.update(t, '', name, amended, CONTEXT);
  } catch (err) {
    if (err instanceof StatusError && err.reason === 'Conflict') return undefined;
    throw new Error(`bootstrap: updating ${t.kind} ${name}: ${(err as Error).message}`, { cause: err });
  }
}
