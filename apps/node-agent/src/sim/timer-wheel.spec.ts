import { describe, expect, it } from '@jest/globals';

import { jittered, TimerWheel } from './timer-wheel.js';

/** A wheel on a clock the test moves: pure logic, no real time passes. */
function wheel(tickMs = 100) {
  let now = 1_000_000;
  const fired: string[][] = [];
  const w = new TimerWheel<string>({ tickMs, now: () => now, onDue: (keys) => fired.push(keys) });
  return { w, fired, advance: (ms: number) => w.fire((now += ms)) };
}

describe('TimerWheel', () => {
  it('fires each key once, in the first tick at or after its due time, earliest first', () => {
    const { w, fired, advance } = wheel(100);
    w.schedule('late', 250);
    w.schedule('soon', 50);
    w.schedule('mid', 150);
    expect(advance(99)).toBe(0);
    expect(advance(1)).toBe(1);
    expect(fired).toEqual([['soon']]);
    advance(200);
    expect(fired.at(-1)).toEqual(['mid', 'late']);
    expect(w.size).toBe(0);
    expect(advance(1000)).toBe(0);
  });

  it('moves a key scheduled again instead of firing it twice, and forgets a cancelled one', () => {
    const { w, fired, advance } = wheel(100);
    w.schedule('a', 100);
    w.schedule('a', 500);
    w.schedule('b', 100);
    w.cancel('b');
    advance(400);
    expect(fired).toEqual([]);
    expect(w.has('a')).toBe(true);
    advance(100);
    expect(fired).toEqual([['a']]);
  });

  it('never schedules into a slot already passed: a zero delay fires on the next tick', () => {
    const { w, fired, advance } = wheel(100);
    advance(100);
    w.schedule('now', 0);
    w.schedule('negative', -500);
    advance(100);
    expect(fired).toEqual([['now', 'negative']]);
  });

  it('after a long pause fires everything overdue at once, in due order', () => {
    const { w, fired, advance } = wheel(10);
    for (let i = 0; i < 5; i++) w.schedule(`k${i}`, 5_000 - i * 1000);
    advance(3_600_000);
    expect(fired).toEqual([['k4', 'k3', 'k2', 'k1', 'k0']]);
  });

  it('holds thousands of keys in few slots', () => {
    const { w, fired, advance } = wheel(50);
    for (let i = 0; i < 10_000; i++)
      w.schedule(
        `node-${i}`,
        jittered(10_000, 0.04, () => (i % 100) / 100),
      );
    expect(w.size).toBe(10_000);
    advance(9_999);
    expect(fired.flat()).toHaveLength(0);
    advance(401);
    expect(fired.flat()).toHaveLength(10_000);
  });
});

describe('jittered', () => {
  it('stretches a period by up to the factor, never shortens it (wait.Jitter)', () => {
    expect(jittered(10_000, 0.04, () => 0)).toBe(10_000);
    expect(jittered(10_000, 0.04, () => 0.5)).toBe(10_200);
    expect(jittered(10_000, 0.04, () => 0.999)).toBeLessThan(10_400);
  });
});
