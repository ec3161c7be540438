import { type NamespaceLabels } from './affinity-term.js';
import { ImageLocality } from './plugins/image-locality.js';
import { InterPodAffinity } from './plugins/inter-pod-affinity.js';
import { NodeAffinity } from './plugins/node-affinity.js';
import { NodeName } from './plugins/node-name.js';
import { NodePorts } from './plugins/node-ports.js';
import { NodeResourcesBalancedAllocation } from './plugins/balanced-allocation.js';
import { NodeResourcesFit } from './plugins/node-resources-fit.js';
import { NodeUnschedulable } from './plugins/node-unschedulable.js';
import { PodTopologySpread, type PodTopologySpreadOptions } from './plugins/pod-topology-spread.js';
import { TaintToleration } from './plugins/taint-toleration.js';
import { type VolumeBinding } from './plugins/volume-binding.js';
import { type Profile } from './schedule-one.js';

export interface DefaultPluginOptions {
  /** Namespace labels, for pod (anti-)affinity terms with a namespaceSelector. */
  namespaceLabels?: NamespaceLabels;
  /** The Service/workload selector of a pod, for the system default topology spreading. */
  defaultSpreadSelector?: PodTopologySpreadOptions['defaultSelector'];
  /** VolumeBinding over the scheduler's claim, volume and class informers (absent: pods' volumes are not looked at). */
  volumeBinding?: VolumeBinding;
}

/**
 * kube-scheduler's default profile as far as Wake has the features (no DRA, no volume limits):
 * filters and scores in upstream's order, with upstream's weights.
 */
export function defaultPlugins(options: DefaultPluginOptions = {}): Profile {
  const taintToleration = new TaintToleration(3);
  const nodeAffinity = new NodeAffinity(2);
  const nodeResourcesFit = new NodeResourcesFit(1);
  const podTopologySpread = new PodTopologySpread({
    weight: 2,
    defaultSelector: options.defaultSpreadSelector,
  });
  const interPodAffinity = new InterPodAffinity({ weight: 2, namespaceLabels: options.namespaceLabels });
  return {
    filters: [
      new NodeUnschedulable(),
      new NodeName(),
      taintToleration,
      nodeAffinity,
      new NodePorts(),
      nodeResourcesFit,
      ...(options.volumeBinding ? [options.volumeBinding] : []),
      podTopologySpread,
      interPodAffinity,
    ],
    scores: [
      taintToleration,
      nodeAffinity,
      nodeResourcesFit,
      podTopologySpread,
      interPodAffinity,
      new NodeResourcesBalancedAllocation(1),
      new ImageLocality(1),
    ],
  };
}
