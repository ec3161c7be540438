import { type Pod } from '../replicaset/pod-types.js';

export interface PodFailurePolicyRule {
  action: 'FailJob' | 'FailIndex' | 'Ignore' | 'Count';
  onExitCodes?: { containerName?: string; operator: 'In' | 'NotIn'; values: number[] };
  onPodConditions?: { type: string; status?: string }[];
}

export interface PodFailurePolicy {
  rules: PodFailurePolicyRule[];
}

interface TerminatedStatus {
  name?: string;
  state?: { terminated?: { exitCode?: number } };
}

/** What the first matching rule says of a failed pod (upstream's matchPodFailurePolicy). */
export interface PolicyMatch {
  /** Set when the rule fails the whole Job: the Failed condition's message. */
  jobFailureMessage?: string;
  /** Whether the failure counts against backoffLimit. */
  countFailed: boolean;
  action?: PodFailurePolicyRule['action'];
}

/**
 * matchPodFailurePolicy (pkg/controller/job/pod_failure_policy.go): the rules in order; the
 * first whose exit codes (a non-zero exit of a matching container, init containers first) or
 * pod conditions match decides. No match counts the failure.
 */
export function matchPodFailurePolicy(policy: PodFailurePolicy, pod: Pod): PolicyMatch {
  const ns = pod.metadata.namespace ?? '';
  const name = pod.metadata.name ?? '';
  for (const [index, rule] of (policy.rules ?? []).entries()) {
    let failJobMessage: string | undefined;
    if (rule.onExitCodes) {
      const c = matchOnExitCodes(pod, rule.onExitCodes);
      if (!c) continue;
      failJobMessage = `Container ${c.name} for pod ${ns}/${name} failed with exit code ${c.state?.terminated?.exitCode} matching ${rule.action} rule at index ${index}`;
    } else if (rule.onPodConditions) {
      const type = matchOnPodConditions(pod, rule.onPodConditions);
      if (!type) continue;
      failJobMessage = `Pod ${ns}/${name} has condition ${type} matching ${rule.action} rule at index ${index}`;
    } else continue;
    switch (rule.action) {
      case 'Ignore':
        return { countFailed: false, action: 'Ignore' };
      case 'FailJob':
        return { jobFailureMessage: failJobMessage, countFailed: true, action: 'FailJob' };
      default:
        return { countFailed: true, action: rule.action };
    }
  }
  return { countFailed: true };
}

function matchOnExitCodes(
  pod: Pod,
  req: NonNullable<PodFailurePolicyRule['onExitCodes']>,
): TerminatedStatus | undefined {
  const statuses = [
    ...((pod.status?.initContainerStatuses ?? []) as TerminatedStatus[]),
    ...((pod.status?.containerStatuses ?? []) as TerminatedStatus[]),
  ];
  return statuses.find((c) => {
    const code = c.state?.terminated?.exitCode;
    if (code === undefined || code === 0) return false;
    if (req.containerName && req.containerName !== c.name) return false;
    const listed = req.values.includes(code);
    return req.operator === 'In' ? listed : !listed;
  });
}

function matchOnPodConditions(
  pod: Pod,
  reqs: NonNullable<PodFailurePolicyRule['onPodConditions']>,
): string | undefined {
  for (const c of pod.status?.conditions ?? [])
    for (const r of reqs) if (r.type === c.type && (r.status ?? 'True') === c.status) return c.type;
  return undefined;
}
