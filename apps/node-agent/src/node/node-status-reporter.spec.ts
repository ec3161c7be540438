import { describe, expect, it } from '@jest/globals';
import { ApiError, type ApiClient } from '@app/client';

import { type NodeFacts } from './node-facts.js';
import { type NodeHealth } from './node-status.js';
import { NodeStatusReporter } from './node-status-reporter.js';

const facts: NodeFacts = {
  capacity: { cpu: '2', memory: '1024Ki', pods: '110' },
  allocatable: { cpu: '2', memory: '1024Ki', pods: '110' },
  nodeInfo: {
    machineID: 'm',
    systemUUID: 'm',
    bootID: 'b',
    kernelVersion: 'k',
    osImage: 'o',
    containerRuntimeVersion: 'docker://1',
    kubeletVersion: 'v1.33.0',
    kubeProxyVersion: 'v1.33.0',
    operatingSystem: 'linux',
    architecture: 'amd64',
  },
  addresses: [{ type: 'Hostname', address: 'n1' }],
  images: [],
};

/** Records the API calls a reporter makes; pure logic under test, so a fake client is enough. */
function fakeApi(o: { statusGone?: boolean } = {}) {
  const calls: { method: string; path: string; body: unknown }[] = [];
  let gone = o.statusGone ?? false;
  const api = {
    create: async (path: string, body: unknown) => {
      calls.push({ method: 'POST', path, body });
      gone = false;
      return { metadata: { name: 'n1', uid: `uid-${calls.length}` } };
    },
    patch: async (path: string, body: unknown) => {
      calls.push({ method: 'PATCH', path, body });
      if (gone && path.endsWith('/status')) throw new ApiError(404, 'NotFound', 'gone', {});
      return { metadata: { name: 'n1', uid: 'uid-1' } };
    },
  } as unknown as ApiClient;
  return { api, calls, drop: () => (gone = true) };
}

describe('NodeStatusReporter', () => {
  const setup = (reportEveryMs = 300_000) => {
    let now = Date.parse('2026-01-01T00:00:00Z');
    const health: NodeHealth = { runtimeUp: true };
    const fake = fakeApi();
    const reporter = new NodeStatusReporter(fake.api, {
      registration: { nodeName: 'n1' },
      facts: async () => facts,
      health: async () => ({ ...health }),
      reportEveryMs,
      now: () => new Date(now),
    });
    return { reporter, fake, health, advance: (ms: number) => (now += ms) };
  };
  const statusWrites = (calls: { path: string }[]) => calls.filter((c) => c.path.endsWith('/status')).length;

  it('registers, then writes an unchanged status only once the report interval has passed', async () => {
    const { reporter, fake, advance } = setup(300_000);
    await reporter.register();
    expect(fake.calls.map((c) => c.method)).toEqual(['POST', 'PATCH']);
    for (let i = 0; i < 29; i++) {
      advance(10_000);
      expect(await reporter.sync()).toBe(false);
    }
    advance(10_000);
    expect(await reporter.sync()).toBe(true);
    expect(statusWrites(fake.calls)).toBe(2);
  });

  it('writes at once when a condition changes, with a new transition time only for that condition', async () => {
    const { reporter, fake, health, advance } = setup();
    await reporter.register();
    advance(10_000);
    health.runtimeUp = false;
    expect(await reporter.sync()).toBe(true);
    const last = fake.calls.at(-1)!.body as {
      status: { conditions: { type: string; status: string; lastTransitionTime: string }[] };
    };
    const ready = last.status.conditions.find((c) => c.type === 'Ready')!;
    const memory = last.status.conditions.find((c) => c.type === 'MemoryPressure')!;
    expect(ready).toMatchObject({
      status: 'False',
      reason: 'KubeletNotReady',
      lastTransitionTime: '2026-01-01T00:00:10Z',
    });
    expect(memory.lastTransitionTime).toBe('2026-01-01T00:00:00Z');
  });

  it('registers again when its Node was deleted', async () => {
    const { reporter, fake, advance } = setup(0);
    await reporter.register();
    fake.drop();
    advance(1000);
    expect(await reporter.sync()).toBe(true);
    expect(fake.calls.filter((c) => c.method === 'POST')).toHaveLength(2);
    expect(reporter.nodeUid).toBe('uid-1');
  });

  it('with createdStatusCounts, registering is one write: the status sent with the create counts as posted', async () => {
    let now = Date.parse('2026-01-01T00:00:00Z');
    const fake = fakeApi();
    const reporter = new NodeStatusReporter(fake.api, {
      registration: { nodeName: 'n1' },
      facts: async () => facts,
      health: async () => ({ runtimeUp: true }),
      createdStatusCounts: true,
      now: () => new Date(now),
    });
    await reporter.register();
    expect(fake.calls.map((c) => c.method)).toEqual(['POST']);
    now += 10_000;
    expect(await reporter.sync()).toBe(false);
    expect(reporter.nodeUid).toBe('uid-1');
  });
});
