import { formatLabelSelector, labelSelectorFromObject, type LabelSelectorObject } from '@app/api';
import { type StoredObject } from '@app/event-store';

export interface Scale {
  apiVersion: 'autoscaling/v1';
  kind: 'Scale';
  metadata: StoredObject['metadata'];
  spec: { replicas: number };
  status: { replicas: number; selector?: string };
}

/** The autoscaling/v1 Scale view of a workload: its desired and current replicas and selector. */
export function toScale(obj: StoredObject): Scale {
  const spec = (obj.spec ?? {}) as {
    replicas?: number;
    selector?: LabelSelectorObject | Record<string, string>;
  };
  const status = (obj.status ?? {}) as { replicas?: number };
  const m = obj.metadata;
  const selector = spec.selector
    ? 'matchLabels' in spec.selector || 'matchExpressions' in spec.selector
      ? formatLabelSelector(labelSelectorFromObject(spec.selector as LabelSelectorObject))
      : Object.entries(spec.selector as Record<string, string>)
          .map(([k, v]) => `${k}=${v}`)
          .join(',')
    : undefined;
  return {
    apiVersion: 'autoscaling/v1',
    kind: 'Scale',
    metadata: {
      name: m.name,
      namespace: m.namespace,
      uid: m.uid,
      resourceVersion: m.resourceVersion,
      creationTimestamp: m.creationTimestamp,
    },
    spec: { replicas: spec.replicas ?? 0 },
    status: { replicas: status.replicas ?? 0, ...(selector ? { selector } : {}) },
  };
}
