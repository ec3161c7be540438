import { type Sql } from 'postgres';

import { BatchWriter, type WriterStats } from './append/batch-writer.js';
import { GroupCommitter } from './append/group-committer.js';
import { type Mutation, type MutationResult, type Preconditions, type UpdateTo } from './append/mutation.js';
import { ChainVerifier, type VerifyOptions, type VerifyReport } from './audit/chain-verifier.js';
import { connect } from './connection.js';
import {
  type AuditContext,
  type ObjectKey,
  type ResourceRef,
  type StoredEvent,
  type StoredObject,
} from './model/index.js';
import { EVENT_STORE_DEFAULTS, type EventStoreOptions } from './options.js';
import { isMissingPartition, PartitionManager } from './partitions/partition-manager.js';
import { EventReader } from './read/event-reader.js';
import { type ListOptions, type ListResult } from './read/list-options.js';
import { type GetResult, type Head, ResourceReader } from './read/resource-reader.js';
import { causalChain } from './replay/causal-chain.js';
import { objectHistory, type ObjectVersion } from './replay/object-history.js';
import { objectsAt, type ObjectsAtOptions } from './replay/objects-at.js';
import { ProjectionReplayer, type ReplayOptions, type ReplayReport } from './replay/projection-replayer.js';
import { PayloadExpiry } from './retention/payload-expiry.js';
import { Migrator } from './schema/migrator.js';

export interface StoreStats extends WriterStats {
  batches: number;
  mutations: number;
  largestBatch: number;
}

/**
 * The append-only event log and its projections. Writes go through one group-committing
 * writer per process; reads go to the projection (or, for past resourceVersions, the log).
 */
export class EventStore {
  readonly events: EventReader;
  readonly partitions: PartitionManager;
  private readonly reader: ResourceReader;
  private readonly committer: GroupCommitter<Mutation, MutationResult>;
  private readonly writer: BatchWriter;
  private readonly expiry?: PayloadExpiry;
  private readonly stats: Omit<StoreStats, keyof WriterStats> = { batches: 0, mutations: 0, largestBatch: 0 };

  private constructor(
    /** Application-role pool: every read and write of the running system. */
    readonly sql: Sql,
    /** Owner pool: migrations, partition DDL, audit replays. */
    readonly adminSql: Sql,
    private readonly writerSql: Sql,
    options: Required<Omit<EventStoreOptions, 'appUrl' | 'retention'>> & Pick<EventStoreOptions, 'retention'>,
  ) {
    this.reader = new ResourceReader(sql);
    this.events = new EventReader(sql);
    this.partitions = new PartitionManager(sql, options.partitionSize);
    this.writer = new BatchWriter(
      writerSql,
      { ensure: (upTo, force) => this.partitions.ensure(upTo, force), isMissingPartition },
      options.writerMemory,
    );
    this.committer = new GroupCommitter((batch) => this.writer.start(batch), options.maxBatch, {
      depth: options.pipelineDepth,
      onBatch: (n) => {
        this.stats.batches++;
        this.stats.mutations += n;
        this.stats.largestBatch = Math.max(this.stats.largestBatch, n);
      },
    });
    if (options.retention) this.expiry = new PayloadExpiry(sql, options.retention);
  }

  /** Connects, applies pending migrations, and makes sure the log has room ahead of its head. */
  static async open(options: EventStoreOptions): Promise<EventStore> {
    const o = { ...EVENT_STORE_DEFAULTS, ...options };
    const adminSql = connect(o.url, { max: 2 });
    try {
      await new Migrator(adminSql, {
        schema: 'wake',
        appRole: o.appRole,
        partitionSize: o.partitionSize,
      }).migrate();
    } catch (e) {
      await adminSql.end();
      throw new Error(`event store migration failed: ${(e as Error).message}`, { cause: e });
    }
    const appConn = o.appUrl ? {} : { connection: { role: o.appRole } };
    const sql = connect(o.appUrl ?? o.url, { max: o.poolSize, ...appConn });
    // The writer's own connections: one for pipelined batches, one for batches under the lock,
    // one for reading objects it does not remember. Commits are serialised by the head lock
    // anyway, and a single writer keeps batches large instead of making them queue on it.
    const writerSql = connect(o.appUrl ?? o.url, { max: 3, ...appConn });
    const store = new EventStore(sql, adminSql, writerSql, o);
    await store.partitions.ensure((await store.head()).seq);
    return store;
  }

  /** `o.absent`: the caller believes the object does not exist (see the create Mutation). */
  create(
    key: ObjectKey,
    object: StoredObject,
    ctx: AuditContext,
    uid?: string,
    o: { absent?: boolean } = {},
  ): Promise<MutationResult> {
    return this.committer.submit({ op: 'create', key, object, ctx, uid, absent: o.absent });
  }

  update(
    key: ObjectKey,
    object: UpdateTo,
    ctx: AuditContext,
    preconditions?: Preconditions,
  ): Promise<MutationResult> {
    return this.committer.submit({ op: 'update', key, object, ctx, preconditions });
  }

  delete(key: ObjectKey, ctx: AuditContext, preconditions?: Preconditions): Promise<MutationResult> {
    return this.committer.submit({ op: 'delete', key, ctx, preconditions });
  }

  get(key: ObjectKey): Promise<GetResult | undefined> {
    return this.reader.get(key);
  }

  list(ref: ResourceRef, options?: ListOptions): Promise<ListResult> {
    return this.reader.list(ref, options);
  }

  /** The current objects of a kind as JSON text, page by page from one snapshot; see ResourceReader. */
  streamList(
    ref: ResourceRef,
    options: Pick<ListOptions, 'namespace' | 'labelSelector' | 'fieldSelector' | 'notOlderThan'>,
    write: (jsonItems: string[]) => Promise<void>,
  ): Promise<number> {
    return this.reader.streamCurrent(ref, options, write);
  }

  head(): Promise<Head> {
    return this.events.head();
  }

  history(key: ObjectKey): Promise<ObjectVersion[]> {
    return objectHistory(this.sql, key);
  }

  /** The objects of one kind as they were right after event `seq` (an "as of" read). */
  listAt(
    ref: ResourceRef,
    seq: number,
    options: Omit<ListOptions, 'resourceVersion' | 'continue'> = {},
  ): Promise<ListResult> {
    return this.reader.list(ref, { ...options, resourceVersion: seq });
  }

  /** The objects of one kind as they were at a moment in time. */
  async listAtTime(
    ref: ResourceRef,
    time: Date,
    options: Omit<ListOptions, 'resourceVersion' | 'continue'> = {},
  ): Promise<ListResult> {
    return this.listAt(ref, await this.events.seqAt(time), options);
  }

  /** The objects of one kind right after event `seq`, each as its last event, from the log alone. */
  objectsAt(ref: ResourceRef, seq: number, options?: ObjectsAtOptions): Promise<StoredEvent[]> {
    return objectsAt(this.sql, ref, seq, options);
  }

  /** The events that led to event `seq` through their `cause` links, the root first. */
  causalChain(seq: number): Promise<StoredEvent[]> {
    return causalChain(this.sql, seq);
  }

  replay(options?: ReplayOptions): Promise<ReplayReport> {
    return new ProjectionReplayer(this.adminSql).replay(options);
  }

  verify(options?: VerifyOptions): Promise<VerifyReport> {
    return new ChainVerifier(this.sql).verify(options);
  }

  /** Expires superseded payloads of high-churn kinds per the retention policy. */
  expirePayloads(now?: Date): Promise<number> {
    return this.expiry ? this.expiry.run(now) : Promise.resolve(0);
  }

  batchStats(): StoreStats {
    return { ...this.stats, ...this.writer.stats };
  }

  /** Waits for queued writes, then closes every connection. */
  async close(): Promise<void> {
    await this.committer.close();
    await this.writer.close();
    await Promise.all([
      this.writerSql.end({ timeout: 5 }),
      this.sql.end({ timeout: 5 }),
      this.adminSql.end({ timeout: 5 }),
    ]);
  }
}
