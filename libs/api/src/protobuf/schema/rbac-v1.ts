import { type SchemaPackage } from './package.js';

/** k8s.io.api.rbac.v1: field numbers, wire types and Go JSON shapes (notation in ./package.ts). */
export const rbacV1: SchemaPackage = {
  name: 'k8s.io.api.rbac.v1',
  messages: {
    Role: `
      1 metadata meta.ObjectMeta
      2 rules []PolicyRule always
    `,
    PolicyRule: `
      1 verbs []string always
      2 apiGroups []string
      3 resources []string
      4 resourceNames []string
      5 nonResourceURLs []string
    `,
    RoleBinding: `
      1 metadata meta.ObjectMeta
      2 subjects []Subject
      3 roleRef RoleRef always
    `,
    Subject: `
      1 kind string always
      2 apiGroup string
      3 name string always
      4 namespace string
    `,
    RoleRef: `
      1 apiGroup string always
      2 kind string always
      3 name string always
    `,
    ClusterRole: `
      1 metadata meta.ObjectMeta
      2 rules []PolicyRule always
      3 aggregationRule *AggregationRule
    `,
    AggregationRule: `
      1 clusterRoleSelectors []meta.LabelSelector
    `,
    ClusterRoleBinding: `
      1 metadata meta.ObjectMeta
      2 subjects []Subject
      3 roleRef RoleRef always
    `,
  },
};
