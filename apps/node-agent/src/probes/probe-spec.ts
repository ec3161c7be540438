import { type Probe } from '../api-types.js';

/** The three probe kinds, named as upstream's probeType.String() prints them in messages. */
export type ProbeKind = 'Liveness' | 'Readiness' | 'Startup';

/** A probe with every timing field set. */
export interface ProbeTiming {
  initialDelaySeconds: number;
  periodSeconds: number;
  timeoutSeconds: number;
  successThreshold: number;
  failureThreshold: number;
  terminationGracePeriodSeconds?: number;
}

/**
 * Upstream's defaults (SetDefaults_Probe in pkg/apis/core/v1/defaults.go). The API server
 * already applies them on create; a pod from elsewhere (a static pod, an older object) may not
 * have them, and a zero or negative value is treated as unset rather than as "probe forever".
 */
export function probeTiming(probe: Probe): ProbeTiming {
  const positive = (v: number | undefined, fallback: number) => (v !== undefined && v > 0 ? v : fallback);
  return {
    initialDelaySeconds: Math.max(0, probe.initialDelaySeconds ?? 0),
    periodSeconds: positive(probe.periodSeconds, 10),
    timeoutSeconds: positive(probe.timeoutSeconds, 1),
    successThreshold: positive(probe.successThreshold, 1),
    failureThreshold: positive(probe.failureThreshold, 3),
    ...(probe.terminationGracePeriodSeconds !== undefined
      ? { terminationGracePeriodSeconds: probe.terminationGracePeriodSeconds }
      : {}),
  };
}
