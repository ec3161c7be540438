import {
  applyDefaults,
  applyJsonPatch,
  applyMergePatch,
  applyStrategicMergePatch,
  apiVersionOf,
  type FieldValidation,
  isObject,
  nameRuleFor,
  prepareJobForCreate,
  qosClass,
  type ResourceType,
  StatusError,
  type StatusCause,
  storageOf,
  toServed,
  toStored,
  trackUpdate,
  serverSideApply,
  UNTRACKED,
  validateKind,
  validateKindChange,
  validateObjectMeta,
  validateObjectMetaUpdate,
  validateSchema,
  validateShape,
  fieldIdentity,
} from '@app/api';
import {
  type AuditContext,
  type EventStore,
  type ListOptions,
  type ListResult,
  type MutationResult,
  type ObjectKey,
  type Preconditions,
  type StoredObject,
} from '@app/event-store';

import { type AdmissionRequest, type AdmissionPlugin } from '../admission/admission-plugin.js';
import { generateName } from './generate-name.js';
import { type PartSubresource, partOf, withPartOf } from './subresource-parts.js';
import { assignToNode } from './pod-binding.js';
import { type RequestContext } from './request-context.js';
import { type Scale, toScale } from './scale.js';

export type PatchType = 'merge' | 'json' | 'strategic';

/**
 * Work tied to an object's writes that is not the object itself: claiming what it needs before
 * it is stored (a Service's ClusterIP), releasing that when it goes.
 */
export interface WriteHook {
  /** Before `next` is stored (over `current`, if any); returns what undoes it should the write fail. */
  beforeWrite(
    t: ResourceType,
    next: StoredObject,
    current: StoredObject | undefined,
    ctx: AuditContext,
  ): Promise<(() => Promise<void>) | undefined>;
  /** After a write: `next` is what is stored now (undefined once deleted). */
  afterWrite(
    t: ResourceType,
    previous: StoredObject,
    next: StoredObject | undefined,
    ctx: AuditContext,
  ): Promise<void>;
}

export interface WriteOptions {
  dryRun?: boolean;
  /** Unknown and duplicate fields: dropped, and reported or refused per its mode. */
  fieldValidation?: FieldValidation;
  /** Who writes, as recorded in managedFields (the fieldManager parameter or the User-Agent's program). */
  fieldManager?: string;
}

/** The kind `/scale` reads and writes. */
const SCALE = { group: 'autoscaling', version: 'v1', kind: 'Scale' };

/** Internal to this service: the write's managedFields were already worked out (by an apply). */
interface Tracked {
  applied?: boolean;
  /** The subresource managedFields record the write under, when not the request's own (scale). */
  trackedAs?: string;
}

/** The manager of writes made by the server itself, without a request's fieldManager. */
const SERVER_MANAGER = 'wake-api-server';

export interface DeleteOptions extends WriteOptions {
  gracePeriodSeconds?: number;
  propagationPolicy?: 'Orphan' | 'Background' | 'Foreground';
  preconditions?: Preconditions;
}

/** A list's options as the store takes them; the namespace comes from the path. */
export type ListQuery = Omit<ListOptions, 'namespace'>;

/** A delete's outcome: the object is gone (200), or it waits for finalizers or its grace period. */
export interface DeleteResult {
  object: StoredObject;
  deleted: boolean;
}

/**
 * Patches are retried this often when the object changed between read and write: upstream's
 * patch handler gives up after 5 conflicts (handlers/patch.go maxRetryWhenPatchConflicts).
 */
const CONFLICT_ATTEMPTS = 5;
/** Upstream's store retries a delete until it lands; a bound here only stops a livelock. */
const DELETE_ATTEMPTS = 50;

/**
 * A conditional write another write beat: the attempt that made it may run again over what is
 * current. `guessed`: the attempt started from the cache's copy, which may only have been behind.
 */
class LostRace extends Error {
  constructor(
    readonly error: StatusError,
    readonly guessed = false,
  ) {
    super(error.message);
  }
}

/** `write`, its failure for one of `reasons` marked as a lost race (see untilWon). */
async function racing<T>(
  write: Promise<T>,
  reasons: readonly string[] = ['Conflict'],
  guessed = false,
): Promise<T> {
  try {
    return await write;
  } catch (e) {
    if (e instanceof StatusError && reasons.includes(e.reason)) throw new LostRace(e, guessed);
    throw e;
  }
}

/**
 * Runs `attempt` (a read, then writes conditional on what it read) again while one of its
 * writes loses a race, at most `attempts` times in all; then the lost write's error. Upstream's
 * GuaranteedUpdate loop (staging/src/k8s.io/apiserver/pkg/storage/etcd3/store.go) and its
 * patch handler's retries. Anything else the attempt throws (a failed precondition) ends it.
 * The first attempt may start from the cache's copy (`fresh` false); a race lost on that copy
 * is not the caller's: the attempt runs again on a read of Postgres, uncounted, as upstream's
 * GuaranteedUpdate refreshes a stale `cachedExistingObject` (origStateIsCurrent).
 */
async function untilWon<T>(
  attempts: number,
  attempt: (fresh: boolean) => Promise<T>,
  onStaleGuess: () => void = () => {},
): Promise<T> {
  let lost = 0;
  for (let fresh = false; ; fresh = true) {
    try {
      return await attempt(fresh);
    } catch (e) {
      if (!(e instanceof LostRace)) throw e;
      if (e.guessed) onStaleGuess();
      else if (++lost >= attempts) throw e.error;
    }
  }
}

/**
 * Where a write may take the object's current state from without reading Postgres: the API
 * server's watch cache (ListCache). A private copy, possibly behind the log; undefined when the
 * kind is not cached or the object is not in it.
 */
export interface CurrentGuesses {
  guess(t: ResourceType, namespace: string, name: string): StoredObject | undefined;
  /** True when the kind's cache is current enough to say so and has no such object. */
  absent(t: ResourceType, namespace: string, name: string): boolean;
  /** A write computed from a guess of `t` lost: the guess was behind (counted for operators). */
  stale(t: ResourceType): void;
}

/** The object a write is computed from, and whether it is the cache's guess rather than a read. */
interface Base {
  object: StoredObject;
  guessed: boolean;
}

/**
 * What to throw for `e`, raised before the write by an attempt computed from `guessed` state:
 * a refusal of the cache's copy may be the copy's, not the caller's, so it becomes a lost race
 * and the attempt runs again on a read — upstream's GuaranteedUpdate retries any error of its
 * update function while its state is not known current (origStateIsCurrent).
 */
function refusalOfGuess(guessed: boolean | undefined, e: unknown): unknown {
  return guessed && e instanceof StatusError ? new LostRace(e, true) : e;
}

/** `compute`'s result; a refusal of it computed from the cache's copy is retried on a read. */
function guarded<T>(base: Base, compute: () => T): T {
  try {
    return compute();
  } catch (e) {
    throw refusalOfGuess(base.guessed, e);
  }
}

/**
 * The precondition of a write computed from `base`: its resourceVersion, so that the write can
 * never land on a later version than it was computed from (upstream's GuaranteedUpdate commits
 * only on origState's revision). A resourceVersion the client sent must be that one: 409
 * Conflict otherwise, unless `base` was the cache's guess, which may just be behind (read
 * Postgres and try again).
 */
function conditionOn(t: ResourceType, name: string, base: Base, sentRv: unknown): Preconditions {
  const rv = base.object.metadata.resourceVersion as string;
  if (typeof sentRv === 'string' && sentRv !== '' && sentRv !== rv) {
    const conflict = StatusError.conflict(target(t, name));
    throw base.guessed ? new LostRace(conflict, true) : conflict;
  }
  return { resourceVersion: rv };
}

/** Fields of `metadata` only the server sets: what a client sends for them is ignored. */
const SERVER_META = [
  'uid',
  'resourceVersion',
  'creationTimestamp',
  'deletionTimestamp',
  'deletionGracePeriodSeconds',
  'generation',
  'selfLink',
];

/**
 * The Kubernetes object semantics on top of the event store: addressing by kind, defaulting,
 * validation, admission, status and scale subresources, patches with retry, and deletion with
 * finalizers and grace periods. Every write is one conditional append (or none, when nothing
 * changes), so the store's optimistic concurrency is what callers see as 409 Conflict.
 */
export class ObjectService {
  /** The resourceVersion of this server's latest write of each kind (`group/resource`). */
  private readonly lastWrites = new Map<string, number>();

  constructor(
    private readonly store: EventStore,
    private readonly admission: AdmissionPlugin[] = [],
    private readonly hooks: WriteHook[] = [],
    private readonly guesses?: CurrentGuesses,
  ) {}

  /**
   * The latest resourceVersion this server wrote objects of `t` at (0: none): what a cache of
   * that kind must have reached for a read to see this server's own writes.
   */
  lastWriteOf(t: ResourceType): number {
    const s = storageOf(t);
    return this.lastWrites.get(`${s.group}/${s.resource}`) ?? 0;
  }

  private wrote(t: ResourceType, result: MutationResult): MutationResult {
    if (result.event) {
      const s = storageOf(t);
      const id = `${s.group}/${s.resource}`;
      this.lastWrites.set(id, Math.max(this.lastWrites.get(id) ?? 0, result.resourceVersion));
    }
    return result;
  }

  async get(t: ResourceType, namespace: string, name: string): Promise<StoredObject> {
    const found = await this.store.get(keyOf(t, namespace, name));
    if (!found) throw StatusError.notFound(target(t, name));
    return present(t, found.object);
  }

  /**
   * What a write starts from: the cache's copy unless `fresh` (saving a read of Postgres per
   * update and patch, as upstream's cacher passes its copy to GuaranteedUpdate), else a read.
   * A dry run asks for a read: it writes nothing that could find a stale copy out.
   */
  private async base(t: ResourceType, namespace: string, name: string, fresh: boolean): Promise<Base> {
    const guess = fresh ? undefined : this.guesses?.guess(t, namespace, name);
    if (guess) return { object: present(t, guess), guessed: true };
    return { object: await this.get(t, namespace, name), guessed: false };
  }

  /**
   * Whether a create may skip the store's read of the object (see the create Mutation's
   * `absent`): the kind's cache lacks it, or it is an Event, whose names carry the time in
   * nanoseconds (client-go's "<object>.<hex nanos>") and which are the most frequent creates.
   * A generated name is believed absent by its caller.
   */
  private believedAbsent(t: ResourceType, namespace: string, name: string): boolean {
    const s = storageOf(t);
    if (s.group === '' && s.resource === 'events') return true;
    return this.guesses?.absent(t, namespace, name) ?? false;
  }

  async list(t: ResourceType, namespace: string | undefined, query: ListQuery): Promise<ListResult> {
    const s = storageOf(t);
    const result = await this.store.list(s, {
      ...query,
      // Raw JSON passes through only where the stored shape is the served one.
      raw: query.raw === true && !t.storage,
      ...(t.namespaced && namespace ? { namespace } : {}),
    });
    return { ...result, items: result.items.map((o) => present(t, o)) };
  }

  /**
   * Streams the current objects of `t` as JSON text to `write`, page by page from one snapshot.
   * Only for kinds stored in their served shape (the caller checks `t.storage`).
   */
  async streamList(
    t: ResourceType,
    namespace: string | undefined,
    query: Pick<ListQuery, 'labelSelector' | 'fieldSelector' | 'notOlderThan'>,
    write: (jsonItems: string[]) => Promise<void>,
  ): Promise<number> {
    return this.store.streamList(
      storageOf(t),
      { ...query, ...(t.namespaced && namespace ? { namespace } : {}) },
      write,
    );
  }

  async create(
    t: ResourceType,
    namespace: string,
    body: unknown,
    ctx: RequestContext,
    o: WriteOptions & Tracked = {},
  ): Promise<StoredObject> {
    const served = decodeObject(t, body);
    o.fieldValidation?.check(t, served);
    const obj = toStored(t, served);
    const meta = obj.metadata;
    if (t.namespaced) {
      if (meta.namespace && meta.namespace !== namespace)
        throw StatusError.badRequest(
          'the namespace of the provided object does not match the namespace sent on the request',
        );
      meta.namespace = namespace;
    } else {
      delete meta.namespace;
    }
    for (const f of SERVER_META) delete meta[f];
    // A kind with a status subresource starts with the status its defaults give it, whatever was sent.
    if (t.subresources.includes('status') && t.plural !== 'nodes') delete obj.status;
    this.checkShape(t, obj);
    applyDefaults(t.group, t.plural, obj);
    if (!o.applied) track(t, undefined, obj, o);
    await this.admit({ operation: 'create', type: t, namespace, object: obj, actor: ctx.actor });
    // As upstream's PrepareForCreate, after mutating admission (LimitRanger may add resources).
    if (t.group === '' && t.plural === 'pods')
      (obj.status as Record<string, unknown>).qosClass = qosClass(
        (obj.spec ?? {}) as Record<string, unknown>,
      );
    const fixedName = typeof meta.name === 'string' && meta.name !== '';
    for (let attempt = 0; ; attempt++) {
      if (!fixedName && typeof meta.generateName === 'string') meta.name = generateName(meta.generateName);
      // The Job strategy's generateSelector needs the name and the uid, which it assigns here.
      const uid = t.group === 'batch' && t.plural === 'jobs' ? prepareJobForCreate(obj) : undefined;
      await this.validate(t, obj, { old: undefined });
      if (o.dryRun)
        return present(t, {
          ...obj,
          metadata: { ...meta, creationTimestamp: new Date().toISOString().slice(0, 19) + 'Z' },
        });
      const audit = { ...ctx, verb: 'create' };
      const undo = await this.beforeWrite(t, obj, undefined, audit);
      try {
        const result = this.wrote(
          t,
          await this.store.create(keyOf(t, namespace, meta.name as string), obj, audit, uid, {
            absent: !fixedName || this.believedAbsent(t, namespace, meta.name as string),
          }),
        );
        return present(t, result.object);
      } catch (e) {
        await undo();
        // A generated name that happens to exist: draw another (upstream retries the same way).
        if (fixedName || attempt >= 3 || !(e instanceof StatusError) || e.reason !== 'AlreadyExists')
          throw asTyped(e, t);
      }
    }
  }

  /** PUT: replaces the object (or only its status), conditional on `metadata.resourceVersion` when sent. */
  async update(
    t: ResourceType,
    namespace: string,
    name: string,
    body: unknown,
    ctx: RequestContext,
    o: WriteOptions & { subresource?: PartSubresource | 'finalize' } = {},
  ): Promise<StoredObject> {
    const obj = decodeObject(t, body);
    o.fieldValidation?.check(t, obj);
    checkAddress(t, obj, namespace, name);
    const sentRv = obj.metadata.resourceVersion;
    // Without a resourceVersion an update is unconditional: it applies over whatever is current.
    const unconditional = typeof sentRv !== 'string' || sentRv === '';
    return untilWon(
      CONFLICT_ATTEMPTS,
      async (fresh) => {
        const base = await this.base(t, namespace, name, fresh || o.dryRun === true);
        const uid = obj.metadata.uid;
        if (typeof uid === 'string' && uid !== base.object.metadata.uid) {
          const conflict = StatusError.conflict(
            target(t, name),
            `Precondition failed: UID in precondition: ${uid}, UID in object meta: ${shown(base.object.metadata.uid)}`,
          );
          throw base.guessed ? new LostRace(conflict, true) : conflict;
        }
        const preconditions = conditionOn(t, name, base, sentRv);
        // A copy per attempt: a write changes what it is given (defaults, admission).
        const sent = structuredClone(obj);
        const write = this.replace(t, namespace, base.object, sent, ctx, 'update', preconditions, {
          ...o,
          guessed: base.guessed,
        });
        return unconditional || base.guessed ? racing(write, undefined, base.guessed) : write;
      },
      () => this.guesses?.stale(t),
    );
  }

  async patch(
    t: ResourceType,
    namespace: string,
    name: string,
    type: PatchType,
    patch: unknown,
    ctx: RequestContext,
    o: WriteOptions & { subresource?: PartSubresource } = {},
  ): Promise<StoredObject> {
    return untilWon(
      CONFLICT_ATTEMPTS,
      async (fresh) => {
        const base = await this.base(t, namespace, name, fresh || o.dryRun === true);
        const current = base.object;
        const next = guarded(base, () => {
          // A JSON patch's `test` may fail on a copy that is behind: guarded retries on a read.
          const patched = applyPatch(type, current, patch);
          if (!isObject(patched) || !isObject(patched.metadata))
            throw StatusError.badRequest('the patch removed the object metadata');
          o.fieldValidation?.check(t, patched as StoredObject, false);
          return patched as StoredObject;
        });
        // A patch that names a resourceVersion is a precondition; otherwise it applies to whatever
        // is current (a write that lost is patched again over what won, until a named one differs).
        const preconditions = conditionOn(t, name, base, next.metadata.resourceVersion);
        const write = this.replace(t, namespace, current, next, ctx, 'patch', preconditions, {
          ...o,
          guessed: base.guessed,
        });
        return racing(write, undefined, base.guessed);
      },
      () => this.guesses?.stale(t),
    );
  }

  /**
   * Server-side apply (PATCH with `application/apply-patch+yaml`): merges the configuration into
   * the object, or creates it when missing (`created`), as `o.fieldManager`; 409 on conflicts
   * with other managers unless `force`.
   */
  async apply(
    t: ResourceType,
    namespace: string,
    name: string,
    body: unknown,
    ctx: RequestContext,
    o: WriteOptions & { fieldManager: string; force?: boolean; subresource?: PartSubresource },
  ): Promise<{ object: StoredObject; created: boolean }> {
    let config = applyConfigOf(t, body, namespace, name);
    // Unknown fields leave the configuration before they could be merged or owned.
    o.fieldValidation?.check(t, config, false);
    // A resourceVersion in the configuration is a precondition, as in any other write.
    const sentRv = config.metadata.resourceVersion;
    const expectedRv = typeof sentRv === 'string' && sentRv !== '' ? sentRv : undefined;
    // Only a subresource's part is written through it (upstream resets the rest): apply only that.
    if (o.subresource)
      config = {
        apiVersion: config.apiVersion,
        kind: config.kind,
        metadata: { name, ...(t.namespaced ? { namespace } : {}) },
        ...partOf(o.subresource, config),
      };
    const track = {
      kind: { group: t.group, plural: t.plural },
      apiVersion: apiVersionOf(t),
      manager: o.fieldManager,
      ...(o.subresource ? { subresource: o.subresource } : {}),
      now: rfc3339(Date.now()),
      ignored: ignoredPaths(t, o.subresource),
      config,
      force: o.force === true,
    };
    // Raced with another write (or create): apply again over what is there now, unless the
    // configuration named the resourceVersion it applies to.
    return untilWon(expectedRv === undefined ? CONFLICT_ATTEMPTS : 1, async () => {
      const current = await this.get(t, namespace, name).catch((e: unknown) => {
        if (e instanceof StatusError && e.reason === 'NotFound' && !o.subresource) return undefined;
        throw e;
      });
      const next = serverSideApply({ ...track, live: current }) as StoredObject;
      const raced = ['Conflict', 'AlreadyExists'];
      if (!current)
        return {
          object: await racing(this.create(t, namespace, next, ctx, { ...o, applied: true }), raced),
          created: true,
        };
      const preconditions = conditionOn(t, name, { object: current, guessed: false }, expectedRv);
      const write = this.replace(t, namespace, current, next, ctx, 'patch', preconditions, {
        ...o,
        applied: true,
      });
      return { object: await racing(write, raced), created: false };
    });
  }

  /**
   * DELETE, graceful or not. Without a resourceVersion precondition a concurrent write (a
   * controller's status update) is not the caller's conflict: the delete is re-read and retried,
   * as upstream's store does (etcd3 store.Delete / GuaranteedUpdate retry on a changed object).
   */
  async delete(
    t: ResourceType,
    namespace: string,
    name: string,
    ctx: RequestContext,
    o: DeleteOptions = {},
  ): Promise<DeleteResult> {
    const retry = o.preconditions?.resourceVersion === undefined;
    return untilWon(retry ? DELETE_ATTEMPTS : 1, () => this.deleteOnce(t, namespace, name, ctx, o));
  }

  /** One read of the object and the write that deletes or marks it (a lost race throws LostRace). */
  private async deleteOnce(
    t: ResourceType,
    namespace: string,
    name: string,
    ctx: RequestContext,
    o: DeleteOptions,
  ): Promise<DeleteResult> {
    const current = await this.get(t, namespace, name);
    const key = keyOf(t, namespace, name);
    const pre = o.preconditions ?? {};
    if (pre.uid !== undefined && pre.uid !== current.metadata.uid)
      throw StatusError.conflict(
        target(t, name),
        `Precondition failed: UID in precondition: ${pre.uid}, UID in object meta: ${current.metadata.uid}`,
      );
    if (pre.resourceVersion !== undefined && pre.resourceVersion !== current.metadata.resourceVersion)
      throw StatusError.conflict(target(t, name));
    await this.admit({ operation: 'delete', type: t, namespace, old: current, actor: ctx.actor });

    const meta = current.metadata;
    const finalizers = deletionFinalizers(
      (meta.finalizers as string[] | undefined) ?? [],
      o.propagationPolicy,
    );
    const grace = gracePeriod(t, current, o.gracePeriodSeconds);
    const nsFinalizers = hasNamespaceFinalizers(t, current);

    if (finalizers.length === 0 && grace === 0 && !nsFinalizers) {
      if (o.dryRun) return { object: current, deleted: true };
      return { object: await racing(this.remove(t, current, { ...ctx, verb: 'delete' })), deleted: true };
    }
    // Graceful: mark the object; whoever owns its end (the kubelet, the finalizers' controllers)
    // completes the deletion. A second delete may only shorten the grace period.
    const already = typeof meta.deletionTimestamp === 'string';
    const previousGrace = (meta.deletionGracePeriodSeconds as number | undefined) ?? 0;
    const newGrace = already ? Math.min(previousGrace, grace) : grace;
    if (
      already &&
      newGrace === previousGrace &&
      sameSet(finalizers, (meta.finalizers as string[] | undefined) ?? [])
    )
      return { object: current, deleted: false };
    const deletionTimestamp = rfc3339(Date.now() + newGrace * 1000);
    const next: StoredObject = {
      ...current,
      metadata: {
        ...meta,
        deletionTimestamp: already && newGrace === previousGrace ? meta.deletionTimestamp : deletionTimestamp,
        deletionGracePeriodSeconds: newGrace,
        finalizers,
      },
    };
    if (finalizers.length === 0) delete next.metadata.finalizers;
    if (nsFinalizers) next.status = { ...(next.status as object), phase: 'Terminating' };
    if (already && newGrace === 0 && finalizers.length === 0 && !nsFinalizers) {
      if (o.dryRun) return { object: current, deleted: true };
      return { object: await racing(this.remove(t, current, { ...ctx, verb: 'delete' })), deleted: true };
    }
    if (o.dryRun) return { object: present(t, next), deleted: false };
    const marked = await racing(
      this.store.update(key, next, { ...ctx, verb: 'delete' }, { resourceVersion: meta.resourceVersion }),
    );
    return { object: present(t, this.wrote(t, marked).object), deleted: false };
  }

  async getScale(t: ResourceType, namespace: string, name: string): Promise<Scale> {
    return toScale(await this.get(t, namespace, name));
  }

  /** PUT or PATCH of `/scale`: sets `spec.replicas`, conditional on the Scale's resourceVersion when sent. */
  async updateScale(
    t: ResourceType,
    namespace: string,
    name: string,
    scale: unknown,
    ctx: RequestContext,
    o: WriteOptions & { verb?: string } = {},
  ): Promise<Scale> {
    if (!isObject(scale) || !isObject(scale.spec))
      throw StatusError.badRequest('the body must be a Scale with spec.replicas');
    o.fieldValidation?.check(SCALE, scale, o.verb !== 'patch');
    const replicas = scale.spec.replicas;
    const scaleName = isObject(scale.metadata) ? scale.metadata.name : undefined;
    if (scaleName !== undefined && scaleName !== name)
      throw StatusError.badRequest(
        `the name of the object (${shown(scaleName)}) does not match the name on the URL (${name})`,
      );
    if (typeof replicas !== 'number' || !Number.isInteger(replicas) || replicas < 0)
      throw StatusError.invalid({ kind: 'Scale', group: 'autoscaling', resource: 'scale', name }, [
        {
          reason: 'FieldValueInvalid',
          message: `Invalid value: ${JSON.stringify(replicas)}: must be greater than or equal to 0`,
          field: 'spec.replicas',
        },
      ]);
    const current = await this.get(t, namespace, name);
    const rv = isObject(scale.metadata) ? scale.metadata.resourceVersion : undefined;
    const next: StoredObject = { ...current, spec: { ...(current.spec as object), replicas } };
    const updated = await this.replace(
      t,
      namespace,
      current,
      next,
      ctx,
      o.verb ?? 'update',
      conditionOn(t, name, { object: current, guessed: false }, rv),
      { ...o, trackedAs: 'scale' },
    );
    return toScale(updated);
  }

  async patchScale(
    t: ResourceType,
    namespace: string,
    name: string,
    type: PatchType,
    patch: unknown,
    ctx: RequestContext,
    o: WriteOptions = {},
  ): Promise<Scale> {
    const scale = await this.getScale(t, namespace, name);
    const patched = applyPatch(type, scale as unknown as StoredObject, patch);
    return this.updateScale(t, namespace, name, patched, ctx, { ...o, verb: 'patch' });
  }

  /** `pods/binding`: assigns an unbound pod to a node, once (the scheduler's write). */
  async bind(
    t: ResourceType,
    namespace: string,
    name: string,
    binding: unknown,
    ctx: RequestContext,
  ): Promise<void> {
    const node = isObject(binding) && isObject(binding.target) ? binding.target.name : undefined;
    if (typeof node !== 'string' || node === '')
      throw StatusError.invalid({ kind: 'Binding', resource: 'bindings', name }, [
        { reason: 'FieldValueRequired', message: 'Required value', field: 'target.name' },
      ]);
    // Checked and written in one step under the log-head lock: no separate read, and a pod
    // bound or deleted by a write that lands first is refused here, never overwritten.
    const assign = assignToNode(target(t, name), node, rfc3339(Date.now()));
    this.wrote(t, await this.store.update(keyOf(t, namespace, name), assign, { ...ctx, verb: 'create' }));
  }

  /**
   * Writes `sent` over `current`: keeps what the client may not change (identity, deletion
   * marks, and the part the request's subresource does not cover), defaults, admits, validates,
   * appends conditionally, and completes a deletion the write allowed (last finalizer removed).
   * With `o.guessed` (`current` is the cache's copy) a refusal before the write — validation,
   * admission ("no new finalizers" against a copy that lacks one) — goes through refusalOfGuess.
   */
  private async replace(
    t: ResourceType,
    namespace: string,
    current: StoredObject,
    sent: StoredObject,
    ctx: RequestContext,
    verb: string,
    preconditions: Preconditions,
    o: WriteOptions & Tracked & { subresource?: PartSubresource | 'finalize'; guessed?: boolean },
  ): Promise<StoredObject> {
    let writing = false;
    try {
      const name = current.metadata.name as string;
      checkAddress(t, sent, namespace, name);
      // Both in the shape the store keeps (they differ only for kinds served in two shapes).
      current = toStored(t, current);
      sent = toStored(t, sent);
      let next: StoredObject;
      if (o.subresource === 'status' || o.subresource === 'ephemeralcontainers') {
        next = withPartOf(o.subresource, current, sent);
      } else {
        next = { ...sent, apiVersion: current.apiVersion, kind: current.kind };
        if (t.subresources.includes('status')) {
          if (current.status === undefined) delete next.status;
          else next.status = current.status;
        }
        // namespaceStrategy.PrepareForUpdate: a namespace's spec.finalizers change only through
        // /finalize (namespaceFinalizeStrategy), the namespace controller's last step.
        if (t.group === '' && t.plural === 'namespaces' && o.subresource !== 'finalize')
          next.spec = {
            ...(next.spec as object),
            finalizers: (current.spec as { finalizers?: unknown })?.finalizers,
          };
      }
      // Through a subresource that writes one part, the metadata is the current one.
      const partOnly = o.subresource === 'status' || o.subresource === 'ephemeralcontainers';
      if (!partOnly) {
        const causes = validateObjectMetaUpdate(sent.metadata, current.metadata, {
          checkUid: preconditions.uid === undefined,
        });
        if (causes.length)
          throw StatusError.invalid({ kind: t.kind, group: t.group, resource: t.plural, name }, causes);
      }
      const meta = { ...(partOnly ? current.metadata : sent.metadata) };
      for (const f of [
        'uid',
        'creationTimestamp',
        'deletionTimestamp',
        'deletionGracePeriodSeconds',
        'generation',
      ])
        if (current.metadata[f] === undefined) delete meta[f];
        else meta[f] = current.metadata[f];
      delete meta.resourceVersion;
      if (t.namespaced) meta.namespace = namespace;
      else delete meta.namespace;
      if (o.applied) {
        // An apply to /status still records its manager in the (otherwise kept) metadata.
        if (sent.metadata.managedFields === undefined) delete meta.managedFields;
        else meta.managedFields = sent.metadata.managedFields;
      }
      next.metadata = meta;
      this.checkShape(t, next);
      applyDefaults(t.group, t.plural, next);
      if (!o.applied) track(t, current, next, o, o.trackedAs ?? o.subresource);
      await this.admit({
        operation: 'update',
        type: t,
        namespace,
        object: next,
        old: current,
        subresource: o.subresource,
        actor: ctx.actor,
      });
      await this.validate(t, next, { old: current, subresource: o.subresource });
      if (o.dryRun)
        return present(t, {
          ...next,
          metadata: { ...next.metadata, resourceVersion: current.metadata.resourceVersion },
        });
      const key = keyOf(t, namespace, name);
      const audit = { ...ctx, verb };
      const undo = await this.beforeWrite(t, next, current, audit);
      let result: MutationResult;
      writing = true;
      try {
        result = this.wrote(t, await this.store.update(key, next, audit, preconditions));
      } catch (e) {
        await undo();
        throw asTyped(e, t);
      }
      if (result.event) for (const h of this.hooks) await h.afterWrite(t, current, result.object, audit);
      const after = result.object.metadata;
      const remaining = (after.finalizers as string[] | undefined) ?? [];
      if (
        after.deletionTimestamp &&
        remaining.length === 0 &&
        ((after.deletionGracePeriodSeconds as number | undefined) ?? 0) === 0 &&
        !hasNamespaceFinalizers(t, result.object)
      ) {
        await this.remove(t, result.object, { ...ctx, verb: 'delete' }).catch((e: unknown) => {
          if (!(e instanceof StatusError && (e.reason === 'NotFound' || e.reason === 'Conflict'))) throw e;
        });
      }
      return present(t, result.object);
    } catch (e) {
      throw writing ? e : refusalOfGuess(o.guessed, e);
    }
  }

  /** Deletes `current` if it is still at its resourceVersion, and releases what it held. */
  private async remove(t: ResourceType, current: StoredObject, audit: AuditContext): Promise<StoredObject> {
    const key = keyOf(t, current.metadata.namespace ?? '', current.metadata.name as string);
    const result = this.wrote(
      t,
      await this.store.delete(key, audit, { resourceVersion: current.metadata.resourceVersion }),
    );
    for (const h of this.hooks) await h.afterWrite(t, current, undefined, audit);
    return present(t, result.object);
  }

  private async beforeWrite(
    t: ResourceType,
    next: StoredObject,
    current: StoredObject | undefined,
    audit: AuditContext,
  ): Promise<() => Promise<void>> {
    const undos: (() => Promise<void>)[] = [];
    try {
      for (const h of this.hooks) {
        const undo = await h.beforeWrite(t, next, current, audit);
        if (undo) undos.push(undo);
      }
    } catch (e) {
      for (const u of undos.reverse()) await u();
      throw e;
    }
    return async () => {
      for (const u of undos.reverse()) await u();
    };
  }

  /** Before defaulting and admission, which walk into these fields. */
  private checkShape(t: ResourceType, obj: StoredObject): void {
    this.refuse(t, obj, validateShape(t.group, t.plural, obj));
  }

  /** Validates `obj` as the write makes it, over `change.old` (undefined: a create). */
  private async validate(
    t: ResourceType,
    obj: StoredObject,
    change: { old: StoredObject | undefined; subresource?: string },
  ): Promise<void> {
    const causes: StatusCause[] = [
      ...validateObjectMeta(obj.metadata, nameRuleFor(t.group, t.plural)),
      ...validateKind(t.group, t.plural, obj),
      ...validateKindChange(t.group, t.plural, obj, change.old, change.subresource),
    ];
    // Upstream's schema: types, required fields, enums; where a rule above already spoke, it wins.
    const named = new Set(causes.map((c) => fieldIdentity(c.field ?? '')));
    causes.push(...(await validateSchema(t, obj)).filter((c) => !named.has(fieldIdentity(c.field ?? ''))));
    this.refuse(t, obj, causes);
  }

  private refuse(t: ResourceType, obj: StoredObject, causes: StatusCause[]): void {
    if (causes.length)
      throw StatusError.invalid(
        {
          kind: t.kind,
          group: t.group,
          resource: t.plural,
          name: typeof obj.metadata.name === 'string' ? obj.metadata.name : '',
        },
        causes,
      );
  }

  private async admit(request: AdmissionRequest): Promise<void> {
    for (const plugin of this.admission) await plugin.admit(request);
  }
}

function hasNamespaceFinalizers(t: ResourceType, obj: StoredObject): boolean {
  return (
    t.group === '' &&
    t.plural === 'namespaces' &&
    ((obj.spec as { finalizers?: string[] })?.finalizers ?? []).length > 0
  );
}

/**
 * The finalizers a delete leaves (upstream's deletionFinalizersForGarbageCollection,
 * apiserver/pkg/registry/generic/registry/store.go): an explicit policy replaces the garbage
 * collector's finalizer the object had (Orphan ↔ Foreground; Background drops both); with
 * none, the object keeps its own. Every kind Wake serves defaults to Background (only
 * extensions/v1beta1, not served, defaulted to Orphan).
 */
function deletionFinalizers(current: string[], policy: DeleteOptions['propagationPolicy']): string[] {
  if (!policy) return [...current];
  const kept = current.filter((f) => f !== 'orphan' && f !== 'foregroundDeletion');
  if (policy === 'Orphan') kept.push('orphan');
  if (policy === 'Foreground') kept.push('foregroundDeletion');
  return kept;
}

function sameSet(a: readonly string[], b: readonly string[]): boolean {
  const bs = new Set(b);
  return a.length === b.length && a.every((x) => bs.has(x));
}

/** Seconds a delete waits: a pod bound to a node gets its grace period (its kubelet ends it); everything else 0. */
function gracePeriod(t: ResourceType, obj: StoredObject, requested: number | undefined): number {
  if (!(t.group === '' && t.plural === 'pods')) return 0;
  const spec = (obj.spec ?? {}) as { nodeName?: string; terminationGracePeriodSeconds?: number };
  const phase = (obj.status as { phase?: string } | undefined)?.phase;
  if (!spec.nodeName || phase === 'Succeeded' || phase === 'Failed') return 0;
  const grace = requested ?? spec.terminationGracePeriodSeconds ?? 30;
  return Math.max(0, grace);
}

export function keyOf(t: ResourceType, namespace: string, name: string): ObjectKey {
  const s = storageOf(t);
  return { group: s.group, resource: s.resource, namespace: t.namespaced ? namespace : '', name };
}

export function target(t: ResourceType, name: string) {
  return { resource: t.plural, group: t.group, name };
}

/** The object as this group-version serves it. */
function present(t: ResourceType, obj: StoredObject): StoredObject {
  return toServed(t, obj);
}

/** Store errors name the storage resource; say the one the client addressed. */
function asTyped(e: unknown, t: ResourceType): unknown {
  if (!(e instanceof StatusError) || !e.details || e.details.kind === t.plural) return e;
  const name = e.details.name ?? '';
  if (e.reason === 'AlreadyExists') return StatusError.alreadyExists(target(t, name));
  if (e.reason === 'NotFound') return StatusError.notFound(target(t, name));
  return e;
}

function decodeObject(t: ResourceType, body: unknown): StoredObject {
  if (!isObject(body)) throw StatusError.badRequest(`Object 'Kind' is missing in '${JSON.stringify(body)}'`);
  const obj = structuredClone(body) as StoredObject;
  const expected = apiVersionOf(t);
  if (obj.apiVersion !== undefined && obj.apiVersion !== expected)
    throw StatusError.badRequest(
      `the API version in the data (${shown(obj.apiVersion)}) does not match the expected API version (${expected})`,
    );
  if (obj.kind !== undefined && obj.kind !== t.kind)
    throw StatusError.badRequest(
      `the kind in the data (${shown(obj.kind)}) does not match the expected kind (${t.kind})`,
    );
  if (obj.metadata === undefined) obj.metadata = {};
  if (!isObject(obj.metadata)) throw StatusError.badRequest('metadata must be an object');
  obj.apiVersion = expected;
  obj.kind = t.kind;
  return obj;
}

function checkAddress(t: ResourceType, obj: StoredObject, namespace: string, name: string): void {
  if (obj.metadata.name !== undefined && obj.metadata.name !== name)
    throw StatusError.badRequest(
      `the name of the object (${shown(obj.metadata.name)}) does not match the name on the URL (${name})`,
    );
  if (
    t.namespaced &&
    obj.metadata.namespace !== undefined &&
    obj.metadata.namespace !== '' &&
    obj.metadata.namespace !== namespace
  )
    throw StatusError.badRequest(
      'the namespace of the provided object does not match the namespace sent on the request',
    );
}

function applyPatch(type: PatchType, current: StoredObject, patch: unknown): unknown {
  switch (type) {
    case 'merge':
      if (!isObject(patch)) throw StatusError.badRequest('a merge patch must be a JSON object');
      return applyMergePatch(current, patch);
    case 'json':
      return applyJsonPatch(current, patch);
    case 'strategic':
      return applyStrategicMergePatch(current, patch);
  }
}

/** A client's value in a message: its text, or its JSON (String() throws on some objects). */
function shown(v: unknown): string {
  return typeof v === 'string' ? v : JSON.stringify(v);
}

function rfc3339(ms: number): string {
  return `${new Date(ms).toISOString().slice(0, 19)}Z`;
}

/** What managedFields never record for `t`: identity, and what the write's subresource resets. */
function ignoredPaths(t: ResourceType, subresource: string | undefined): string[][] {
  const ignored = UNTRACKED.map((p) => [...p]);
  if (!subresource && t.subresources.includes('status')) ignored.push(['f:status']);
  return ignored;
}

/**
 * Records a non-apply write in `next`'s managedFields (operation Update). Paths are those of
 * the shape the client addressed (as an apply's are), whatever shape the store keeps.
 */
function track(
  t: ResourceType,
  current: StoredObject | undefined,
  next: StoredObject,
  o: WriteOptions,
  subresource?: string,
): void {
  const entries = trackUpdate({
    kind: { group: t.group, plural: t.plural },
    apiVersion: apiVersionOf(t),
    manager: o.fieldManager ?? SERVER_MANAGER,
    ...(subresource ? { subresource } : {}),
    now: rfc3339(Date.now()),
    ignored: ignoredPaths(t, subresource),
    live: current && present(t, current),
    next: present(t, next),
  });
  if (entries?.length) next.metadata.managedFields = entries;
  else delete next.metadata.managedFields;
}

/** An apply configuration addressed to `t`'s `namespace/name`, checked as upstream checks it. */
function applyConfigOf(t: ResourceType, body: unknown, namespace: string, name: string): StoredObject {
  if (!isObject(body)) throw StatusError.badRequest(`Object 'Kind' is missing in '${JSON.stringify(body)}'`);
  const expected = apiVersionOf(t);
  if (body.apiVersion !== expected)
    throw StatusError.badRequest(
      `Incorrect version specified in apply patch. Specified patch version: ${String(body.apiVersion ?? '')}, expected: ${expected}`,
    );
  if (body.kind !== t.kind)
    throw StatusError.badRequest(
      `the kind in the data (${String(body.kind ?? '')}) does not match the expected kind (${t.kind})`,
    );
  const config = structuredClone(body) as StoredObject;
  if (config.metadata === undefined || config.metadata === null) config.metadata = {};
  if (!isObject(config.metadata)) throw StatusError.badRequest('metadata must be an object');
  if (config.metadata.managedFields !== undefined && config.metadata.managedFields !== null)
    throw StatusError.badRequest('metadata.managedFields must be nil');
  delete config.metadata.managedFields;
  checkAddress(t, config, namespace, name);
  config.metadata.name = name;
  if (t.namespaced) config.metadata.namespace = namespace;
  return config;
}
