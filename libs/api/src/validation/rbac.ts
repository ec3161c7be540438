import { type StatusCause } from '../errors/index.js';
import { dnsSubdomainErrors } from '../selectors/label-validation.js';
import { pathSegmentErrors } from './object-meta.js';
import { type Json, listOf } from './pod-fields.js';

/**
 * The four RBAC kinds, as pkg/apis/rbac/validation/validation.go checks them: rules name verbs
 * and either resources (with groups) or non-resource URLs, never both, and a Role's never name
 * URLs; a binding's roleRef names a Role or ClusterRole of rbac.authorization.k8s.io (a
 * ClusterRoleBinding only a ClusterRole) and never changes; subjects are users, groups or
 * service accounts, the latter with a namespace when the binding has none.
 */
const GROUP = 'rbac.authorization.k8s.io';
const SUBJECT_KINDS = ['ServiceAccount', 'User', 'Group'];

const required = (field: string, detail?: string): StatusCause => ({
  reason: 'FieldValueRequired',
  message: detail ? `Required value: ${detail}` : 'Required value',
  field,
});
const invalid = (field: string, value: unknown, detail: string): StatusCause => ({
  reason: 'FieldValueInvalid',
  message: `Invalid value: ${goValue(value)}: ${detail}`,
  field,
});
const notSupported = (field: string, value: unknown, supported: string[]): StatusCause => ({
  reason: 'FieldValueNotSupported',
  message: `Unsupported value: ${JSON.stringify(value ?? '')}: supported values: ${supported.map((s) => JSON.stringify(s)).join(', ')}`,
  field,
});

/** How field.Invalid prints a value: Go's %#v for a string list, JSON otherwise. */
function goValue(value: unknown): string {
  if (Array.isArray(value) && value.every((v) => typeof v === 'string'))
    return `[]string{${value.map((v) => JSON.stringify(v)).join(', ')}}`;
  return JSON.stringify(value);
}

const strings = (v: unknown): string[] => (Array.isArray(v) ? v.filter((x) => typeof x === 'string') : []);
const text = (v: unknown): string => (typeof v === 'string' ? v : '');

/** ValidatePolicyRule. */
function validateRule(rule: Json, namespaced: boolean, at: string): StatusCause[] {
  const causes: StatusCause[] = [];
  if (strings(rule.verbs).length === 0)
    causes.push(required(`${at}.verbs`, 'verbs must contain at least one value'));
  const urls = strings(rule.nonResourceURLs);
  if (urls.length > 0) {
    if (namespaced)
      causes.push(
        invalid(`${at}.nonResourceURLs`, urls, 'namespaced rules cannot apply to non-resource URLs'),
      );
    if (
      strings(rule.apiGroups).length ||
      strings(rule.resources).length ||
      strings(rule.resourceNames).length
    )
      causes.push(
        invalid(
          `${at}.nonResourceURLs`,
          urls,
          'rules cannot apply to both regular resources and non-resource URLs',
        ),
      );
    return causes;
  }
  if (strings(rule.apiGroups).length === 0)
    causes.push(required(`${at}.apiGroups`, 'resource rules must supply at least one api group'));
  if (strings(rule.resources).length === 0)
    causes.push(required(`${at}.resources`, 'resource rules must supply at least one resource'));
  return causes;
}

function validateRules(o: Json, namespaced: boolean): StatusCause[] {
  return listOf(o, 'rules').flatMap((r, i) => validateRule(r, namespaced, `rules[${i}]`));
}

/** ValidateClusterRole's aggregation rule: at least one selector when there is a rule. */
function validateAggregationRule(o: Json): StatusCause[] {
  const rule = o.aggregationRule;
  if (rule == null || typeof rule !== 'object') return [];
  return listOf(rule as Json, 'clusterRoleSelectors').length === 0
    ? [
        required(
          'aggregationRule.clusterRoleSelectors',
          'at least one clusterRoleSelector required if aggregationRule is non-nil',
        ),
      ]
    : [];
}

/** ValidateRoleBindingSubject. */
function validateSubject(s: Json, namespaced: boolean, at: string): StatusCause[] {
  const causes: StatusCause[] = [];
  const name = text(s.name);
  const apiGroup = text(s.apiGroup);
  if (!name) causes.push(required(`${at}.name`));
  switch (s.kind) {
    case 'ServiceAccount':
      // ValidateServiceAccountName: a DNS subdomain, as the account's own name.
      if (name) for (const msg of dnsSubdomainErrors(name)) causes.push(invalid(`${at}.name`, name, msg));
      if (apiGroup) causes.push(notSupported(`${at}.apiGroup`, apiGroup, ['']));
      if (!namespaced && !text(s.namespace)) causes.push(required(`${at}.namespace`));
      break;
    case 'User':
    case 'Group':
      if (apiGroup !== GROUP) causes.push(notSupported(`${at}.apiGroup`, apiGroup, [GROUP]));
      break;
    default:
      causes.push(notSupported(`${at}.kind`, s.kind, SUBJECT_KINDS));
  }
  return causes;
}

/** ValidateRoleBinding / ValidateClusterRoleBinding. */
function validateBinding(o: Json, namespaced: boolean): StatusCause[] {
  const causes: StatusCause[] = [];
  const ref = (o.roleRef ?? {}) as Json;
  if (ref.apiGroup !== GROUP) causes.push(notSupported('roleRef.apiGroup', ref.apiGroup, [GROUP]));
  const kinds = namespaced ? ['Role', 'ClusterRole'] : ['ClusterRole'];
  if (!kinds.includes(text(ref.kind))) causes.push(notSupported('roleRef.kind', ref.kind, kinds));
  const name = text(ref.name);
  if (!name) causes.push(required('roleRef.name'));
  else for (const msg of pathSegmentErrors(name)) causes.push(invalid('roleRef.name', name, msg));
  listOf(o, 'subjects').forEach((s, i) => causes.push(...validateSubject(s, namespaced, `subjects[${i}]`)));
  return causes;
}

export const RBAC_VALIDATORS: Record<string, (o: Json) => StatusCause[]> = {
  [`${GROUP}/roles`]: (o) => validateRules(o, true),
  [`${GROUP}/clusterroles`]: (o) => [...validateRules(o, false), ...validateAggregationRule(o)],
  [`${GROUP}/rolebindings`]: (o) => validateBinding(o, true),
  [`${GROUP}/clusterrolebindings`]: (o) => validateBinding(o, false),
};

/** ValidateRoleBindingUpdate: a binding's roleRef is fixed at creation (delete and recreate to change it). */
export function validateBindingUpdate(next: Json, old: Json): StatusCause[] {
  const ref = (o: Json) => {
    const r = (o.roleRef ?? {}) as Json;
    return { apiGroup: text(r.apiGroup), kind: text(r.kind), name: text(r.name) };
  };
  const [a, b] = [ref(next), ref(old)];
  if (a.apiGroup === b.apiGroup && a.kind === b.kind && a.name === b.name) return [];
  return [
    {
      reason: 'FieldValueInvalid',
      message: `Invalid value: rbac.RoleRef{APIGroup:${JSON.stringify(a.apiGroup)}, Kind:${JSON.stringify(a.kind)}, Name:${JSON.stringify(a.name)}}: cannot change roleRef`,
      field: 'roleRef',
    },
  ];
}
