import { type Pod, type PodStatus } from '../api-types.js';
import {
  containersReadyCondition,
  mergeConditions,
  podInitializedCondition,
  podReadyCondition,
  podReadyToStartContainersCondition,
} from './conditions.js';
import { type ContainerStatusInputs, apiTime, convertToApiContainerStatuses } from './container-statuses.js';
import { getPhase, isTerminalPhase } from './phase.js';
import { type RuntimePodStatus } from './runtime-pod.js';

export interface PodStatusInputs extends Pick<
  ContainerStatusInputs,
  'reason' | 'killMessage' | 'ready' | 'started'
> {
  pod: Pod;
  runtime: RuntimePodStatus;
  /** The kubelet has finished the pod: its containers are stopped for good. */
  podIsTerminal: boolean;
  hostIP?: string;
  now: Date;
}

/**
 * The pod's status as the kubelet would write it (pkg/kubelet/kubelet_pods.go
 * generateAPIPodStatus): container statuses from the engine (ephemeral containers' too, which
 * count for neither the phase nor a condition), the phase from them — never
 * moving back from a terminal phase — the kubelet's conditions beside the others, the
 * sandbox's IP as the pod's, and the start time of the first sync.
 */
export function generatePodStatus(inputs: PodStatusInputs): PodStatus {
  const { pod, runtime } = inputs;
  const spec = pod.spec!;
  const old = pod.status ?? {};
  const common = {
    pod,
    runtime,
    reason: inputs.reason,
    killMessage: inputs.killMessage,
    ready: inputs.ready,
    started: inputs.started,
  };
  const initContainerStatuses = convertToApiContainerStatuses({
    ...common,
    oldStatuses: old.initContainerStatuses ?? [],
    containers: spec.initContainers ?? [],
    list: 'init',
  });
  const containerStatuses = convertToApiContainerStatuses({
    ...common,
    oldStatuses: old.containerStatuses ?? [],
    containers: spec.containers,
    list: 'regular',
  });
  const ephemeralContainerStatuses = convertToApiContainerStatuses({
    ...common,
    oldStatuses: old.ephemeralContainerStatuses ?? [],
    containers: spec.ephemeralContainers ?? [],
    list: 'ephemeral',
  });
  let phase = getPhase(spec, [...initContainerStatuses, ...containerStatuses], inputs.podIsTerminal);
  if (!isTerminalPhase(phase) && isTerminalPhase(old.phase)) phase = old.phase as typeof phase;

  const sandbox = runtime.sandboxes[0];
  const hostNetwork = spec.hostNetwork === true;
  const sandboxReady = sandbox?.ready === true && (sandbox.ip !== undefined || sandbox.hostNetwork === true);
  const containersReady = containersReadyCondition(spec, initContainerStatuses, containerStatuses, phase);
  const existing = old.conditions ?? [];
  const conditions = mergeConditions(
    existing,
    [
      podReadyToStartContainersCondition(sandboxReady),
      podInitializedCondition(spec, initContainerStatuses, containerStatuses, phase),
      podReadyCondition(spec, containersReady, existing),
      containersReady,
      // The kubelet runs only scheduled pods, so it says so (generateAPIPodStatus).
      { type: 'PodScheduled', status: 'True' },
    ],
    apiTime(inputs.now),
  );
  const hostIP = inputs.hostIP ?? old.hostIP;
  // A host-network pod's address is the node's. A stopped sandbox has no IP; the pod keeps the
  // one it had (upstream keeps it too).
  const podIP = hostNetwork ? hostIP : sandboxReady ? sandbox.ip : old.podIP;
  return {
    ...old,
    phase,
    conditions,
    ...(hostIP ? { hostIP, hostIPs: [{ ip: hostIP }] } : {}),
    ...(podIP ? { podIP, podIPs: [{ ip: podIP }] } : {}),
    startTime: old.startTime ?? apiTime(inputs.now),
    ...(initContainerStatuses.length ? { initContainerStatuses } : {}),
    containerStatuses,
    ...(ephemeralContainerStatuses.length ? { ephemeralContainerStatuses } : {}),
  };
}
