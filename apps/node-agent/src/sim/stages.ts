import { type TemplateName } from './pod-status-templates.js';
import { evaluate, matches, type StageSelector } from './stage-selector.js';

/**
 * A stage of a simulated object's life, as data (kwok's `kind: Stage`, pkg/apis/v1alpha1
 * stage_types.go): when `selector` matches the object's current state, the stage fires after
 * its delay and applies `next`; the object's new state then selects the next stage.
 */
export interface Stage {
  name: string;
  resource: 'Pod' | 'Node';
  selector: StageSelector;
  /** Among several matching stages one is picked at random by weight (default 1). */
  weight?: number;
  delay?: StageDelay;
  next: StageNext;
}

export interface StageDelay {
  durationMs: number;
  /** kwok's jitterDurationMilliseconds: the *latest* the stage fires; it fires uniformly between duration and this. */
  jitterMs?: number;
  /** An expression whose value (ms, or a Go duration such as "1.5s") overrides durationMs. */
  durationFrom?: string;
  jitterFrom?: string;
  /** Exponential back-off instead of a fixed delay: base·2^(n−1) capped, n the value of `countFrom` (the kubelet's restart back-off). */
  backoff?: { baseMs: number; capMs: number; countFrom: string };
}

export interface StageNext {
  /** The pod status template to patch with. */
  status?: TemplateName;
  /** Delete the object (grace period 0: its containers are gone). */
  delete?: boolean;
  /** Node stages: the simulated node's health, which its next status report carries. */
  nodeReady?: boolean;
}

const noDeletion = { key: '.metadata.deletionTimestamp', operator: 'DoesNotExist' } as const;
const readyIs = (status: string) => ({
  key: '.status.conditions.[] | select(.type == "Ready") | .status',
  operator: 'In' as const,
  values: [status],
});
const ownedByJob = { key: '.metadata.ownerReferences.[].kind', operator: 'In', values: ['Job'] } as const;
const completes = { key: '.spec.restartPolicy', operator: 'In', values: ['Never', 'OnFailure'] } as const;

/** Labels that opt an object into a chaos stage (kwok's `<stage>.stage.kwok.x-k8s.io=true`). */
export const CHAOS_LABELS = {
  nodeNotReady: 'sim.wake.dev/node-not-ready',
  containerCrash: 'sim.wake.dev/container-crash',
} as const;

/** Annotations that tune a chaos stage's delay on one object. */
export const CHAOS_DELAY_ANNOTATIONS = {
  nodeNotReady: 'sim.wake.dev/node-not-ready-delay',
  containerCrash: 'sim.wake.dev/container-crash-delay',
} as const;

export type ProfileName = 'fast' | 'realistic';

export interface ProfileOptions {
  /** Add the chaos stages (they act only on objects carrying their label). */
  chaos?: boolean;
  /** The kubelet's container restart back-off (10 s doubling to 300 s upstream). */
  restartBackoffMs?: [number, number];
}

/** A running Job pod completes; a pod being deleted goes (the last stages of both profiles). */
function podEndStages(complete?: Stage['delay'], deletion?: Stage['delay']): Stage[] {
  return [
    {
      name: 'pod-complete',
      resource: 'Pod',
      selector: {
        matchExpressions: [
          noDeletion,
          { key: '.status.phase', operator: 'In', values: ['Running'] },
          readyIs('True'),
          ownedByJob,
          completes,
        ],
      },
      ...(complete ? { delay: complete } : {}),
      next: { status: 'pod-complete' },
    },
    {
      name: 'pod-delete',
      resource: 'Pod',
      selector: { matchExpressions: [{ key: '.metadata.deletionTimestamp', operator: 'Exists' }] },
      ...(deletion ? { delay: deletion } : {}),
      next: { delete: true },
    },
  ];
}

/** kwok's default stages (kustomize/stage/pod/fast): every step at once. */
function fastPodStages(): Stage[] {
  return [
    {
      name: 'pod-ready',
      resource: 'Pod',
      selector: { matchExpressions: [noDeletion, { key: '.status.podIP', operator: 'DoesNotExist' }] },
      next: { status: 'pod-ready' },
    },
    ...podEndStages(),
  ];
}

/**
 * Steps with the delays of a Docker node with images cached (kwok's general profile,
 * kustomize/stage/pod/general): sandbox and network first, then the containers start, Job
 * pods run a few seconds, and a deleted pod takes a moment to stop.
 */
function realisticPodStages(): Stage[] {
  return [
    {
      name: 'pod-create',
      resource: 'Pod',
      selector: {
        matchExpressions: [
          noDeletion,
          { key: '.status.startTime', operator: 'DoesNotExist' },
          { key: '.status.containerStatuses', operator: 'DoesNotExist' },
        ],
      },
      delay: { durationMs: 300, jitterMs: 1000 },
      next: { status: 'pod-creating' },
    },
    {
      name: 'pod-ready',
      resource: 'Pod',
      selector: {
        matchExpressions: [
          noDeletion,
          {
            key: '.status.containerStatuses.[].state.waiting.reason',
            operator: 'In',
            values: ['ContainerCreating'],
          },
        ],
      },
      delay: { durationMs: 500, jitterMs: 2500 },
      next: { status: 'pod-ready' },
    },
    ...podEndStages({ durationMs: 2000, jitterMs: 6000 }, { durationMs: 200, jitterMs: 1000 }),
  ];
}

/** Failure injection, opt-in per object by label (kwok's kustomize/stage/{node,pod}/chaos). */
function chaosStages(backoff: [number, number]): Stage[] {
  const crashLabel = {
    key: `.metadata.labels["${CHAOS_LABELS.containerCrash}"]`,
    operator: 'In',
    values: ['true'],
  } as const;
  const notReadyLabel = `.metadata.labels["${CHAOS_LABELS.nodeNotReady}"]`;
  return [
    {
      name: 'node-not-ready',
      resource: 'Node',
      selector: {
        matchExpressions: [{ key: notReadyLabel, operator: 'In', values: ['true'] }, readyIs('True')],
      },
      weight: 10_000,
      delay: {
        durationMs: 1000,
        durationFrom: `.metadata.annotations["${CHAOS_DELAY_ANNOTATIONS.nodeNotReady}"]`,
      },
      next: { nodeReady: false },
    },
    {
      name: 'node-recover',
      resource: 'Node',
      selector: {
        matchExpressions: [{ key: notReadyLabel, operator: 'NotIn', values: ['true'] }, readyIs('False')],
      },
      next: { nodeReady: true },
    },
    {
      name: 'pod-container-crash',
      resource: 'Pod',
      selector: {
        matchExpressions: [
          crashLabel,
          noDeletion,
          { key: '.status.phase', operator: 'In', values: ['Running'] },
          { key: '.status.containerStatuses.[].state.running', operator: 'Exists' },
        ],
      },
      // Beats pod-complete: a crashing Job pod fails rather than completes.
      weight: 10_000,
      delay: {
        durationMs: 1000,
        durationFrom: `.metadata.annotations["${CHAOS_DELAY_ANNOTATIONS.containerCrash}"]`,
      },
      next: { status: 'container-crash' },
    },
    {
      name: 'pod-container-restart',
      resource: 'Pod',
      selector: {
        matchExpressions: [
          noDeletion,
          {
            key: '.status.containerStatuses.[].state.waiting.reason',
            operator: 'In',
            values: ['CrashLoopBackOff'],
          },
        ],
      },
      delay: {
        durationMs: backoff[0],
        backoff: {
          baseMs: backoff[0],
          capMs: backoff[1],
          countFrom: '.status.containerStatuses.[].restartCount',
        },
      },
      next: { status: 'container-restart' },
    },
  ];
}

export function stagesFor(profile: ProfileName, o: ProfileOptions = {}): Stage[] {
  const pods = profile === 'fast' ? fastPodStages() : realisticPodStages();
  return o.chaos ? [...pods, ...chaosStages(o.restartBackoffMs ?? [10_000, 300_000])] : pods;
}

/** The stage to play next on `object`: one of those whose selector matches, at random by weight (kwok's stage matching). */
export function selectStage(
  stages: readonly Stage[],
  object: unknown,
  random: () => number = Math.random,
): Stage | undefined {
  const candidates = stages.filter((s) => matches(s.selector, object));
  if (candidates.length <= 1) return candidates[0];
  const total = candidates.reduce((n, s) => n + (s.weight ?? 1), 0);
  let pick = random() * total;
  for (const s of candidates) {
    pick -= s.weight ?? 1;
    if (pick < 0) return s;
  }
  return candidates.at(-1);
}

/** How long until `stage` fires on `object` (kwok's Delay: duration, or uniformly up to the jitter bound when it is later). */
export function stageDelay(stage: Stage, object: unknown, random: () => number = Math.random): number {
  const d = stage.delay;
  if (!d) return 0;
  if (d.backoff) {
    const n = Math.max(1, ...evaluate(d.backoff.countFrom, object).map(Number).filter(Number.isFinite));
    return Math.min(d.backoff.capMs, d.backoff.baseMs * 2 ** (n - 1));
  }
  const duration = fromExpression(d.durationFrom, object) ?? d.durationMs;
  const jitter = fromExpression(d.jitterFrom, object) ?? d.jitterMs;
  if (jitter === undefined || jitter <= duration) return duration;
  return duration + random() * (jitter - duration);
}

function fromExpression(expression: string | undefined, object: unknown): number | undefined {
  if (!expression) return undefined;
  const [value] = evaluate(expression, object);
  return value === undefined ? undefined : parseDurationMs(String(value));
}

/** Milliseconds from a number of ms or a Go duration ("300ms", "1.5s", "2m"). */
export function parseDurationMs(text: string): number | undefined {
  if (/^\d+(\.\d+)?$/.test(text)) return Number(text);
  const m = /^(\d+(?:\.\d+)?)(ms|s|m|h)$/.exec(text);
  if (!m) return undefined;
  const unit = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 }[m[2] as 'ms' | 's' | 'm' | 'h'];
  return Number(m[1]) * unit;
}
