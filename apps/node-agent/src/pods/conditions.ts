import { type ContainerStatusApi, type PodCondition, type PodSpec } from '../api-types.js';
import { hasAnyRegularContainerStarted, isRestartableInitContainer, type PodPhase } from './phase.js';

/**
 * The conditions the kubelet owns (kubetypes.PodConditionsByKubelet); all others (readiness
 * gates, DisruptionTarget...) it keeps as they are.
 */
export const KUBELET_CONDITIONS = [
  'PodScheduled',
  'PodReadyToStartContainers',
  'Initialized',
  'ContainersReady',
  'Ready',
];

type Condition = Pick<PodCondition, 'type' | 'status' | 'reason' | 'message'>;

/** Go's %s of a []string: `[a b]`. */
function goList(names: string[]): string {
  return `[${names.join(' ')}]`;
}

/** pkg/kubelet/status/generate.go GeneratePodInitializedCondition. */
export function podInitializedCondition(
  spec: PodSpec,
  initStatuses: readonly ContainerStatusApi[],
  regularStatuses: readonly ContainerStatusApi[],
  phase: PodPhase,
): Condition {
  const unknown: string[] = [];
  const incomplete: string[] = [];
  for (const c of spec.initContainers ?? []) {
    const s = initStatuses.find((x) => x.name === c.name);
    if (!s) unknown.push(c.name);
    else if (!s.ready) incomplete.push(c.name);
  }
  if (phase === 'Succeeded' && unknown.length === 0)
    return { type: 'Initialized', status: 'True', reason: 'PodCompleted' };
  if (hasAnyRegularContainerStarted(spec, regularStatuses)) return { type: 'Initialized', status: 'True' };
  const messages: string[] = [];
  if (unknown.length) messages.push(`containers with unknown status: ${goList(unknown)}`);
  if (incomplete.length) messages.push(`containers with incomplete status: ${goList(incomplete)}`);
  if (messages.length)
    return {
      type: 'Initialized',
      status: 'False',
      reason: 'ContainersNotInitialized',
      message: messages.join(', '),
    };
  return { type: 'Initialized', status: 'True' };
}

/** pkg/kubelet/status/generate.go GenerateContainersReadyCondition. */
export function containersReadyCondition(
  spec: PodSpec,
  initStatuses: readonly ContainerStatusApi[],
  regularStatuses: readonly ContainerStatusApi[],
  phase: PodPhase,
): Condition {
  const unknown: string[] = [];
  const unready: string[] = [];
  for (const c of spec.initContainers ?? []) {
    if (!isRestartableInitContainer(c)) continue;
    const s = initStatuses.find((x) => x.name === c.name);
    if (!s) unknown.push(c.name);
    else if (!s.ready) unready.push(c.name);
  }
  for (const c of spec.containers) {
    const s = regularStatuses.find((x) => x.name === c.name);
    if (!s) unknown.push(c.name);
    else if (!s.ready) unready.push(c.name);
  }
  if (phase === 'Succeeded' && unknown.length === 0)
    return { type: 'ContainersReady', status: 'False', reason: 'PodCompleted' };
  if (phase === 'Failed') return { type: 'ContainersReady', status: 'False', reason: 'PodFailed' };
  const messages: string[] = [];
  if (unknown.length) messages.push(`containers with unknown status: ${goList(unknown)}`);
  if (unready.length) messages.push(`containers with unready status: ${goList(unready)}`);
  if (messages.length)
    return {
      type: 'ContainersReady',
      status: 'False',
      reason: 'ContainersNotReady',
      message: messages.join(', '),
    };
  return { type: 'ContainersReady', status: 'True' };
}

/** GeneratePodReadyCondition: ContainersReady, then every readiness gate's condition True. */
export function podReadyCondition(
  spec: PodSpec,
  containersReady: Condition,
  existing: readonly PodCondition[],
): Condition {
  if (containersReady.status !== 'True')
    return {
      type: 'Ready',
      status: containersReady.status,
      ...(containersReady.reason ? { reason: containersReady.reason } : {}),
      ...(containersReady.message ? { message: containersReady.message } : {}),
    };
  const missing: string[] = [];
  const notTrue: string[] = [];
  for (const gate of spec.readinessGates ?? []) {
    const c = existing.find((x) => x.type === gate.conditionType);
    if (!c) missing.push(gate.conditionType);
    else if (c.status !== 'True') notTrue.push(gate.conditionType);
  }
  const messages: string[] = [];
  if (missing.length)
    messages.push(`corresponding condition of pod readiness gate "${missing.join('", "')}" does not exist.`);
  if (notTrue.length)
    messages.push(`the status of pod readiness gate "${notTrue.join('", "')}" is not "True", but False`);
  if (messages.length)
    return { type: 'Ready', status: 'False', reason: 'ReadinessGatesNotReady', message: messages.join(', ') };
  return { type: 'Ready', status: 'True' };
}

/** PodReadyToStartContainers: True once the pod's sandbox is up with its network. */
export function podReadyToStartContainersCondition(sandboxReady: boolean): Condition {
  return { type: 'PodReadyToStartContainers', status: sandboxReady ? 'True' : 'False' };
}

/**
 * The pod's conditions after a sync: the kubelet's own regenerated, everyone else's kept; a
 * condition keeps its lastTransitionTime while its status stays (the status manager's rule).
 */
export function mergeConditions(
  existing: readonly PodCondition[],
  generated: readonly Condition[],
  now: string,
): PodCondition[] {
  const out: PodCondition[] = existing.filter((c) => !KUBELET_CONDITIONS.includes(c.type));
  for (const g of generated) {
    const old = existing.find((c) => c.type === g.type);
    out.push({
      type: g.type,
      status: g.status,
      lastTransitionTime:
        old && old.status === g.status && old.lastTransitionTime ? old.lastTransitionTime : now,
      ...(g.reason ? { reason: g.reason } : {}),
      ...(g.message ? { message: g.message } : {}),
    });
  }
  return out;
}
