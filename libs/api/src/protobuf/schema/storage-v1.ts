import { type SchemaPackage } from './package.js';

/** k8s.io.api.storage.v1: field numbers, wire types and Go JSON shapes (notation in ./package.ts). */
export const storageV1: SchemaPackage = {
  name: 'k8s.io.api.storage.v1',
  messages: {
    StorageClass: `
      1 metadata meta.ObjectMeta
      2 provisioner string always
      3 parameters map<string,string>
      4 reclaimPolicy *string
      5 mountOptions []string
      6 allowVolumeExpansion *bool
      7 volumeBindingMode *string
      8 allowedTopologies []core.TopologySelectorTerm
    `,
  },
};
