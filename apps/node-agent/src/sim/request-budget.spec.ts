import { describe, expect, it } from '@jest/globals';

import { RequestBudget } from './request-budget.js';

/** A request the test finishes by hand. */
function gate() {
  let open!: () => void;
  const done = new Promise<void>((r) => (open = r));
  return { open, done };
}

describe('RequestBudget', () => {
  it('keeps at most maxInFlight requests running, and a heartbeat does not wait behind queued work', async () => {
    const budget = new RequestBudget({ maxInFlight: 2 });
    const order: string[] = [];
    let running = 0;
    let peak = 0;
    const gates = new Map<string, ReturnType<typeof gate>>();
    const request = (name: string) => () => {
      order.push(name);
      peak = Math.max(peak, ++running);
      const g = gate();
      gates.set(name, g);
      return g.done.then(() => void running--);
    };
    const all = [
      budget.run('work', request('w1')),
      budget.run('work', request('w2')),
      budget.run('work', request('w3')),
      budget.run('heartbeat', request('h1')),
    ];
    expect(order).toEqual(['w1', 'w2']);
    gates.get('w1')!.open();
    await new Promise((r) => setImmediate(r));
    expect(order).toEqual(['w1', 'w2', 'h1']);
    for (const name of ['w2', 'h1']) gates.get(name)!.open();
    await new Promise((r) => setImmediate(r));
    gates.get('w3')!.open();
    await Promise.all(all);
    expect(peak).toBe(2);
    expect(budget.requests).toBe(4);
  });

  it('close refuses queued and new requests and waits for those in flight', async () => {
    const budget = new RequestBudget({ maxInFlight: 1 });
    const g = gate();
    const first = budget.run('work', () => g.done.then(() => 'first'));
    const queued = budget.run('work', async () => 'never');
    const closed = budget.close();
    await expect(queued).rejects.toThrow(/closed/);
    await expect(budget.run('heartbeat', async () => 'late')).rejects.toThrow(/closed/);
    g.open();
    await expect(first).resolves.toBe('first');
    await closed;
  });

  it('lets the lanes take turns when both wait, so neither starves the other', async () => {
    const budget = new RequestBudget({ maxInFlight: 1 });
    const order: string[] = [];
    const g = gate();
    const first = budget.run('work', () => g.done);
    const all = [first];
    for (let i = 0; i < 3; i++) all.push(budget.run('work', async () => void order.push(`w${i}`)));
    for (let i = 0; i < 4; i++) all.push(budget.run('heartbeat', async () => void order.push(`h${i}`)));
    g.open();
    await Promise.all(all);
    expect(order).toEqual(['h0', 'w0', 'h1', 'w1', 'h2', 'w2', 'h3']);
  });
});
