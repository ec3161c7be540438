import { StatusError } from '@app/api';
import { type StoredObject } from '@app/event-store';

import { type KindCache } from '../cache/kind-cache.js';
import { type ObjectService } from '../objects/object-service.js';
import { type AdmissionPlugin, type AdmissionRequest } from './admission-plugin.js';
import { type ResourceRegistry } from '@app/api';

type Json = Record<string, unknown>;

function isPodCreate(r: AdmissionRequest): r is AdmissionRequest & { object: StoredObject } {
  return (
    r.operation === 'create' && r.type.group === '' && r.type.plural === 'pods' && r.object !== undefined
  );
}

function podSpec(o: StoredObject): Json {
  o.spec ??= {};
  return o.spec as Json;
}

/** Where every container finds its service account credentials (upstream's mount path). */
export const SERVICE_ACCOUNT_MOUNT = '/var/run/secrets/kubernetes.io/serviceaccount';

/**
 * ServiceAccount admission: a pod runs as `default` unless it names an account, and gets the
 * projected token volume (token, kube-root-ca.crt, namespace) mounted in every container,
 * unless automounting is turned off.
 */
export class ServiceAccountAdmission implements AdmissionPlugin {
  readonly name = 'ServiceAccount';

  async admit(r: AdmissionRequest): Promise<void> {
    if (!isPodCreate(r)) return;
    const spec = podSpec(r.object);
    spec.serviceAccountName ??= (spec.serviceAccount as string | undefined) ?? 'default';
    spec.serviceAccount = spec.serviceAccountName;
    if (spec.automountServiceAccountToken === false) return;
    const volumes = (spec.volumes ??= []) as Json[];
    const containers = [
      ...((spec.initContainers as Json[] | undefined) ?? []),
      ...((spec.containers as Json[] | undefined) ?? []),
    ];
    const mounted = containers.some((c) =>
      ((c.volumeMounts as Json[] | undefined) ?? []).some((m) => m.mountPath === SERVICE_ACCOUNT_MOUNT),
    );
    if (mounted) return;
    const name = `kube-api-access-${Math.random().toString(36).slice(2, 7)}`;
    volumes.push({
      name,
      projected: {
        defaultMode: 0o644,
        sources: [
          { serviceAccountToken: { expirationSeconds: 3607, path: 'token' } },
          { configMap: { name: 'kube-root-ca.crt', items: [{ key: 'ca.crt', path: 'ca.crt' }] } },
          {
            downwardAPI: {
              items: [{ path: 'namespace', fieldRef: { apiVersion: 'v1', fieldPath: 'metadata.namespace' } }],
            },
          },
        ],
      },
    });
    for (const c of containers) {
      const mounts = (c.volumeMounts ??= []) as Json[];
      mounts.push({ name, readOnly: true, mountPath: SERVICE_ACCOUNT_MOUNT });
    }
  }
}

/** Built-in priority classes (upstream scheduling/v1 SystemPriorityClasses). */
const SYSTEM_PRIORITIES: Record<string, number> = {
  'system-node-critical': 2_000_001_000,
  'system-cluster-critical': 2_000_000_000,
};

/** Priority admission: `spec.priority` from the pod's PriorityClass (or the global default, or 0). */
export class PriorityAdmission implements AdmissionPlugin {
  readonly name = 'Priority';

  constructor(
    private readonly objects: () => ObjectService,
    private readonly registry: ResourceRegistry,
    /** The current priority classes cache (FollowedCaches replaces one that stopped). */
    private readonly classes?: () => KindCache,
  ) {}

  async admit(r: AdmissionRequest): Promise<void> {
    if (!isPodCreate(r)) return;
    const spec = podSpec(r.object);
    const classes = this.registry.get('scheduling.k8s.io', 'v1', 'priorityclasses');
    // The cache once it has caught up with this server's own writes; else a live read.
    const cache = this.classes?.();
    const cached = cache && (await cache.sync(this.objects().lastWriteOf(classes)));
    const className = spec.priorityClassName as string | undefined;
    if (!className) {
      const all = cached ? cache.list() : (await this.objects().list(classes, undefined, {})).items;
      const global = all.find((c) => (c as Json).globalDefault === true) as Json | undefined;
      spec.priority ??= (global?.value as number | undefined) ?? 0;
      if (global) spec.priorityClassName = global.metadata && (global.metadata as Json).name;
      spec.preemptionPolicy ??= (global?.preemptionPolicy as string | undefined) ?? 'PreemptLowerPriority';
      return;
    }
    let value = SYSTEM_PRIORITIES[className];
    let policy = 'PreemptLowerPriority';
    if (value === undefined) {
      try {
        const pc = ((cached ? cache.get('', className) : undefined) ??
          (await this.objects().get(classes, '', className))) as Json;
        value = pc.value as number;
        policy = (pc.preemptionPolicy as string | undefined) ?? policy;
      } catch (e) {
        if (e instanceof StatusError && e.reason === 'NotFound')
          throw new StatusError(
            'Forbidden',
            `pods "${String(r.object.metadata.name ?? '')}" is forbidden: no PriorityClass with name ${className} was found`,
            { kind: 'pods', name: String(r.object.metadata.name ?? '') },
          );
        throw e;
      }
    }
    spec.priority = value;
    spec.preemptionPolicy ??= policy;
  }
}

/** DefaultTolerationSeconds: pods tolerate not-ready and unreachable nodes for 300 s, then are evicted. */
export class DefaultTolerationSeconds implements AdmissionPlugin {
  readonly name = 'DefaultTolerationSeconds';

  constructor(private readonly seconds = 300) {}

  async admit(r: AdmissionRequest): Promise<void> {
    if (!isPodCreate(r)) return;
    const spec = podSpec(r.object);
    const tolerations = (spec.tolerations ??= []) as Json[];
    for (const key of ['node.kubernetes.io/not-ready', 'node.kubernetes.io/unreachable']) {
      const covered = tolerations.some(
        (t) =>
          (t.key === key || (t.key === undefined && t.operator === 'Exists')) &&
          (t.effect === undefined || t.effect === 'NoExecute'),
      );
      if (!covered)
        tolerations.push({ key, operator: 'Exists', effect: 'NoExecute', tolerationSeconds: this.seconds });
    }
  }
}

/** LimitRanger: containers without requests or limits get the namespace's LimitRange defaults. */
export class LimitRanger implements AdmissionPlugin {
  readonly name = 'LimitRanger';

  constructor(
    private readonly objects: () => ObjectService,
    private readonly registry: ResourceRegistry,
    /** The current limit ranges cache (FollowedCaches replaces one that stopped). */
    private readonly ranges?: () => KindCache,
  ) {}

  async admit(r: AdmissionRequest): Promise<void> {
    if (!isPodCreate(r)) return;
    // The cache once it has caught up with this server's own writes; else a live read.
    const cache = this.ranges?.();
    const cached = cache && (await cache.sync(this.objects().lastWriteOf(cache.type)));
    const ranges = cached
      ? cache.list(r.namespace)
      : (await this.objects().list(this.registry.get('', 'v1', 'limitranges'), r.namespace, {})).items;
    const limits = ranges
      .flatMap((lr) => ((lr.spec as Json | undefined)?.limits as Json[] | undefined) ?? [])
      .filter((l) => l.type === 'Container');
    if (limits.length === 0) return;
    const spec = podSpec(r.object);
    for (const c of [
      ...((spec.initContainers as Json[] | undefined) ?? []),
      ...((spec.containers as Json[] | undefined) ?? []),
    ]) {
      const resources = (c.resources ??= {}) as Json;
      for (const l of limits) {
        const defaults = (l.default as Json | undefined) ?? {};
        const requests = (l.defaultRequest as Json | undefined) ?? {};
        const cl = (resources.limits ??= {}) as Json;
        const cr = (resources.requests ??= {}) as Json;
        for (const [k, v] of Object.entries(defaults)) cl[k] ??= v;
        // Upstream: a missing request defaults to defaultRequest, else to the limit.
        for (const k of new Set([...Object.keys(requests), ...Object.keys(cl)]))
          cr[k] ??= requests[k] ?? cl[k];
        if (Object.keys(cl).length === 0) delete resources.limits;
        if (Object.keys(cr).length === 0) delete resources.requests;
      }
    }
  }
}
