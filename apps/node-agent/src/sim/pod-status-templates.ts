import { createHash } from 'node:crypto';

import { type ContainerStatusApi, type Pod, type PodCondition, type PodStatus } from '../api-types.js';

/**
 * The pod statuses simulated nodes write, one template per stage: kwok's stage templates
 * (kustomize/stage/pod/{fast,general,chaos}) in the shape the kubelet writes them
 * (pkg/kubelet/kubelet_pods.go generateAPIPodStatus, pkg/kubelet/status/generate.go).
 * Each returns a strategic merge patch of `.status`: conditions merge by type, so the
 * scheduler's PodScheduled stays; container statuses are replaced whole.
 * The real agent's status shaping lives in src/pods; this module is kept small so the two can
 * be folded together.
 */
export interface TemplateContext {
  /** metav1.Time: RFC 3339, whole seconds. */
  now: string;
  hostIP: string;
  /** Undefined for host-network pods (they take the node's address). */
  podIP?: string;
  /** Base and cap of the restart backoff, for CrashLoopBackOff's message. */
  backoffMs: [number, number];
}

export type StatusTemplate = (pod: Pod, c: TemplateContext) => PodStatus;

export function metaTime(d: Date): string {
  return d.toISOString().replace(/\.\d{3}Z$/, 'Z');
}

function condition(type: string, status: 'True' | 'False', now: string, reason?: string, message?: string) {
  return {
    type,
    status,
    lastProbeTime: null,
    lastTransitionTime: now,
    ...(reason ? { reason } : {}),
    ...(message ? { message } : {}),
  } as unknown as PodCondition;
}

/** A container id as a runtime would report one: `<runtime>://<64 hex>`, stable per pod, container and attempt. */
function containerID(pod: Pod, name: string, attempt: number): string {
  const hex = createHash('sha256').update(`${pod.metadata?.uid}/${name}/${attempt}`).digest('hex');
  return `sim://${hex}`;
}

function addresses(pod: Pod, c: TemplateContext): PodStatus {
  const podIP = pod.spec?.hostNetwork ? c.hostIP : c.podIP;
  return {
    hostIP: c.hostIP,
    hostIPs: [{ ip: c.hostIP }],
    ...(podIP ? { podIP, podIPs: [{ ip: podIP }] } : {}),
  };
}

function running(pod: Pod, name: string, image: string, c: TemplateContext, before?: ContainerStatusApi) {
  const restartCount = before?.restartCount ?? 0;
  return {
    name,
    image,
    imageID: image,
    containerID: containerID(pod, name, restartCount),
    ready: true,
    started: true,
    restartCount,
    state: { running: { startedAt: c.now } },
    lastState: before?.lastState ?? {},
  } as ContainerStatusApi;
}

/** The readiness gates' conditions: kwok sets them True itself, there being no controller to. */
function readinessGates(pod: Pod, now: string): PodCondition[] {
  return (pod.spec?.readinessGates ?? []).map((g) => condition(g.conditionType, 'True', now));
}

function unready(names: string[]): string {
  return `containers with unready status: [${names.join(' ')}]`;
}

/** Init containers as the kubelet leaves them once the pod runs: completed, or running if a sidecar (restartPolicy Always). */
function initContainerStatuses(pod: Pod, c: TemplateContext): Partial<PodStatus> {
  const inits = pod.spec?.initContainers ?? [];
  if (!inits.length) return {};
  return {
    initContainerStatuses: inits.map((i) =>
      i.restartPolicy === 'Always'
        ? running(pod, i.name, i.image ?? '', c)
        : ({
            name: i.name,
            image: i.image ?? '',
            imageID: i.image ?? '',
            containerID: containerID(pod, i.name, 0),
            ready: true,
            started: false,
            restartCount: 0,
            state: {
              terminated: { exitCode: 0, reason: 'Completed', startedAt: c.now, finishedAt: c.now },
            },
            lastState: {},
          } as ContainerStatusApi),
    ),
  };
}

/** kwok's pod-ready (fast profile): from bound to Running and Ready in one write. */
const podReady: StatusTemplate = (pod, c) => ({
  phase: 'Running',
  conditions: [
    condition('PodReadyToStartContainers', 'True', c.now),
    condition('Initialized', 'True', c.now),
    condition('Ready', 'True', c.now),
    condition('ContainersReady', 'True', c.now),
    ...readinessGates(pod, c.now),
  ],
  ...addresses(pod, c),
  startTime: pod.status?.startTime ?? c.now,
  ...initContainerStatuses(pod, c),
  containerStatuses: (pod.spec?.containers ?? []).map((k) =>
    running(
      pod,
      k.name,
      k.image ?? '',
      c,
      pod.status?.containerStatuses?.find((s) => s.name === k.name),
    ),
  ),
});

/** kwok's pod-create (general profile): sandbox up and addressed, containers being created. */
const podCreating: StatusTemplate = (pod, c) => {
  const names = (pod.spec?.containers ?? []).map((k) => k.name);
  return {
    phase: 'Pending',
    conditions: [
      condition('PodReadyToStartContainers', 'True', c.now),
      condition('Initialized', 'True', c.now),
      condition('Ready', 'False', c.now, 'ContainersNotReady', unready(names)),
      condition('ContainersReady', 'False', c.now, 'ContainersNotReady', unready(names)),
    ],
    ...addresses(pod, c),
    startTime: c.now,
    ...initContainerStatuses(pod, c),
    containerStatuses: (pod.spec?.containers ?? []).map(
      (k) =>
        ({
          name: k.name,
          image: k.image ?? '',
          imageID: '',
          ready: false,
          started: false,
          restartCount: 0,
          state: { waiting: { reason: 'ContainerCreating' } },
          lastState: {},
        }) as ContainerStatusApi,
    ),
  };
};

/** kwok's pod-complete for Job pods: every container exited 0, phase Succeeded, no longer Ready (PodCompleted). */
const podComplete: StatusTemplate = (pod, c) => ({
  phase: 'Succeeded',
  conditions: [
    condition('PodReadyToStartContainers', 'False', c.now),
    condition('Ready', 'False', c.now, 'PodCompleted'),
    condition('ContainersReady', 'False', c.now, 'PodCompleted'),
  ],
  containerStatuses: (pod.spec?.containers ?? []).map((k) => {
    const before = pod.status?.containerStatuses?.find((s) => s.name === k.name);
    return {
      name: k.name,
      image: k.image ?? '',
      imageID: k.image ?? '',
      containerID: before?.containerID ?? containerID(pod, k.name, 0),
      ready: false,
      started: false,
      restartCount: before?.restartCount ?? 0,
      state: {
        terminated: {
          exitCode: 0,
          reason: 'Completed',
          startedAt: before?.state?.running?.startedAt ?? c.now,
          finishedAt: c.now,
          containerID: before?.containerID,
        },
      },
      lastState: before?.lastState ?? {},
    } as ContainerStatusApi;
  }),
});

/**
 * Chaos: the containers exit 1. Under restartPolicy Never the pod Fails (kwok's
 * pod-container-running-failed); otherwise the kubelet holds each in CrashLoopBackOff with the
 * exit as lastState and one more restart counted.
 */
const containerCrash: StatusTemplate = (pod, c) => {
  const never = pod.spec?.restartPolicy === 'Never';
  const names = (pod.spec?.containers ?? []).map((k) => k.name);
  return {
    phase: never ? 'Failed' : 'Running',
    conditions: [
      condition('Ready', 'False', c.now, 'ContainersNotReady', unready(names)),
      condition('ContainersReady', 'False', c.now, 'ContainersNotReady', unready(names)),
    ],
    containerStatuses: (pod.spec?.containers ?? []).map((k) => {
      const before = pod.status?.containerStatuses?.find((s) => s.name === k.name);
      const restartCount = before?.restartCount ?? 0;
      const terminated = {
        exitCode: 1,
        reason: 'Error',
        startedAt: before?.state?.running?.startedAt ?? c.now,
        finishedAt: c.now,
        containerID: before?.containerID,
      };
      const backoffS = Math.min(c.backoffMs[1], c.backoffMs[0] * 2 ** restartCount) / 1000;
      return (
        never
          ? {
              name: k.name,
              image: k.image ?? '',
              imageID: k.image ?? '',
              containerID: before?.containerID,
              ready: false,
              started: false,
              restartCount,
              state: { terminated },
              lastState: before?.lastState ?? {},
            }
          : {
              name: k.name,
              image: k.image ?? '',
              imageID: k.image ?? '',
              containerID: before?.containerID,
              ready: false,
              started: false,
              restartCount: restartCount + 1,
              state: {
                waiting: {
                  reason: 'CrashLoopBackOff',
                  message: `back-off ${backoffS}s restarting failed container=${k.name} pod=${pod.metadata?.name}_${pod.metadata?.namespace}(${pod.metadata?.uid})`,
                },
              },
              lastState: { terminated },
            }
      ) as ContainerStatusApi;
    }),
  };
};

/** Chaos: the back-off has passed, the containers run again (restartCount and lastState kept). */
const containerRestart: StatusTemplate = (pod, c) => ({
  phase: 'Running',
  conditions: [condition('Ready', 'True', c.now), condition('ContainersReady', 'True', c.now)],
  containerStatuses: (pod.spec?.containers ?? []).map((k) =>
    running(
      pod,
      k.name,
      k.image ?? '',
      c,
      pod.status?.containerStatuses?.find((s) => s.name === k.name),
    ),
  ),
});

export const STATUS_TEMPLATES = {
  'pod-ready': podReady,
  'pod-creating': podCreating,
  'pod-complete': podComplete,
  'container-crash': containerCrash,
  'container-restart': containerRestart,
} satisfies Record<string, StatusTemplate>;

export type TemplateName = keyof typeof STATUS_TEMPLATES;
