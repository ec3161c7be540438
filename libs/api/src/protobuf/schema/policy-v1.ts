import { type SchemaPackage } from './package.js';

/** k8s.io.api.policy.v1: field numbers, wire types and Go JSON shapes (notation in ./package.ts). */
export const policyV1: SchemaPackage = {
  name: 'k8s.io.api.policy.v1',
  messages: {
    Eviction: `
      1 metadata meta.ObjectMeta
      2 deleteOptions *meta.DeleteOptions
    `,
  },
};
