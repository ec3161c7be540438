import { type SchemaPackage } from './package.js';

/**
 * k8s.io.api.authentication.v1: field numbers, wire types and Go JSON shapes (notation in
 * ./package.ts). Only TokenRequest: `kubectl create token` (≥ 1.32) sends it as protobuf.
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
  },
};
