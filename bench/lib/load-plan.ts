/**
 * ClusterLoader2's load test shape (perf-tests clusterloader2/testing/load/config.yaml), for
 * Deployments: 30 pods a node, one namespace per 100 nodes (CL2_NODES_PER_NAMESPACE), and in
 * each namespace 1/4 of its pods in big Deployments of 250, 1/4 in medium ones of 30, 1/2 in
 * small ones of 5 (config.yaml's bigDeploymentsPerNamespace = podsPerNamespace / (4 × 250),
 * mediumDeploymentsPerNamespace = podsPerNamespace / (4 × 30), smallDeploymentsPerNamespace =
 * podsPerNamespace / (2 × 5)). Every Deployment has its own ConfigMap and Secret, which its pods
 * mount (the object bundle configmap.yaml, secret.yaml, deployment.yaml); every two
 * Deployments of a size share a Service (big-service-{Index/2} …, (n + 1) / 2 of them).
 */
export const PODS_PER_NODE = 30;
export const NODES_PER_NAMESPACE = 100;
export const GROUP_SIZES = { big: 250, medium: 30, small: 5 } as const;
export type GroupSize = keyof typeof GROUP_SIZES;

export interface PlannedDeployment {
  namespace: string;
  /** Also the name of its ConfigMap and Secret. */
  name: string;
  size: GroupSize;
  replicas: number;
  /** The Service whose selector picks its pods. */
  service: string;
}

export interface LoadPlan {
  namespaces: string[];
  deployments: PlannedDeployment[];
  services: { namespace: string; name: string; size: GroupSize }[];
  pods: number;
}

export function planLoad(nodes: number): LoadPlan {
  const nodesPerNamespace = Math.min(nodes, NODES_PER_NAMESPACE);
  const namespaceCount = Math.max(1, Math.floor(nodes / nodesPerNamespace));
  const podsPerNamespace = PODS_PER_NODE * nodesPerNamespace;
  const perNamespace: Record<GroupSize, number> = {
    big: Math.floor(podsPerNamespace / (4 * GROUP_SIZES.big)),
    medium: Math.floor(podsPerNamespace / (4 * GROUP_SIZES.medium)),
    small: Math.floor(podsPerNamespace / (2 * GROUP_SIZES.small)),
  };
  const plan: LoadPlan = { namespaces: [], deployments: [], services: [], pods: 0 };
  for (let n = 1; n <= namespaceCount; n++) {
    const namespace = `load-${n}`;
    plan.namespaces.push(namespace);
    for (const size of Object.keys(GROUP_SIZES) as GroupSize[]) {
      for (let i = 0; i < perNamespace[size]; i++) {
        const service = `${size}-service-${Math.floor(i / 2)}`;
        if (i % 2 === 0) plan.services.push({ namespace, name: service, size });
        const replicas = GROUP_SIZES[size];
        plan.deployments.push({ namespace, name: `${size}-deployment-${i}`, size, replicas, service });
        plan.pods += replicas;
      }
    }
  }
  return plan;
}

/** A seeded PRNG (mulberry32): the same seed scales the same Deployments to the same sizes. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 2 ** 32;
  };
}

/**
 * CL2's scale step (the "scale and update objects" phase, MinReplicaFactor 0.5, MaxReplicaFactor
 * 1.5): each object to a uniformly random size in [⌊x/2⌋, ⌈3x/2⌉].
 */
export function scaledReplicas(replicas: number, random: () => number): number {
  const min = Math.floor(replicas / 2);
  const max = Math.ceil((3 * replicas) / 2);
  return min + Math.floor(random() * (max - min + 1));
}
