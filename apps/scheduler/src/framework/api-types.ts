import { type LabelSelectorObject } from '@app/api';

import { type ResourceList } from './resources.js';
import { type KubeObject, type Taint, type Toleration } from './types.js';

/**
 * The parts of the core/v1 Pod and Node schemas the scheduler reads. Objects come from the
 * API server, which validated them, so these are read as typed views rather than re-checked.
 */
export interface ContainerPort {
  containerPort?: number;
  hostPort?: number;
  hostIP?: string;
  protocol?: string;
}

export interface Container {
  name?: string;
  image?: string;
  resources?: { requests?: ResourceList; limits?: ResourceList };
  ports?: ContainerPort[];
  restartPolicy?: string;
}

export interface NodeSelectorRequirement {
  key: string;
  operator: string;
  values?: string[];
}

export interface NodeSelectorTerm {
  matchExpressions?: NodeSelectorRequirement[];
  matchFields?: NodeSelectorRequirement[];
}

export interface PodAffinityTermSpec {
  labelSelector?: LabelSelectorObject | null;
  namespaces?: string[];
  namespaceSelector?: LabelSelectorObject | null;
  topologyKey: string;
  matchLabelKeys?: string[];
  mismatchLabelKeys?: string[];
}

export interface WeightedPodAffinityTermSpec {
  weight: number;
  podAffinityTerm: PodAffinityTermSpec;
}

export interface PodAffinitySpec {
  requiredDuringSchedulingIgnoredDuringExecution?: PodAffinityTermSpec[];
  preferredDuringSchedulingIgnoredDuringExecution?: WeightedPodAffinityTermSpec[];
}

export interface AffinitySpec {
  nodeAffinity?: {
    requiredDuringSchedulingIgnoredDuringExecution?: { nodeSelectorTerms?: NodeSelectorTerm[] } | null;
    preferredDuringSchedulingIgnoredDuringExecution?: { weight: number; preference: NodeSelectorTerm }[];
  };
  podAffinity?: PodAffinitySpec;
  podAntiAffinity?: PodAffinitySpec;
}

export interface TopologySpreadConstraintSpec {
  maxSkew: number;
  topologyKey: string;
  whenUnsatisfiable: string;
  labelSelector?: LabelSelectorObject | null;
  minDomains?: number;
  nodeAffinityPolicy?: string;
  nodeTaintsPolicy?: string;
  matchLabelKeys?: string[];
}

export interface PodSpec {
  nodeName?: string;
  nodeSelector?: Record<string, string>;
  affinity?: AffinitySpec;
  tolerations?: Toleration[];
  containers?: Container[];
  initContainers?: Container[];
  overhead?: ResourceList;
  resources?: { requests?: ResourceList };
  priority?: number;
  topologySpreadConstraints?: TopologySpreadConstraintSpec[];
}

export interface NodeSpec {
  unschedulable?: boolean;
  taints?: Taint[];
}

export interface NodeStatus {
  allocatable?: ResourceList;
  capacity?: ResourceList;
  images?: { names?: string[]; sizeBytes?: number }[];
}

export function podSpec(pod: KubeObject): PodSpec {
  return (pod.spec as PodSpec | undefined) ?? {};
}

export function nodeSpec(node: KubeObject): NodeSpec {
  return (node.spec as NodeSpec | undefined) ?? {};
}

export function nodeStatus(node: KubeObject): NodeStatus {
  return (node.status as NodeStatus | undefined) ?? {};
}
