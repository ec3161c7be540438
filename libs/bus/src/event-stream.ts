import {
  DeliverPolicy,
  type JetStreamManager,
  type OrderedConsumerOptions,
  RetentionPolicy,
  type StreamConfig,
  StorageType,
} from '@nats-io/jetstream';

import { ensureStream } from './ensure-stream.js';
import { EVENT_SUBJECT_ROOT } from './subjects.js';

/** The event stream: what it is called and how much of the log's hot tail it keeps. */
export interface EventStreamOptions {
  /** Default WAKE_EVENTS; tests give each suite its own. */
  name?: string;
  /** Most events kept (the hot tail); older ones are read from the log. Default 1,000,000. */
  maxMessages?: number;
  /** Oldest event kept, in milliseconds; 0 = no age limit. */
  maxAgeMs?: number;
  /** Largest message; must hold the largest object the API accepts. */
  maxMessageBytes?: number;
  /**
   * Copies JetStream keeps of the stream: 1 on a single nats-server, 3 (R3) on a three-server
   * cluster, where it survives the loss of one. Applied on creation and, as nats-server 2.9+
   * allows, to an existing stream by the relay's update.
   */
  replicas?: number;
}

export const EVENT_STREAM_DEFAULTS = {
  name: 'WAKE_EVENTS',
  maxMessages: 1_000_000,
  maxAgeMs: 0,
  // The API accepts 3 MiB bodies; an event adds its header around the object.
  maxMessageBytes: 8 * 1024 * 1024,
  replicas: 1,
} as const;

export type ResolvedEventStream = Required<EventStreamOptions>;

export function resolveEventStream(options: EventStreamOptions = {}): ResolvedEventStream {
  return { ...EVENT_STREAM_DEFAULTS, ...options };
}

/**
 * The one definition of the event stream. Stream sequence = event seq is the contract (a
 * consumer starts at resourceVersion + 1), so the stream never drops a message except from
 * its old end (limits retention, discard old), and duplicates of a seq are refused for a
 * window long enough to cover any relay restart.
 */
export function eventStreamConfig(options: ResolvedEventStream): Partial<StreamConfig> & { name: string } {
  return {
    name: options.name,
    subjects: [`${EVENT_SUBJECT_ROOT}.>`],
    retention: RetentionPolicy.Limits,
    storage: StorageType.File,
    max_msgs: options.maxMessages,
    max_age: options.maxAgeMs * 1_000_000,
    max_msg_size: options.maxMessageBytes,
    duplicate_window: 10 * 60 * 1_000_000_000,
    num_replicas: options.replicas,
  };
}

/**
 * The one consumer of the event stream: ordered, unfiltered (nats-server 2.9 refuses a
 * filtered ordered consumer, and an unfiltered one lets a watch see every seq and so any
 * hole), starting at the first seq the watch has not seen.
 */
export function watchConsumerOptions(after: number): Partial<OrderedConsumerOptions> {
  return { deliver_policy: DeliverPolicy.StartSequence, opt_start_seq: after + 1 };
}

/** Pull batch of a watch's consumer. */
export const WATCH_PULL_BATCH = 256;

/** Creates the stream when missing, and brings its limits to the configured ones. */
export function ensureEventStream(jsm: JetStreamManager, options: ResolvedEventStream): Promise<void> {
  return ensureStream(jsm, eventStreamConfig(options), { update: true });
}
