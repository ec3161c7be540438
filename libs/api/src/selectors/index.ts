export * from './label-selector.js';
export * from './field-selector.js';
export * from './go-errors.js';
export { dnsSubdomainErrors } from './label-validation.js';
