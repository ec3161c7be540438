export * from './codec.js';
export { kubernetesSchema, ProtobufSchema } from './schema.js';
