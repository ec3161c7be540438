export * from './pod-manager.js';
export { Backoff, DEFAULT_BACKOFF, goDuration, type BackoffOptions } from './backoff.js';
export { getPhase, type PodPhase } from './phase.js';
export { POD_LABELS } from './engine-pod.js';
