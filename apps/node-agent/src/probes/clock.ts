/**
 * Time as the probe workers see it: injectable so unit tests run the workers on fake time
 * (the kubelet's prober takes a clock for the same reason).
 */
export interface Clock {
  /** Milliseconds since the epoch. */
  now(): number;
  setTimeout(fn: () => void, ms: number): TimerHandle;
  clearTimeout(handle: TimerHandle): void;
}

/** Opaque to the workers: whatever the clock's setTimeout returned. */
export type TimerHandle = unknown;

export const realClock: Clock = {
  now: () => Date.now(),
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: (handle) => clearTimeout(handle as NodeJS.Timeout),
};
