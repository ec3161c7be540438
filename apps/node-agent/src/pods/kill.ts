import { type Container, type Pod } from '../api-types.js';
import { type DockerRuntime } from '../runtime/index.js';

/** kuberuntime_container.go minimumGracePeriodInSeconds: every container gets this long after SIGTERM. */
export const MINIMUM_GRACE_SECONDS = 2;

/**
 * The grace period of a kill (setTerminationGracePeriod): the pod's deletion grace once it is
 * being deleted, else its terminationGracePeriodSeconds (default 30); a probe's own
 * terminationGracePeriodSeconds for a container killed by that probe.
 */
export function gracePeriodSeconds(pod: Pod, probeGrace?: number): number {
  const deletion = pod.metadata?.deletionGracePeriodSeconds;
  if (pod.metadata?.deletionTimestamp && deletion !== undefined) return deletion;
  if (probeGrace !== undefined) return probeGrace;
  return pod.spec?.terminationGracePeriodSeconds ?? 30;
}

type Handler = NonNullable<NonNullable<Container['lifecycle']>['preStop']>;

/**
 * Stops containers the kubelet's way (kuberuntime_container.go killContainer): the preStop
 * hook first, within the grace period, then SIGTERM and, once what is left of the grace
 * period (at least 2 s) is over, SIGKILL.
 */
export class ContainerKiller {
  constructor(
    private readonly runtime: DockerRuntime,
    private readonly log: (message: string) => void,
  ) {}

  async kill(
    pod: Pod,
    containerId: string,
    spec: Container | undefined,
    graceSeconds: number,
    podIP: string | undefined,
  ): Promise<void> {
    let grace = graceSeconds;
    const preStop = spec?.lifecycle?.preStop;
    if (preStop && grace > 0) {
      const started = Date.now();
      await this.preStop(pod, containerId, spec!, preStop, grace * 1000, podIP);
      grace -= (Date.now() - started) / 1000;
    }
    grace = Math.max(grace, MINIMUM_GRACE_SECONDS);
    await this.runtime.stopContainer(containerId, grace);
  }

  /** executePreStopHook: runs the hook, giving up (not failing the kill) when the grace period is over. */
  private async preStop(
    pod: Pod,
    containerId: string,
    container: Container,
    hook: Handler,
    timeoutMs: number,
    podIP: string | undefined,
  ): Promise<void> {
    const what = `PreStop hook of ${pod.metadata?.namespace}/${pod.metadata?.name}/${container.name}`;
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<void>((resolve) => (timer = setTimeout(resolve, timeoutMs)));
    const run = (async () => {
      if (hook.exec?.command) {
        const r = await this.runtime.execCapture(containerId, hook.exec.command, timeoutMs);
        if (r.exitCode !== 0)
          this.log(`${what} failed: exit code ${r.exitCode ?? 'none (timed out)'}: ${r.output.trim()}`);
      } else if (hook.httpGet) {
        const url = hookUrl(hook.httpGet, container, podIP);
        if (!url) return this.log(`${what}: no address to send the request to`);
        const headers = Object.fromEntries((hook.httpGet.httpHeaders ?? []).map((h) => [h.name, h.value]));
        const res = await fetch(url, { headers, signal: AbortSignal.timeout(timeoutMs) });
        await res.arrayBuffer();
        if (res.status < 200 || res.status >= 400) this.log(`${what} failed: HTTP ${res.status}`);
      } else if (hook.sleep) {
        await new Promise((resolve) => setTimeout(resolve, Math.min(hook.sleep!.seconds * 1000, timeoutMs)));
      }
    })().catch((e: unknown) => this.log(`${what} failed: ${(e as Error).message}`));
    await Promise.race([run, timeout]).finally(() => clearTimeout(timer));
  }
}

/** The hook's URL: its host or the pod's IP, a numeric or named port, its path (lifecycle/handlers.go). */
function hookUrl(
  get: NonNullable<Handler['httpGet']>,
  container: Container,
  podIP: string | undefined,
): string | undefined {
  const host = get.host || podIP;
  if (!host) return undefined;
  let port = get.port;
  if (typeof port === 'string' && !/^\d+$/.test(port))
    port = container.ports?.find((p) => p.name === port)?.containerPort ?? 80;
  const scheme = (get.scheme ?? 'HTTP').toLowerCase();
  const path = get.path ? (get.path.startsWith('/') ? get.path : `/${get.path}`) : '/';
  return `${scheme}://${host}:${port}${path}`;
}
