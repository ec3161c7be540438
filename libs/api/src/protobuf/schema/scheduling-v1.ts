import { type SchemaPackage } from './package.js';

/** k8s.io.api.scheduling.v1: field numbers, wire types and Go JSON shapes (notation in ./package.ts). */
export const schedulingV1: SchemaPackage = {
  name: 'k8s.io.api.scheduling.v1',
  messages: {
    PriorityClass: `
      1 metadata meta.ObjectMeta
      2 value int32 always
      3 globalDefault bool
      4 description string
      5 preemptionPolicy *string
    `,
  },
};
