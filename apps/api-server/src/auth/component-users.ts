import { join } from 'node:path';

/**
 * The components that run as their own user, bound to that user's bootstrap roles (the
 * scheduler: upstream's system:kube-scheduler and system:volume-scheduler; the proxy:
 * system:node-proxier and the roles of the DNS and the ingress controller it serves; the
 * controller manager: cluster-admin until its controllers' roles are written, see the bootstrap
 * policy), each given its own kubeconfig; the node agents still use the admin's.
 */
export const COMPONENT_USERS = {
  scheduler: 'system:kube-scheduler',
  proxy: 'system:kube-proxy',
  'controller-manager': 'system:kube-controller-manager',
} as const;
export type ComponentWithUser = keyof typeof COMPONENT_USERS;

/** Where the API server writes a component's kubeconfig, in its `componentKubeconfigDir`. */
export function componentKubeconfigPath(dir: string, component: ComponentWithUser): string {
  return join(dir, `${component}.kubeconfig`);
}

/** Whether `component` runs as a user of its own (else as the admin). */
export function hasOwnUser(component: string): component is ComponentWithUser {
  return Object.hasOwn(COMPONENT_USERS, component);
}
