import {
  JetStreamApiCodes,
  JetStreamApiError,
  type JetStreamManager,
  type StreamConfig,
} from '@nats-io/jetstream';

/** JetStream answered "no such stream". */
export function isStreamNotFound(e: unknown): boolean {
  return e instanceof JetStreamApiError && e.code === JetStreamApiCodes.StreamNotFound;
}

/**
 * Creates a stream when missing; with `update`, brings an existing one to `config`'s limits
 * (name, retention and storage cannot change and are left out). Another process creating it
 * between our look and our add is not an error.
 */
export async function ensureStream(
  jsm: JetStreamManager,
  config: Partial<StreamConfig> & { name: string },
  { update }: { update: boolean },
): Promise<void> {
  try {
    await jsm.streams.info(config.name);
  } catch (e) {
    if (!isStreamNotFound(e)) throw e;
    try {
      await jsm.streams.add(config);
      return;
    } catch (addError) {
      if (!(await exists(jsm, config.name))) throw addError;
    }
  }
  if (update) {
    const { name: _name, retention: _retention, storage: _storage, ...updatable } = config;
    await jsm.streams.update(config.name, updatable);
  }
}

async function exists(jsm: JetStreamManager, name: string): Promise<boolean> {
  try {
    await jsm.streams.info(name);
    return true;
  } catch (e) {
    if (isStreamNotFound(e)) return false;
    throw e;
  }
}
