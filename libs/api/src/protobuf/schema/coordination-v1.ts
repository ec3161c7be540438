import { type SchemaPackage } from './package.js';

/** k8s.io.api.coordination.v1: field numbers, wire types and Go JSON shapes (notation in ./package.ts). */
export const coordinationV1: SchemaPackage = {
  name: 'k8s.io.api.coordination.v1',
  messages: {
    Lease: `
      1 metadata meta.ObjectMeta
      2 spec LeaseSpec
    `,
    LeaseSpec: `
      1 holderIdentity *string
      2 leaseDurationSeconds *int32
      3 acquireTime *MicroTime
      4 renewTime *MicroTime
      5 leaseTransitions *int32
      6 strategy *string
      7 preferredHolder *string
    `,
  },
};
