/**
 * Endpoint-change propagation as a client sees it: after a change at `changedAt`, probes (new
 * connections to the Service, each answering with the endpoint it reached) show when the proxy
 * started or stopped routing to the endpoint that changed. Pure functions over the probe log,
 * so the judgement is unit-tested apart from sockets.
 */

export interface Probe {
  /** performance.now() when the connection was started and when the answer was complete. */
  sentAt: number;
  doneAt: number;
  /** The endpoint that answered, or undefined when the probe failed. */
  answer?: string;
  error?: string;
}

export type ChangeKind = 'add' | 'remove';

/**
 * An added endpoint is routed to from the first probe sent after the change that reached it:
 * its completion is the (upper-bound) time the proxy had the endpoint.
 */
export function addedAfter(probes: Probe[], changedAt: number, endpoint: string): number | undefined {
  const hit = probes.find((p) => p.sentAt >= changedAt && p.answer === endpoint);
  return hit === undefined ? undefined : hit.doneAt - changedAt;
}

/**
 * A removed endpoint is gone once no probe reaches it any more: the delay is the completion of
 * the last probe that still reached it (0 when none did after the change), but only once at
 * least `confirm.probes` successful probes over `confirm.ms` since then saw other endpoints —
 * round robin may skip an endpoint that is still routed for (endpoints − 1) probes in a row,
 * so a short run of misses proves nothing. Undefined until confirmed.
 */
export function removedAfter(
  probes: Probe[],
  changedAt: number,
  endpoint: string,
  confirm: { probes: number; ms: number },
): number | undefined {
  const after = probes.filter((p) => p.sentAt >= changedAt);
  let last = -1;
  after.forEach((p, i) => {
    if (p.answer === endpoint) last = i;
  });
  const since = after.slice(last + 1).filter((p) => p.answer !== undefined);
  if (since.length < confirm.probes) return undefined;
  const lastSeenAt = last >= 0 ? after[last].doneAt : changedAt;
  if (since[since.length - 1].doneAt - lastSeenAt < confirm.ms) return undefined;
  return lastSeenAt - changedAt;
}

/** The delay of one change, or undefined while the probes do not settle it yet. */
export function propagationDelay(
  kind: ChangeKind,
  probes: Probe[],
  changedAt: number,
  endpoint: string,
  confirm: { probes: number; ms: number },
): number | undefined {
  return kind === 'add'
    ? addedAfter(probes, changedAt, endpoint)
    : removedAfter(probes, changedAt, endpoint, confirm);
}

/**
 * Probes with `probe` (one at a time, `intervalMs` apart) from just before `change()` until
 * the change's delay is settled or `timeoutMs` passes; returns the delay (undefined: timed out),
 * and the probe log. `changedAt` is taken just before `change` starts its write.
 */
export async function measureChange(o: {
  kind: ChangeKind;
  endpoint: string;
  change: () => Promise<void>;
  probe: () => Promise<string>;
  intervalMs: number;
  timeoutMs: number;
  confirm: { probes: number; ms: number };
}): Promise<{ delayMs?: number; changedAt: number; probes: Probe[] }> {
  const probes: Probe[] = [];
  const changedAt = performance.now();
  // Caught here, thrown after the probing: a failed write must not end the process as unhandled.
  const written = o.change().then(
    () => undefined,
    (e: unknown) => e,
  );
  let delayMs: number | undefined;
  while (performance.now() - changedAt < o.timeoutMs) {
    const sentAt = performance.now();
    try {
      const answer = await o.probe();
      probes.push({ sentAt, doneAt: performance.now(), answer });
    } catch (e) {
      probes.push({ sentAt, doneAt: performance.now(), error: (e as Error).message });
    }
    delayMs = propagationDelay(o.kind, probes, changedAt, o.endpoint, o.confirm);
    if (delayMs !== undefined) break;
    if (o.intervalMs > 0) await new Promise((r) => setTimeout(r, o.intervalMs));
  }
  const writeError = await written;
  if (writeError !== undefined) throw writeError;
  return { delayMs, changedAt, probes };
}
