import { describe, expect, it } from '@jest/globals';

import { ResourceRegistry } from '@app/api';
import { type WatchHub } from '@app/bus';
import { waitFor } from '@app/dev-servers';
import { type EventStore, type StoredObject } from '@app/event-store';

import { FakeHub } from './fake-hub.fixture.js';
import { FollowedCaches } from './followed-caches.js';

const ns = (name: string) => ({ apiVersion: 'v1', kind: 'Namespace', metadata: { name } }) as StoredObject;

/** A hub whose every watch is a FakeHub of its own, so a failed watch does not fail the next. */
class Hubs {
  readonly made: FakeHub[] = [];
  watch() {
    const hub = new FakeHub();
    this.made.push(hub);
    return hub.watch();
  }
  get last(): FakeHub {
    return this.made[this.made.length - 1];
  }
}

/** A store whose list answers `items`, failing while `failures` is above zero. */
function store(items: () => StoredObject[], failures = { left: 0 }) {
  return {
    list: async () => {
      if (failures.left > 0) {
        failures.left--;
        throw new Error('postgres is away');
      }
      return { items: items(), resourceVersion: 10 };
    },
  } as unknown as EventStore;
}

async function started(items: () => StoredObject[], failures = { left: 0 }) {
  const hubs = new Hubs();
  const errors: string[] = [];
  const rebuilt: string[] = [];
  const caches = await FollowedCaches.start(
    store(items, failures),
    hubs as unknown as WatchHub,
    { namespaces: new ResourceRegistry().get('', 'v1', 'namespaces') },
    {
      onError: (plural, e) => errors.push(`${plural}: ${(e as Error).message}`),
      onRebuilt: (plural) => rebuilt.push(plural),
      rebuildBackoffMs: { base: 5, max: 20 },
    },
  );
  return { caches, hubs, errors, rebuilt };
}

describe('FollowedCaches', () => {
  it('rebuilds a cache whose watch failed: listed again, following, with what the store has now', async () => {
    let items = [ns('a')];
    const { caches, hubs, errors, rebuilt } = await started(() => items);
    const first = caches.get('namespaces');
    expect(first.list().map((o) => o.metadata.name)).toEqual(['a']);

    items = [ns('a'), ns('b')];
    hubs.last.fail(new Error('stream lost'));
    await waitFor('the rebuild', () => (rebuilt.length > 0 ? true : undefined), { timeoutMs: 5_000 });
    const second = caches.get('namespaces');
    expect(second).not.toBe(first);
    expect(first.following).toBe(false);
    expect(second.following).toBe(true);
    expect(second.list().map((o) => o.metadata.name)).toEqual(['a', 'b']);
    expect(errors).toEqual(['namespaces: stream lost']);
    await caches.stop();
  });

  it('tries again, with backoff, while the rebuild itself fails', async () => {
    const failures = { left: 0 };
    const { caches, hubs, errors, rebuilt } = await started(() => [ns('a')], failures);
    failures.left = 2;
    hubs.last.fail(new Error('stream lost'));
    await waitFor('the rebuild', () => (rebuilt.length > 0 ? true : undefined), { timeoutMs: 5_000 });
    expect(errors).toEqual([
      'namespaces: stream lost',
      'namespaces: postgres is away',
      'namespaces: postgres is away',
    ]);
    expect(caches.get('namespaces').following).toBe(true);
    await caches.stop();
  });

  it('rebuilds nothing once stopped, whatever ends after', async () => {
    const { caches, hubs, rebuilt } = await started(() => [ns('a')]);
    const watches = hubs.made.length;
    await caches.stop();
    expect(caches.get('namespaces').following).toBe(false);
    await new Promise((r) => setTimeout(r, 50));
    expect(hubs.made).toHaveLength(watches);
    expect(rebuilt).toEqual([]);
  });
});
