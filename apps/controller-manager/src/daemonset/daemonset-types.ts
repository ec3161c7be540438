import { type LabelSelector, type LabelSelectorObject } from '@app/api';
import { type StoredObject } from '@app/event-store';

import { type Taint } from '../../../scheduler/src/framework/types.js';
import { type IntOrPercent, type PodTemplate } from '../deployment/deployment-types.js';
import { type ClaimingKind, safeSelector } from '../replicaset/replica-kind.js';

/** apps/v1 DefaultDaemonSetUniqueLabelKey: the label pods and revisions carry the revision hash in. */
export const DAEMONSET_HASH_LABEL = 'controller-revision-hash';
/** extensions DaemonSetTemplateGenerationKey (deprecated): the pod label of the template generation. */
export const TEMPLATE_GENERATION_LABEL = 'pod-template-generation';
/** The DaemonSet annotation the API server keeps the template generation in (DeprecatedTemplateGeneration). */
export const TEMPLATE_GENERATION_ANNOTATION = 'deprecated.daemonset.template.generation';

export interface DaemonSetStatus {
  currentNumberScheduled?: number;
  numberMisscheduled?: number;
  desiredNumberScheduled?: number;
  numberReady?: number;
  observedGeneration?: number;
  updatedNumberScheduled?: number;
  numberAvailable?: number;
  numberUnavailable?: number;
  collisionCount?: number;
  conditions?: unknown[];
}

/** An apps/v1 DaemonSet: the fields the controller reads (defaults are the API server's). */
export type DaemonSet = StoredObject & {
  spec?: {
    selector?: unknown;
    template?: PodTemplate;
    updateStrategy?: {
      type?: 'RollingUpdate' | 'OnDelete';
      rollingUpdate?: { maxUnavailable?: IntOrPercent; maxSurge?: IntOrPercent };
    };
    minReadySeconds?: number;
    revisionHistoryLimit?: number;
  };
  status?: DaemonSetStatus;
};

/** A core/v1 Node: what eligibility reads. */
export type Node = StoredObject & {
  spec?: { taints?: Taint[]; unschedulable?: boolean };
  status?: { conditions?: { type: string; status: string }[] };
};

export const DAEMON_SET: ClaimingKind = {
  resource: { group: 'apps', version: 'v1', plural: 'daemonsets' },
  apiVersion: 'apps/v1',
  kind: 'DaemonSet',
};

export const NODES = { group: '', version: 'v1', plural: 'nodes' };

export function daemonSetSelector(ds: DaemonSet): LabelSelector {
  return safeSelector(ds.spec?.selector as LabelSelectorObject | undefined);
}

/** The empty selector `{}`: upstream refuses to act for a DaemonSet selecting every pod. */
export function selectsEverything(ds: DaemonSet): boolean {
  const s = ds.spec?.selector as LabelSelectorObject | undefined;
  return (
    s !== undefined &&
    Object.keys(s.matchLabels ?? {}).length === 0 &&
    (s.matchExpressions ?? []).length === 0
  );
}

/** util.GetTemplateGeneration: the annotation's value, undefined when absent or unparsable. */
export function templateGeneration(ds: DaemonSet): number | undefined {
  const raw = ds.metadata.annotations?.[TEMPLATE_GENERATION_ANNOTATION];
  if (raw === undefined || !/^-?\d+$/.test(raw)) return undefined;
  return Number(raw);
}

export const isRollingUpdate = (ds: DaemonSet): boolean =>
  (ds.spec?.updateStrategy?.type ?? 'RollingUpdate') === 'RollingUpdate';
