import { type SchemaPackage } from './package.js';

/**
 * k8s.io.api.authentication.v1: field numbers, wire types and Go JSON shapes (notation in
 * ./package.ts). What kubectl (≥ 1.32) sends as protobuf: TokenRequest (`kubectl create token`)
 * and SelfSubjectReview (`kubectl auth whoami`).
 */
export const authenticationV1: SchemaPackage = {
  name: 'k8s.io.api.authentication.v1',
  messages: {
    TokenRequest: `
      1 metadata meta.ObjectMeta
      2 spec TokenRequestSpec
      3 status TokenRequestStatus
    `,
    TokenRequestSpec: `
      1 audiences []string always
      4 expirationSeconds *int64 always
      3 boundObjectRef *BoundObjectReference always
    `,
    BoundObjectReference: `
      1 kind string
      2 apiVersion string
      3 name string
      4 uid string
    `,
    TokenRequestStatus: `
      1 token string always
      2 expirationTimestamp Time always
    `,
    SelfSubjectReview: `
      1 metadata meta.ObjectMeta
      2 status SelfSubjectReviewStatus
    `,
    SelfSubjectReviewStatus: `
      1 userInfo UserInfo
    `,
    UserInfo: `
      1 username string
      2 uid string
      3 groups []string
      4 extra map<string,ExtraValue>
    `,
    // Go's ExtraValue is a []string, rendered in JSON as the bare list, which this notation cannot
    // say: decoded, it reads {items: [...]}. Only a review's status has it, and the server writes
    // that status itself (apps/api-server/src/auth/self-reviews.ts), never reading the client's.
    ExtraValue: `
      1 items []string
    `,
  },
};
