import { type SchemaPackage } from './package.js';

/**
 * k8s.io.api.authorization.v1: field numbers, wire types and Go JSON shapes (notation in
 * ./package.ts). The self reviews: `kubectl auth can-i` (≥ 1.32) sends them as protobuf.
 */
export const authorizationV1: SchemaPackage = {
  name: 'k8s.io.api.authorization.v1',
  messages: {
    SelfSubjectAccessReview: `
      1 metadata meta.ObjectMeta
      2 spec SelfSubjectAccessReviewSpec
      3 status SubjectAccessReviewStatus
    `,
    SelfSubjectAccessReviewSpec: `
      1 resourceAttributes *ResourceAttributes
      2 nonResourceAttributes *NonResourceAttributes
    `,
    ResourceAttributes: `
      1 namespace string
      2 verb string
      3 group string
      4 version string
      5 resource string
      6 subresource string
      7 name string
      8 fieldSelector *FieldSelectorAttributes
      9 labelSelector *LabelSelectorAttributes
    `,
    FieldSelectorAttributes: `
      1 rawSelector string
      2 requirements []meta.FieldSelectorRequirement
    `,
    LabelSelectorAttributes: `
      1 rawSelector string
      2 requirements []meta.LabelSelectorRequirement
    `,
    NonResourceAttributes: `
      1 path string
      2 verb string
    `,
    SubjectAccessReviewStatus: `
      1 allowed bool always
      4 denied bool
      2 reason string
      3 evaluationError string
    `,
    SelfSubjectRulesReview: `
      1 metadata meta.ObjectMeta
      2 spec SelfSubjectRulesReviewSpec
      3 status SubjectRulesReviewStatus
    `,
    SelfSubjectRulesReviewSpec: `
      1 namespace string
    `,
    SubjectRulesReviewStatus: `
      1 resourceRules []ResourceRule always
      2 nonResourceRules []NonResourceRule always
      3 incomplete bool always
      4 evaluationError string
    `,
    ResourceRule: `
      1 verbs []string always
      2 apiGroups []string
      3 resources []string
      4 resourceNames []string
    `,
    NonResourceRule: `
      1 verbs []string always
      2 nonResourceURLs []string
    `,
  },
};
