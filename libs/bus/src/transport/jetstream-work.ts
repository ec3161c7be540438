import { createHash } from 'node:crypto';

import {
  AckPolicy,
  type ConsumerConfig,
  DeliverPolicy,
  DiscardPolicy,
  JetStreamApiCodes,
  JetStreamApiError,
  type JetStreamManager,
  ReplayPolicy,
  RetentionPolicy,
  StorageType,
  type StreamConfig,
} from '@nats-io/jetstream';

import { ensureStream } from '../ensure-stream.js';

/**
 * Work subjects: commands that exactly one worker must carry out (a reconcile request, a
 * garbage-collection sweep), as opposed to the event stream, which every watcher reads.
 * They live in their own work-queue stream: a message leaves the stream once acknowledged
 * (or terminated), and one durable pull consumer per handler pattern spreads the work over
 * every instance that handles that pattern.
 */
export const WORK_SUBJECT_ROOT = 'work';
export const WORK_STREAM_NAME = 'WAKE_WORK';

const MS = 1_000_000; // nanoseconds per millisecond

/** The work stream: one definition, shared by the server (consumers) and the client (producers). */
export interface WorkStreamOptions {
  /** Default WAKE_WORK; tests give each suite its own. */
  name: string;
  /**
   * First token of every work subject; the stream captures `<root>.>`. Streams on one server
   * may not share subjects, so a suite that names its own stream also picks its own root.
   */
  subjectRoot: string;
  storage: 'file' | 'memory';
  /** Window in which a repeated msgID is refused as a duplicate. */
  duplicateWindowMs: number;
  /** Oldest work kept, in milliseconds; 0 = no age limit. */
  maxAgeMs: number;
  /** Most messages kept; -1 = no limit. New work is refused (not old work dropped) at the limit. */
  maxMessages: number;
  /** Largest message accepted. */
  maxMessageBytes: number;
  replicas: number;
}

/** How failed deliveries are retried after a handler throws (a `nak` with a delay). */
export interface WorkRetryOptions {
  /** Delay before the second delivery. */
  initialDelayMs: number;
  /** Each further delivery waits this many times longer... */
  multiplier: number;
  /** ...up to this cap. */
  maxDelayMs: number;
}

/** The durable pull consumer created for each handler pattern. */
export interface WorkConsumerOptions {
  /** Prepended to every durable name (e.g. to keep two applications' consumers apart). */
  durablePrefix: string;
  /**
   * Deliveries before a message is given up (terminated and logged); -1 = never give up on a
   * retryable error.
   */
  maxDeliver: number;
  /**
   * How long a delivery may go without an ack or a progress report before JetStream delivers
   * it again. A running handler reports progress every `ackWaitMs / 3`, so this bounds how
   * long a crashed worker holds a message, not how long a handler may run.
   */
  ackWaitMs: number;
  /**
   * JetStream's own redelivery schedule after an ack timeout (a worker that died mid-handler):
   * the n-th redelivery waits `ackTimeoutBackoffMs[n-1]` (the last value repeats). When set,
   * JetStream uses its first value instead of `ackWaitMs`. Default: none (every redelivery
   * waits `ackWaitMs`).
   */
  ackTimeoutBackoffMs: number[];
  /** Deliveries outstanding (unacknowledged) at once over all instances. */
  maxAckPending: number;
  /** Handlers run at once per pattern in one instance; also the pull batch size. */
  concurrency: number;
  retry: WorkRetryOptions;
}

export interface JetStreamWorkOptions {
  stream: WorkStreamOptions;
  consumer: WorkConsumerOptions;
}

/** Everything optional, nested objects merged over the defaults. */
export interface JetStreamWorkOptionsInput {
  stream?: Partial<WorkStreamOptions>;
  consumer?: Partial<Omit<WorkConsumerOptions, 'retry'>> & { retry?: Partial<WorkRetryOptions> };
}

export const WORK_DEFAULTS: JetStreamWorkOptions = {
  stream: {
    name: WORK_STREAM_NAME,
    subjectRoot: WORK_SUBJECT_ROOT,
    storage: 'file',
    duplicateWindowMs: 2 * 60_000,
    maxAgeMs: 0,
    maxMessages: -1,
    maxMessageBytes: 8 * 1024 * 1024,
    replicas: 1,
  },
  consumer: {
    durablePrefix: '',
    maxDeliver: 10,
    ackWaitMs: 30_000,
    ackTimeoutBackoffMs: [],
    maxAckPending: 1_000,
    concurrency: 1,
    retry: { initialDelayMs: 1_000, multiplier: 2, maxDelayMs: 60_000 },
  },
};

export function resolveWorkOptions(input: JetStreamWorkOptionsInput = {}): JetStreamWorkOptions {
  const options: JetStreamWorkOptions = {
    stream: { ...WORK_DEFAULTS.stream, ...input.stream },
    consumer: {
      ...WORK_DEFAULTS.consumer,
      ...input.consumer,
      retry: { ...WORK_DEFAULTS.consumer.retry, ...input.consumer?.retry },
    },
  };
  validateWorkOptions(options);
  return options;
}

function validateWorkOptions({ stream, consumer }: JetStreamWorkOptions): void {
  const problems: string[] = [];
  if (!/^[A-Za-z0-9_-]+$/.test(stream.name)) problems.push(`stream.name ${JSON.stringify(stream.name)}`);
  if (!isSubjectToken(stream.subjectRoot))
    problems.push(`stream.subjectRoot ${JSON.stringify(stream.subjectRoot)} (one subject token)`);
  if (!(consumer.maxDeliver === -1 || (Number.isInteger(consumer.maxDeliver) && consumer.maxDeliver >= 1)))
    problems.push(`consumer.maxDeliver ${consumer.maxDeliver} (-1 or >= 1)`);
  if (consumer.maxDeliver !== -1 && consumer.ackTimeoutBackoffMs.length >= consumer.maxDeliver)
    problems.push('consumer.ackTimeoutBackoffMs must have fewer values than consumer.maxDeliver');
  if (!(consumer.ackWaitMs >= 1)) problems.push(`consumer.ackWaitMs ${consumer.ackWaitMs}`);
  if (consumer.ackTimeoutBackoffMs.some((ms) => !(ms >= 1)))
    problems.push('consumer.ackTimeoutBackoffMs values must be >= 1');
  if (!(Number.isInteger(consumer.concurrency) && consumer.concurrency >= 1))
    problems.push(`consumer.concurrency ${consumer.concurrency}`);
  const { initialDelayMs, multiplier, maxDelayMs } = consumer.retry;
  if (!(initialDelayMs >= 0 && multiplier >= 1 && maxDelayMs >= initialDelayMs))
    problems.push('consumer.retry needs initialDelayMs >= 0, multiplier >= 1, maxDelayMs >= initialDelayMs');
  if (problems.length) throw new Error(`invalid JetStream work options: ${problems.join('; ')}`);
}

/** The work-queue stream's configuration. */
export function workStreamConfig(stream: WorkStreamOptions): Partial<StreamConfig> & { name: string } {
  return {
    name: stream.name,
    description: 'Wake work subjects: each message is handled by one worker, then removed',
    subjects: [`${stream.subjectRoot}.>`],
    retention: RetentionPolicy.Workqueue,
    storage: stream.storage === 'file' ? StorageType.File : StorageType.Memory,
    discard: DiscardPolicy.New,
    duplicate_window: stream.duplicateWindowMs * MS,
    max_age: stream.maxAgeMs * MS,
    max_msgs: stream.maxMessages,
    max_msg_size: stream.maxMessageBytes,
    num_replicas: stream.replicas,
  };
}

/**
 * The durable name of a pattern's consumer: deterministic, so every instance handling the
 * pattern binds the same consumer and the instances share its work. `work.gc` becomes
 * `work_gc`; a pattern holding anything but letters, digits, `-` and `.` (a `_`, a wildcard)
 * also gets a digest suffix, so two patterns never share a name.
 */
export function workDurableName(pattern: string, prefix = ''): string {
  const readable = pattern.replace(/\./g, '_').replace(/[^A-Za-z0-9_-]/g, '-');
  const lossless = /^[A-Za-z0-9.-]+$/.test(pattern);
  const suffix = lossless ? '' : `-${createHash('sha256').update(pattern).digest('hex').slice(0, 10)}`;
  return `${prefix}${readable}${suffix}`;
}

/** The durable pull consumer of one handler pattern. */
export function workConsumerConfig(pattern: string, options: JetStreamWorkOptions): Partial<ConsumerConfig> {
  const { consumer } = options;
  const durable = workDurableName(pattern, consumer.durablePrefix);
  const config: Partial<ConsumerConfig> = {
    durable_name: durable,
    description: `Wake work handler for ${pattern}`,
    filter_subject: pattern,
    ack_policy: AckPolicy.Explicit,
    deliver_policy: DeliverPolicy.All,
    replay_policy: ReplayPolicy.Instant,
    // JetStream replaces ack_wait by the first backoff value; say so, so that the stored config matches.
    ack_wait: (consumer.ackTimeoutBackoffMs[0] ?? consumer.ackWaitMs) * MS,
    max_deliver: consumer.maxDeliver,
    max_ack_pending: consumer.maxAckPending,
  };
  if (consumer.ackTimeoutBackoffMs.length) config.backoff = consumer.ackTimeoutBackoffMs.map((ms) => ms * MS);
  return config;
}

/** The fields of a consumer that JetStream lets us change after creation. */
const UPDATABLE_CONSUMER_FIELDS = [
  'description',
  'ack_wait',
  'max_deliver',
  'max_ack_pending',
  'backoff',
] as const;

/**
 * How long to wait before delivery `deliveryCount + 1` after delivery `deliveryCount` failed:
 * exponential from `initialDelayMs`, capped at `maxDelayMs`.
 */
export function retryDelayMs(deliveryCount: number, retry: WorkRetryOptions): number {
  const exponent = Math.max(0, deliveryCount - 1);
  const delay = retry.initialDelayMs * Math.pow(retry.multiplier, exponent);
  return Math.round(Math.min(retry.maxDelayMs, delay));
}

/** How often a running handler tells JetStream it is still working, so no other worker gets its message. */
export function progressIntervalMs(consumer: WorkConsumerOptions): number {
  const shortest = Math.min(consumer.ackWaitMs, ...consumer.ackTimeoutBackoffMs);
  return Math.max(10, Math.floor(shortest / 3));
}

export function isSubjectToken(token: string): boolean {
  return token.length > 0 && !/[\s.*>]/.test(token);
}

/** A concrete subject (no wildcards) under the work root, as a producer publishes to. */
export function assertWorkSubject(subject: string, stream: WorkStreamOptions): void {
  const tokens = subject.split('.');
  if (tokens.length < 2 || tokens[0] !== stream.subjectRoot || !tokens.every(isSubjectToken))
    throw new Error(
      `${JSON.stringify(subject)} is not a work subject: expected ${stream.subjectRoot}.<token>[.<token>...] without wildcards`,
    );
}

/** A subject filter (wildcards allowed) under the work root, as a handler pattern subscribes to. */
export function assertWorkFilter(filter: string, stream: WorkStreamOptions): void {
  const tokens = filter.split('.');
  const valid =
    tokens.length >= 2 &&
    tokens[0] === stream.subjectRoot &&
    tokens.every((t, i) => t === '*' || (t === '>' && i === tokens.length - 1) || isSubjectToken(t));
  if (!valid)
    throw new Error(
      `${JSON.stringify(filter)} is not a work subject filter: expected ${stream.subjectRoot}.<token|*>[...][.>]`,
    );
}

const CONSUMER_NOT_FOUND = JetStreamApiCodes.ConsumerNotFound;

function isJetStreamNotFound(e: unknown, code: number): boolean {
  return e instanceof JetStreamApiError && e.code === code;
}

/**
 * Creates the work stream when missing. With `update`, an existing stream is brought to the
 * configured limits (the server does this; producers only create it, so that a stale producer
 * never rewrites what the server set).
 */
export function ensureWorkStream(
  jsm: JetStreamManager,
  stream: WorkStreamOptions,
  options: { update: boolean },
): Promise<void> {
  return ensureStream(jsm, workStreamConfig(stream), options);
}

/**
 * Creates a pattern's durable consumer when missing, or brings its updatable settings (ack
 * wait, max deliver, backoff, max ack pending) to the configured ones. A consumer whose
 * filter differs from the pattern is an error, not something to paper over.
 */
export async function ensureWorkConsumer(
  jsm: JetStreamManager,
  pattern: string,
  options: JetStreamWorkOptions,
): Promise<string> {
  const config = workConsumerConfig(pattern, options);
  const durable = config.durable_name as string;
  const stream = options.stream.name;
  let existing: ConsumerConfig;
  try {
    existing = (await jsm.consumers.info(stream, durable)).config;
  } catch (e) {
    if (!isJetStreamNotFound(e, CONSUMER_NOT_FOUND)) throw e;
    await jsm.consumers.add(stream, config);
    return durable;
  }
  if ((existing.filter_subject ?? '') !== pattern)
    throw new Error(
      `consumer ${durable} on stream ${stream} filters ${JSON.stringify(existing.filter_subject)}, not ${JSON.stringify(pattern)}`,
    );
  const changes: Partial<ConsumerConfig> = {};
  for (const field of UPDATABLE_CONSUMER_FIELDS) {
    if (JSON.stringify(existing[field] ?? null) !== JSON.stringify(config[field] ?? null))
      Object.assign(changes, { [field]: config[field] });
  }
  if (Object.keys(changes).length) await jsm.consumers.update(stream, durable, changes);
  return durable;
}
