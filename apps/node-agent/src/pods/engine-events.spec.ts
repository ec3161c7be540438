import { PassThrough } from 'node:stream';

import { describe, expect, it } from '@jest/globals';
import { waitFor } from '@app/dev-servers';

import { type EngineEvent, EngineEventWatcher } from './engine-events.js';

/** A fake engine: each open() hands out the next stream, or fails while the engine is "down". */
function fakeEngine() {
  const streams: PassThrough[] = [];
  let down = false;
  let opens = 0;
  return {
    streams,
    get opens() {
      return opens;
    },
    setDown(d: boolean) {
      down = d;
    },
    open: async () => {
      opens++;
      if (down) throw new Error('connect ENOENT /var/run/docker.sock');
      const s = new PassThrough();
      streams.push(s);
      return s;
    },
  };
}

const line = (action: string, id: string, uid?: string) =>
  `${JSON.stringify({ Type: 'container', Action: action, Actor: { ID: id, Attributes: uid ? { 'io.kubernetes.pod.uid': uid } : {} } })}\n`;

describe('engine event watcher', () => {
  it('parses container events, even split across chunks, and ignores the rest', async () => {
    const engine = fakeEngine();
    const events: EngineEvent[] = [];
    const w = new EngineEventWatcher(engine.open, {
      onEvent: (e) => events.push(e),
      onReconnect: () => undefined,
    });
    w.start();
    await waitFor('the stream', () => engine.streams[0]);
    const die = line('die', 'abc', 'pod-1');
    engine.streams[0]!.write(die.slice(0, 10));
    engine.streams[0]!.write(die.slice(10) + line('exec_start: sh -c true', 'abc', 'pod-1'));
    engine.streams[0]!.write(
      `${JSON.stringify({ Type: 'network', Action: 'connect', Actor: { ID: 'n' } })}\nnot json\n`,
    );
    engine.streams[0]!.write(line('start', 'def'));
    await waitFor('three events', () => (events.length === 3 ? true : undefined));
    expect(events).toEqual([
      { action: 'die', containerId: 'abc', podUid: 'pod-1' },
      { action: 'exec_start', containerId: 'abc', podUid: 'pod-1' },
      { action: 'start', containerId: 'def' },
    ]);
    await w.stop();
  });

  it('reconnects with backoff after the stream breaks and the engine is away, then asks for a resync', async () => {
    const engine = fakeEngine();
    let reconnects = 0;
    const troubles: string[] = [];
    const events: EngineEvent[] = [];
    const w = new EngineEventWatcher(
      engine.open,
      {
        onEvent: (e) => events.push(e),
        onReconnect: () => reconnects++,
        onTrouble: (e) => troubles.push(e.message),
      },
      { backoffMs: [5, 20] },
    );
    w.start();
    await waitFor('the first stream', () => engine.streams[0]);
    expect(reconnects).toBe(0);

    // The engine restarts: the stream ends and the socket is gone for a few attempts.
    engine.setDown(true);
    engine.streams[0]!.end();
    await waitFor('several failed reconnects', () => (engine.opens >= 4 ? true : undefined));
    expect(reconnects).toBe(0);
    expect(troubles).toContain('connect ENOENT /var/run/docker.sock');

    engine.setDown(false);
    await waitFor('the second stream', () => engine.streams[1]);
    await waitFor('a resync asked for', () => (reconnects === 1 ? true : undefined));
    engine.streams[1]!.write(line('start', 'new', 'pod-2'));
    await waitFor('events on the new stream', () => (events.length === 1 ? true : undefined));

    // A stream that errors is a break too.
    engine.streams[1]!.destroy(new Error('socket hang up'));
    await waitFor('the third stream', () => engine.streams[2]);
    await waitFor('another resync', () => (reconnects === 2 ? true : undefined));
    await w.stop();
    const opens = engine.opens;
    await new Promise((r) => setTimeout(r, 50));
    expect(engine.opens).toBe(opens);
  });
});
