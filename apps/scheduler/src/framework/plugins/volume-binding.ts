import { type NodeSelectorTerm } from '../api-types.js';
import { compileTerm, nodeTermMatches } from '../node-selector.js';
import {
  type CycleState,
  type FilterPlugin,
  type KubeObject,
  type NodeInfo,
  type PluginStatus,
  type PodInfo,
  SKIP,
} from '../types.js';

export const ERR_REASON_BIND_CONFLICT = "node(s) didn't find available persistent volumes to bind";
export const ERR_REASON_NODE_CONFLICT = 'node(s) had volume node affinity conflict';
export const ERR_UNBOUND_IMMEDIATE = 'pod has unbound immediate PersistentVolumeClaims';

export const ANN_SELECTED_NODE = 'volume.kubernetes.io/selected-node';
const ANN_BETA_STORAGE_CLASS = 'volume.beta.kubernetes.io/storage-class';
const ANN_BIND_COMPLETED = 'pv.kubernetes.io/bind-completed';
const NO_PROVISIONER = 'kubernetes.io/no-provisioner';

const STATE_KEY = 'VolumeBinding/preFilter';

/** The claims, volumes and classes the scheduler's informers hold. */
export interface VolumeLister {
  claim(namespace: string, name: string): KubeObject | undefined;
  volume(name: string): KubeObject | undefined;
  storageClass(name: string): KubeObject | undefined;
}

/** PreBind's one write: the selected-node annotation on a claim. */
export type SelectNode = (claim: KubeObject, node: string, cause?: number) => Promise<void>;

interface ClaimSpec {
  volumeName?: string;
  storageClassName?: string | null;
}
interface VolumeSpec {
  nodeAffinity?: { required?: { nodeSelectorTerms?: NodeSelectorTerm[] } };
  claimRef?: { uid?: string } | null;
}
interface ClassFields {
  provisioner?: string;
  volumeBindingMode?: string;
  allowedTopologies?: { matchLabelExpressions?: { key: string; values: string[] }[] }[];
}

const annotations = (o: KubeObject) => (o.metadata.annotations as Record<string, string> | undefined) ?? {};
const claimSpec = (o: KubeObject) => (o.spec ?? {}) as ClaimSpec;
const claimClass = (o: KubeObject) =>
  annotations(o)[ANN_BETA_STORAGE_CLASS] ?? claimSpec(o).storageClassName ?? '';

/** The claims a pod's volumes name: persistentVolumeClaim sources, and `<pod>-<volume>` for generic ephemeral ones. */
export function podClaimNames(pod: KubeObject): string[] {
  const volumes =
    (
      pod.spec as {
        volumes?: { name: string; persistentVolumeClaim?: { claimName: string }; ephemeral?: unknown }[];
      }
    )?.volumes ?? [];
  const names: string[] = [];
  for (const v of volumes) {
    if (v.persistentVolumeClaim) names.push(v.persistentVolumeClaim.claimName);
    else if (v.ephemeral) names.push(`${pod.metadata.name ?? ''}-${v.name}`);
  }
  return names;
}

/** A volume's required node affinity, compiled (no affinity: every node). */
function volumeNodeTerms(pv: KubeObject): ReturnType<typeof compileTerm>[] | undefined {
  const terms = ((pv.spec ?? {}) as VolumeSpec).nodeAffinity?.required?.nodeSelectorTerms;
  return terms === undefined ? undefined : terms.map(compileTerm);
}

/** MatchTopologySelectorTerms: no terms allow every node; terms are ORed, expressions ANDed. */
function topologyAllows(sc: ClassFields, node: NodeInfo): boolean {
  const terms = sc.allowedTopologies ?? [];
  if (terms.length === 0) return true;
  return terms.some((t) =>
    (t.matchLabelExpressions ?? []).every(
      (e) => Object.hasOwn(node.labels, e.key) && e.values.includes(node.labels[e.key]),
    ),
  );
}

interface PodVolumes {
  /** Bound claims' volumes with node affinity. */
  boundTerms: ReturnType<typeof compileTerm>[][];
  /** Unbound WaitForFirstConsumer claims and their classes. */
  delayed: { claim: KubeObject; sc: ClassFields }[];
}

/**
 * VolumeBinding (pkg/scheduler/framework/plugins/volumebinding), dynamic provisioning part:
 * PreFilter rejects a pod whose claims are missing, being deleted, or unbound in an Immediate
 * class; Filter keeps nodes a bound claim's volume node affinity allows, and for a claim
 * waiting for its first consumer the node already selected for it, or else nodes its class's
 * provisioner may serve (allowedTopologies); PreBind annotates such claims with the chosen
 * node and waits (bounded) until their provisioner and the PV binder have bound them.
 * Not done: binding static WaitForFirstConsumer volumes (a class without provisioner).
 */
export class VolumeBinding implements FilterPlugin {
  readonly name = 'VolumeBinding';

  constructor(
    private readonly lister: VolumeLister,
    private readonly o: { selectNode?: SelectNode; bindTimeoutMs?: number; pollMs?: number } = {},
  ) {}

  preFilter(state: CycleState, pod: PodInfo): PluginStatus | typeof SKIP | undefined {
    const names = podClaimNames(pod.pod);
    if (names.length === 0) return SKIP;
    const found = this.podVolumes(pod.pod, names);
    if ('code' in found) return found;
    state.write(STATE_KEY, found);
    return undefined;
  }

  private podVolumes(pod: KubeObject, names: string[]): PodVolumes | PluginStatus {
    const namespace = pod.metadata.namespace ?? '';
    const out: PodVolumes = { boundTerms: [], delayed: [] };
    for (const name of names) {
      const claim = this.lister.claim(namespace, name);
      if (!claim)
        return {
          code: 'UnschedulableAndUnresolvable',
          reasons: [`persistentvolumeclaim "${name}" not found`],
        };
      if (claim.metadata.deletionTimestamp)
        return {
          code: 'UnschedulableAndUnresolvable',
          reasons: [`persistentvolumeclaim "${name}" is being deleted`],
        };
      const volumeName = claimSpec(claim).volumeName ?? '';
      if (volumeName !== '') {
        const pv = this.lister.volume(volumeName);
        // A claim named to a volume not (yet) here: the PV binder has not finished; wait.
        if (!pv) return { code: 'UnschedulableAndUnresolvable', reasons: [ERR_REASON_BIND_CONFLICT] };
        const terms = volumeNodeTerms(pv);
        if (terms) out.boundTerms.push(terms);
        continue;
      }
      const sc = (this.lister.storageClass(claimClass(claim)) ?? {}) as ClassFields;
      if (sc.volumeBindingMode !== 'WaitForFirstConsumer')
        return { code: 'UnschedulableAndUnresolvable', reasons: [ERR_UNBOUND_IMMEDIATE] };
      out.delayed.push({ claim, sc });
    }
    return out;
  }

  filter(state: CycleState, _pod: PodInfo, node: NodeInfo): PluginStatus | undefined {
    const { boundTerms, delayed } = state.read<PodVolumes>(STATE_KEY);
    const reasons: string[] = [];
    for (const terms of boundTerms) {
      // Terms are ORed; one that does not compile matches nothing (CheckNodeAffinity).
      if (!terms.some((t) => t !== undefined && nodeTermMatches(t, node))) {
        reasons.push(ERR_REASON_NODE_CONFLICT);
        break;
      }
    }
    for (const { claim, sc } of delayed) {
      const selected = annotations(claim)[ANN_SELECTED_NODE];
      const fits =
        selected !== undefined
          ? selected === node.name
          : !!sc.provisioner && sc.provisioner !== NO_PROVISIONER && topologyAllows(sc, node);
      if (!fits) {
        reasons.push(ERR_REASON_BIND_CONFLICT);
        break;
      }
    }
    return reasons.length ? { code: 'UnschedulableAndUnresolvable', reasons } : undefined;
  }

  /**
   * BindPodVolumes: the pod's unbound WaitForFirstConsumer claims get the node, then the
   * binding waits until each is bound (checkBindings: volumeName, bind-completed, the volume's
   * claimRef to it), failing after the bind timeout (upstream: 600 s) or when a claim goes.
   */
  async preBind(pod: KubeObject, node: string, cause?: number): Promise<void> {
    const names = podClaimNames(pod);
    if (names.length === 0) return;
    const namespace = pod.metadata.namespace ?? '';
    const waiting: string[] = [];
    for (const name of names) {
      const claim = this.lister.claim(namespace, name);
      if (!claim || claimSpec(claim).volumeName) continue;
      waiting.push(name);
      if (annotations(claim)[ANN_SELECTED_NODE] !== node) await this.o.selectNode?.(claim, node, cause);
    }
    if (waiting.length === 0) return;
    const deadline = Date.now() + (this.o.bindTimeoutMs ?? 600_000);
    for (;;) {
      const pending = waiting.filter((name) => !this.claimBound(namespace, name));
      if (pending.length === 0) return;
      if (Date.now() >= deadline)
        throw new Error(
          `binding volumes: timed out waiting for the condition (claims ${pending.join(', ')} not bound)`,
        );
      await new Promise((r) => setTimeout(r, this.o.pollMs ?? 100));
    }
  }

  private claimBound(namespace: string, name: string): boolean {
    const claim = this.lister.claim(namespace, name);
    if (!claim) throw new Error(`binding volumes: persistentvolumeclaim "${name}" not found`);
    if (claim.metadata.deletionTimestamp)
      throw new Error(`binding volumes: persistentvolumeclaim "${name}" is being deleted`);
    const volumeName = claimSpec(claim).volumeName;
    if (!volumeName || annotations(claim)[ANN_BIND_COMPLETED] === undefined) return false;
    const pv = this.lister.volume(volumeName);
    return ((pv?.spec ?? {}) as VolumeSpec).claimRef?.uid === claim.metadata.uid;
  }
}
