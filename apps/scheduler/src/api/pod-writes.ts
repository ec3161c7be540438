import { type ApiClient, resourcePath } from '@app/client';

import { type KubeObject } from '../framework/types.js';

interface Condition {
  type: string;
  status: string;
  reason?: string;
  message?: string;
  lastTransitionTime?: string;
}

function podPath(pod: KubeObject, subresource: string): string {
  return resourcePath({
    group: '',
    version: 'v1',
    plural: 'pods',
    namespace: pod.metadata.namespace,
    name: pod.metadata.name,
    subresource,
  });
}

/** The scheduler's two writes to a pod: its binding, and the PodScheduled=False condition. */
export class PodWrites {
  constructor(private readonly api: ApiClient) {}

  /** Binds `pod` to `node` (pods/binding, with the pod's uid as precondition). */
  async bind(pod: KubeObject, node: string, cause?: number): Promise<void> {
    await this.api.create(
      podPath(pod, 'binding'),
      {
        apiVersion: 'v1',
        kind: 'Binding',
        metadata: { name: pod.metadata.name, namespace: pod.metadata.namespace, uid: pod.metadata.uid },
        target: { apiVersion: 'v1', kind: 'Node', name: node },
      },
      { cause },
    );
  }

  /**
   * Sets PodScheduled=False, reason Unschedulable, with the FitError message, as upstream's
   * handleSchedulingFailure does; nothing is written when the pod already says exactly that.
   */
  async markUnschedulable(pod: KubeObject, message: string, cause?: number): Promise<boolean> {
    const conditions = ((pod.status as { conditions?: Condition[] } | undefined)?.conditions ??
      []) as Condition[];
    const current = conditions.find((c) => c.type === 'PodScheduled');
    if (current?.status === 'False' && current.reason === 'Unschedulable' && current.message === message)
      return false;
    const since =
      current?.status === 'False' && current.lastTransitionTime
        ? current.lastTransitionTime
        : new Date().toISOString().replace(/\.\d{3}Z$/, 'Z');
    await this.api.patch(
      podPath(pod, 'status'),
      {
        status: {
          conditions: [
            {
              type: 'PodScheduled',
              status: 'False',
              reason: 'Unschedulable',
              message,
              lastProbeTime: null,
              lastTransitionTime: since,
            },
          ],
        },
      },
      { contentType: 'application/strategic-merge-patch+json', cause },
    );
    return true;
  }
}
