import { describe, expect, it } from '@jest/globals';

import { GroupCommitter, type Outcome } from './group-committer.js';

interface Deferred {
  promise: Promise<void>;
  resolve: () => void;
}

function deferred(): Deferred {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => (resolve = r));
  return { promise, resolve };
}

/** Lets every pending promise continuation run (no timers or I/O are involved in these tests). */
function flush(): Promise<void> {
  return new Promise((r) => setImmediate(r));
}

const HUNG = Symbol('hung');

/** Settles with the promise's outcome, or with HUNG if it is still pending after `ms`. */
async function within<T>(promise: Promise<T>, ms = 1000): Promise<T | typeof HUNG> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<typeof HUNG>((r) => (timer = setTimeout(() => r(HUNG), ms)));
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** Tracks whether a promise has settled, without ever leaving a rejection unhandled. */
function track<T>(promise: Promise<T>) {
  const state: { settled: boolean; ok?: boolean; value?: T; error?: unknown } = { settled: false };
  promise.then(
    (value) => Object.assign(state, { settled: true, ok: true, value }),
    (error: unknown) => Object.assign(state, { settled: true, ok: false, error }),
  );
  return state;
}

interface FakeOptions {
  maxBatch?: number;
  /** Calls wait for `release(i)` before returning while `hold` is true at call time. */
  hold?: boolean;
  /** The per-request outcome; by default every request succeeds with `done:<request>`. */
  outcome?: (request: string, index: number) => Outcome<string>;
  /** If it returns something, the whole call rejects with it (a failed transaction). */
  failBatch?: (batch: string[]) => unknown;
}

/** A fake `commitBatch` that records every batch and can be gated call by call. */
function fake(options: FakeOptions = {}) {
  const batches: string[][] = [];
  const gates: Deferred[] = [];
  const sizes: number[] = [];
  let inFlight = 0;
  let maxInFlight = 0;
  const f = {
    hold: options.hold ?? false,
    batches,
    gates,
    sizes,
    get maxInFlight() {
      return maxInFlight;
    },
    release(i: number) {
      gates[i].resolve();
    },
    committer: undefined as unknown as GroupCommitter<string, string>,
  };
  const commitBatch = async (batch: string[]): Promise<Outcome<string>[]> => {
    batches.push([...batch]);
    const gate = deferred();
    gates.push(gate);
    if (!f.hold) gate.resolve();
    inFlight++;
    maxInFlight = Math.max(maxInFlight, inFlight);
    try {
      await gate.promise;
      const failure = options.failBatch?.(batch);
      if (failure !== undefined) throw failure;
      return batch.map((r, i) => options.outcome?.(r, i) ?? { ok: true, value: `done:${r}` });
    } finally {
      inFlight--;
    }
  };
  f.committer = new GroupCommitter(
    (batch) => Promise.resolve({ done: commitBatch(batch) }),
    options.maxBatch ?? 100,
    { onBatch: (n) => sizes.push(n) },
  );
  return f;
}

describe('GroupCommitter', () => {
  describe('batching', () => {
    it('commits a lone request at once, without waiting for a timer or company', async () => {
      const f = fake();
      const result = f.committer.submit('a');
      await Promise.resolve();
      expect(f.batches).toEqual([['a']]);
      await expect(result).resolves.toBe('done:a');
      expect(f.sizes).toEqual([1]);
    });

    it('groups requests submitted while a batch commits into the next batch', async () => {
      const f = fake({ hold: true });
      const a = f.committer.submit('a');
      const rest = ['b', 'c', 'd'].map((r) => f.committer.submit(r));
      await flush();
      expect(f.batches).toEqual([['a']]);

      f.release(0);
      await expect(a).resolves.toBe('done:a');
      await flush();
      expect(f.batches).toEqual([['a'], ['b', 'c', 'd']]);

      f.release(1);
      await expect(Promise.all(rest)).resolves.toEqual(['done:b', 'done:c', 'done:d']);
      expect(f.sizes).toEqual([1, 3]);
    });

    it('does not start a second batch until the first has settled', async () => {
      const f = fake({ hold: true });
      const all = ['a', 'b', 'c'].map((r) => f.committer.submit(r));
      await flush();
      await flush();
      expect(f.batches).toHaveLength(1);
      f.hold = false;
      f.release(0);
      await Promise.all(all);
      expect(f.maxInFlight).toBe(1);
    });

    it.each([
      { maxBatch: 1, queued: 4, sizes: [1, 1, 1, 1, 1] },
      { maxBatch: 2, queued: 5, sizes: [1, 2, 2, 1] },
      { maxBatch: 3, queued: 7, sizes: [1, 3, 3, 1] },
      { maxBatch: 3, queued: 6, sizes: [1, 3, 3] },
      { maxBatch: 5, queued: 3, sizes: [1, 3] },
      { maxBatch: 100, queued: 50, sizes: [1, 50] },
    ])(
      'respects maxBatch=$maxBatch with $queued requests queued behind the first',
      async ({ maxBatch, queued, sizes }) => {
        const f = fake({ hold: true, maxBatch });
        const requests = Array.from({ length: queued + 1 }, (_, i) => `r${i}`);
        const results = requests.map((r) => f.committer.submit(r));
        await flush();
        expect(f.batches).toEqual([['r0']]);

        f.hold = false;
        f.release(0);
        await expect(Promise.all(results)).resolves.toEqual(requests.map((r) => `done:${r}`));

        expect(f.batches.map((b) => b.length)).toEqual(sizes);
        expect(f.sizes).toEqual(sizes);
        expect(f.batches.every((b) => b.length <= maxBatch)).toBe(true);
        // FIFO: the batches, read in order, are the requests in submission order.
        expect(f.batches.flat()).toEqual(requests);
        expect(f.maxInFlight).toBe(1);
      },
    );

    it('keeps one batch in flight at a time under a stream of submissions', async () => {
      const f = fake({ maxBatch: 4 });
      const submitted: string[] = [];
      const results: Promise<string>[] = [];
      for (let round = 0; round < 20; round++) {
        for (let i = 0; i < (round % 5) + 1; i++) {
          const r = `r${round}.${i}`;
          submitted.push(r);
          results.push(f.committer.submit(r));
        }
        if (round % 3 === 0) await flush();
        else await Promise.resolve();
      }
      await expect(Promise.all(results)).resolves.toEqual(submitted.map((r) => `done:${r}`));
      expect(f.maxInFlight).toBe(1);
      expect(f.batches.flat()).toEqual(submitted);
      expect(f.batches.every((b) => b.length >= 1 && b.length <= 4)).toBe(true);
    });

    it('starts committing again when a request arrives after the committer went idle', async () => {
      const f = fake();
      await expect(f.committer.submit('a')).resolves.toBe('done:a');
      await flush();
      await expect(f.committer.submit('b')).resolves.toBe('done:b');
      expect(f.batches).toEqual([['a'], ['b']]);
    });
  });

  describe('per-request outcomes', () => {
    const errors = new Map(['b', 'd'].map((r) => [r, new Error(`rejected ${r}`)]));

    it.each([
      { request: 'a', ok: true },
      { request: 'b', ok: false },
      { request: 'c', ok: true },
      { request: 'd', ok: false },
      { request: 'e', ok: true },
    ])('maps the outcome at the request’s index to request $request (ok=$ok)', async ({ request, ok }) => {
      const f = fake({
        hold: true,
        outcome: (r, i) =>
          errors.has(r) ? { ok: false, error: errors.get(r) } : { ok: true, value: `${r}@${i}` },
      });
      const first = f.committer.submit('first');
      const results = new Map(['a', 'b', 'c', 'd', 'e'].map((r) => [r, track(f.committer.submit(r))]));
      f.hold = false;
      f.release(0);
      await first;
      await flush();

      expect(f.batches).toEqual([['first'], ['a', 'b', 'c', 'd', 'e']]);
      const index = ['a', 'b', 'c', 'd', 'e'].indexOf(request);
      const state = results.get(request)!;
      expect(state.settled).toBe(true);
      expect(state.ok).toBe(ok);
      if (ok) expect(state.value).toBe(`${request}@${index}`);
      else expect(state.error).toBe(errors.get(request));
    });

    it('does not retry a batch whose requests failed individually', async () => {
      const f = fake({ outcome: (r) => ({ ok: false, error: new Error(`no ${r}`) }) });
      await expect(f.committer.submit('x')).rejects.toThrow('no x');
      expect(f.batches).toEqual([['x']]);
    });
  });

  describe('a whole-batch failure', () => {
    const boom = new Error('transaction aborted');

    async function batchWith(options: FakeOptions, requests: string[]) {
      const f = fake({ hold: true, ...options });
      const first = track(f.committer.submit('first'));
      const states = requests.map((r) => track(f.committer.submit(r)));
      f.hold = false;
      f.release(0);
      await flush();
      await flush();
      expect(first.settled).toBe(true);
      return { f, states };
    }

    it.each([
      {
        name: 'one bad request among good ones',
        requests: ['a', 'bad', 'c'],
        expected: [{ value: 'done:a' }, { error: boom }, { value: 'done:c' }],
        calls: [['a', 'bad', 'c'], ['a'], ['bad'], ['c']],
      },
      {
        name: 'the bad request first',
        requests: ['bad', 'b', 'c', 'd'],
        expected: [{ error: boom }, { value: 'done:b' }, { value: 'done:c' }, { value: 'done:d' }],
        calls: [['bad', 'b', 'c', 'd'], ['bad'], ['b'], ['c'], ['d']],
      },
      {
        name: 'two bad requests',
        requests: ['bad', 'b', 'bad2'],
        expected: [{ error: boom }, { value: 'done:b' }, { error: boom }],
        calls: [['bad', 'b', 'bad2'], ['bad'], ['b'], ['bad2']],
      },
      {
        name: 'every request bad',
        requests: ['bad1', 'bad2'],
        expected: [{ error: boom }, { error: boom }],
        calls: [['bad1', 'bad2'], ['bad1'], ['bad2']],
      },
    ])('retries one request at a time: $name', async ({ requests, expected, calls }) => {
      const { f, states } = await batchWith(
        { failBatch: (b) => (b.some((r) => r.startsWith('bad')) ? boom : undefined) },
        requests,
      );
      expect(f.batches).toEqual([['first'], ...calls]);
      expect(f.maxInFlight).toBe(1);
      states.forEach((s, i) => {
        expect(s.settled).toBe(true);
        const want = expected[i];
        if ('value' in want) expect(s).toMatchObject({ ok: true, value: want.value });
        else expect(s).toMatchObject({ ok: false, error: want.error });
      });
    });

    it('maps per-request outcomes of the retries too', async () => {
      const refused = new Error('refused c');
      const { f, states } = await batchWith(
        {
          failBatch: (b) => (b.includes('bad') ? boom : undefined),
          outcome: (r) => (r === 'c' ? { ok: false, error: refused } : { ok: true, value: `done:${r}` }),
        },
        ['a', 'bad', 'c'],
      );
      expect(f.batches.slice(1)).toEqual([['a', 'bad', 'c'], ['a'], ['bad'], ['c']]);
      expect(states.map((s) => (s.ok ? s.value : s.error))).toEqual(['done:a', boom, refused]);
    });

    it('rejects a lone request with the thrown error, without retrying it', async () => {
      const f = fake({ failBatch: () => boom });
      await expect(f.committer.submit('only')).rejects.toBe(boom);
      expect(f.batches).toEqual([['only']]);
    });

    it('passes a non-Error rejection through unchanged', async () => {
      const f = fake({ failBatch: () => 'socket hang up' });
      await expect(f.committer.submit('only')).rejects.toBe('socket hang up');
    });

    it('keeps serving requests after a failed batch', async () => {
      const f = fake({ failBatch: (b) => (b.includes('bad') ? boom : undefined) });
      await expect(f.committer.submit('bad')).rejects.toBe(boom);
      await expect(within(f.committer.submit('good'))).resolves.toBe('done:good');
      expect(f.batches).toEqual([['bad'], ['good']]);
    });

    it('commits requests that queued up during the retries in a batch after them', async () => {
      const f = fake({ hold: true, failBatch: (b) => (b.includes('bad') ? boom : undefined) });
      const first = f.committer.submit('first');
      const batch = ['a', 'bad'].map((r) => track(f.committer.submit(r)));
      f.release(0);
      await first;
      await flush();
      expect(f.batches).toEqual([['first'], ['a', 'bad']]);
      const late = ['x', 'y'].map((r) => track(f.committer.submit(r)));

      f.hold = false;
      f.release(1);
      await flush();
      await flush();
      expect(f.batches).toEqual([['first'], ['a', 'bad'], ['a'], ['bad'], ['x', 'y']]);
      expect([...batch, ...late].map((s) => (s.ok ? s.value : s.error))).toEqual([
        'done:a',
        boom,
        'done:x',
        'done:y',
      ]);
    });
  });

  describe('close()', () => {
    it('resolves at once when idle', async () => {
      const f = fake();
      await expect(within(f.committer.close())).resolves.toBeUndefined();
      expect(f.batches).toEqual([]);
    });

    it('waits for the batch in flight and for every queued request', async () => {
      const f = fake({ hold: true, maxBatch: 2 });
      const results = ['a', 'b', 'c', 'd'].map((r) => track(f.committer.submit(r)));
      await flush();
      const closed = track(f.committer.close());
      await flush();
      expect(closed.settled).toBe(false);

      f.release(0);
      await flush();
      expect(closed.settled).toBe(false);
      expect(f.batches).toEqual([['a'], ['b', 'c']]);

      f.release(1);
      await flush();
      expect(closed.settled).toBe(false);
      expect(f.batches).toEqual([['a'], ['b', 'c'], ['d']]);

      f.release(2);
      await flush();
      expect(closed).toMatchObject({ settled: true, ok: true });
      expect(results.map((s) => s.value)).toEqual(['done:a', 'done:b', 'done:c', 'done:d']);
    });

    it('waits for the one-at-a-time retries of a failed batch', async () => {
      const boom = new Error('boom');
      const f = fake({ hold: true, failBatch: (b) => (b.includes('bad') ? boom : undefined) });
      const results = ['first', 'a', 'bad', 'c'].map((r) => track(f.committer.submit(r)));
      f.hold = false;
      const closed = f.committer.close();
      f.release(0);
      await expect(within(closed)).resolves.toBeUndefined();
      expect(f.batches).toEqual([['first'], ['a', 'bad', 'c'], ['a'], ['bad'], ['c']]);
      expect(results.map((s) => (s.ok ? s.value : s.error))).toEqual([
        'done:first',
        'done:a',
        boom,
        'done:c',
      ]);
    });

    it('rejects submissions after close, without calling commitBatch', async () => {
      const f = fake();
      await f.committer.close();
      await expect(f.committer.submit('late')).rejects.toThrow('the event store is closed');
      expect(f.batches).toEqual([]);
    });

    it('rejects submissions made while close is waiting, but still commits what was queued', async () => {
      const f = fake({ hold: true });
      const queued = track(f.committer.submit('queued'));
      const closed = f.committer.close();
      const late = track(f.committer.submit('late'));
      await flush();
      expect(late).toMatchObject({ settled: true, ok: false });
      expect((late.error as Error).message).toBe('the event store is closed');
      f.release(0);
      await expect(within(closed)).resolves.toBeUndefined();
      expect(queued).toMatchObject({ settled: true, ok: true, value: 'done:queued' });
      expect(f.batches).toEqual([['queued']]);
    });

    it('can be called more than once', async () => {
      const f = fake({ hold: true });
      const queued = track(f.committer.submit('a'));
      const first = f.committer.close();
      const second = f.committer.close();
      f.release(0);
      await expect(within(Promise.all([first, second]))).resolves.toEqual([undefined, undefined]);
      expect(queued.value).toBe('done:a');
    });
  });

  // Regression: the drain loop used to end after its last look at the queue, but before
  // `draining` was cleared. A request submitted from the continuation of a request the last
  // batch settled saw a drain "running", queued itself, and was never committed: it hung.
  describe('regression: a request submitted from the continuation of a settled request', () => {
    const boom = new Error('boom');
    const modes: {
      name: string;
      options: FakeOptions;
      first: string;
    }[] = [
      {
        name: 'the first outcome is an error',
        options: {
          outcome: (r) => (r === 'a' ? { ok: false, error: boom } : { ok: true, value: `done:${r}` }),
        },
        first: 'a',
      },
      { name: 'the first outcome is a success', options: {}, first: 'a' },
      {
        name: 'the first batch failed as a whole',
        options: { failBatch: (b) => (b.includes('a') ? boom : undefined) },
        first: 'a',
      },
    ];

    it.each(modes)('is committed after `await submit(a).catch()` when $name', async ({ options, first }) => {
      const f = fake(options);
      const run = (async () => {
        await f.committer.submit(first).catch(() => undefined);
        return f.committer.submit('b');
      })();
      await expect(within(run)).resolves.toBe('done:b');
      expect(f.batches).toEqual([[first], ['b']]);
    });

    it.each(modes)(
      'is committed when submitted from a .then/.catch callback when $name',
      async ({ options, first }) => {
        const f = fake(options);
        const run = f.committer.submit(first).then(
          () => f.committer.submit('b'),
          () => f.committer.submit('b'),
        );
        await expect(within(run)).resolves.toBe('done:b');
      },
    );

    it.each(modes)(
      'is committed after a try/catch around `await submit(a)` when $name',
      async ({ options, first }) => {
        const f = fake(options);
        const run = (async () => {
          try {
            await f.committer.submit(first);
          } catch {
            // the first request's outcome does not matter here
          }
          return f.committer.submit('b');
        })();
        await expect(within(run)).resolves.toBe('done:b');
      },
    );

    it('keeps working along a long chain of sequential submissions that all fail', async () => {
      const f = fake({ outcome: (r) => ({ ok: false, error: new Error(r) }) });
      const run = (async () => {
        const seen: string[] = [];
        for (let i = 0; i < 25; i++) {
          await f.committer.submit(`r${i}`).catch((e: Error) => seen.push(e.message));
        }
        return seen;
      })();
      const seen = await within(run);
      expect(seen).toEqual(Array.from({ length: 25 }, (_, i) => `r${i}`));
      expect(f.batches).toEqual(Array.from({ length: 25 }, (_, i) => [`r${i}`]));
    });

    it('commits a follow-up submitted by a request of a multi-request batch', async () => {
      const f = fake({
        hold: true,
        outcome: (r) => (r === 'x' ? { ok: false, error: boom } : { ok: true, value: `done:${r}` }),
      });
      const first = f.committer.submit('first');
      const followUps = ['w', 'x', 'y'].map((r) =>
        f.committer
          .submit(r)
          .catch(() => undefined)
          .then(() => f.committer.submit(`${r}-next`)),
      );
      f.hold = false;
      f.release(0);
      await first;
      await expect(within(Promise.all(followUps))).resolves.toEqual([
        'done:w-next',
        'done:x-next',
        'done:y-next',
      ]);
      expect(f.batches.slice(0, 2)).toEqual([['first'], ['w', 'x', 'y']]);
      expect(f.batches.slice(2).flat().sort()).toEqual(['w-next', 'x-next', 'y-next']);
    });

    it('commits a follow-up submitted after the retries of a failed batch settled', async () => {
      const f = fake({ hold: true, failBatch: (b) => (b.includes('bad') ? boom : undefined) });
      const first = f.committer.submit('first');
      const followUp = f.committer
        .submit('bad')
        .catch(() => undefined)
        .then(() => f.committer.submit('after'));
      const other = f.committer.submit('ok');
      f.hold = false;
      f.release(0);
      await first;
      await expect(within(followUp)).resolves.toBe('done:after');
      await expect(other).resolves.toBe('done:ok');
      expect(f.batches).toEqual([['first'], ['bad', 'ok'], ['bad'], ['ok'], ['after']]);
    });
  });

  describe('pipelining (depth > 1)', () => {
    interface PipelineOptions {
      depth: number;
      maxBatch?: number;
      /** `startBatch` resolves only on `send(i)` (otherwise at once). */
      holdStart?: boolean;
      /** The per-request outcome; by default every request succeeds with `done:<request>`. */
      outcome?: (request: string) => Outcome<string>;
      /** If it returns something, the batch's `done` rejects with it (a failed transaction). */
      failBatch?: (batch: string[]) => unknown;
      /** If it returns something, `startBatch` itself rejects with it (the batch was never sent). */
      failStart?: (batch: string[]) => unknown;
    }

    /**
     * A fake pipelining `startBatch`: records every batch, and gates both the start (the promise
     * it returns) and the `done` of each batch by its index. Counts the batches under way: from
     * the call to `startBatch` until `done` settles.
     */
    function pipeline(options: PipelineOptions) {
      const batches: string[][] = [];
      const starts: Deferred[] = [];
      const dones: Deferred[] = [];
      const sizes: number[] = [];
      let underWay = 0;
      let maxUnderWay = 0;
      const p = {
        /** Whether a new batch's `done` waits for `settle(i)`; read when the batch starts. */
        holdDone: true,
        batches,
        sizes,
        get underWay() {
          return underWay;
        },
        get maxUnderWay() {
          return maxUnderWay;
        },
        send(i: number) {
          starts[i].resolve();
        },
        settle(i: number) {
          dones[i].resolve();
        },
        committer: undefined as unknown as GroupCommitter<string, string>,
      };
      const startBatch = async (batch: string[]) => {
        batches.push([...batch]);
        const start = deferred();
        const gate = deferred();
        starts.push(start);
        dones.push(gate);
        if (!options.holdStart) start.resolve();
        if (!p.holdDone) gate.resolve();
        underWay++;
        maxUnderWay = Math.max(maxUnderWay, underWay);
        await start.promise;
        const refused = options.failStart?.(batch);
        if (refused !== undefined) {
          underWay--;
          throw refused;
        }
        const done = (async (): Promise<Outcome<string>[]> => {
          try {
            await gate.promise;
            const failure = options.failBatch?.(batch);
            if (failure !== undefined) throw failure;
            return batch.map((r) => options.outcome?.(r) ?? { ok: true, value: `done:${r}` });
          } finally {
            underWay--;
          }
        })();
        return { done };
      };
      p.committer = new GroupCommitter(startBatch, options.maxBatch ?? 100, {
        depth: options.depth,
        onBatch: (n) => sizes.push(n),
      });
      return p;
    }

    const outcomes = (states: ReturnType<typeof track<string>>[]) =>
      states.map((s) => (s.settled ? (s.ok ? s.value : s.error) : 'pending'));

    it('keeps two batches under way at once, never three', async () => {
      const p = pipeline({ depth: 2 });
      const a = track(p.committer.submit('a'));
      await flush();
      const b = track(p.committer.submit('b'));
      await flush();
      expect(p.batches).toEqual([['a'], ['b']]);
      expect(p.underWay).toBe(2);

      const rest = ['c', 'd'].map((r) => track(p.committer.submit(r)));
      await flush();
      await flush();
      expect(p.batches).toEqual([['a'], ['b']]);
      expect(outcomes([a, b, ...rest])).toEqual(['pending', 'pending', 'pending', 'pending']);

      // One settles: the two that waited go together in the next batch.
      p.settle(0);
      await flush();
      expect(outcomes([a, b, ...rest])).toEqual(['done:a', 'pending', 'pending', 'pending']);
      expect(p.batches).toEqual([['a'], ['b'], ['c', 'd']]);
      expect(p.underWay).toBe(2);

      p.settle(1);
      p.settle(2);
      await flush();
      expect(outcomes([a, b, ...rest])).toEqual(['done:a', 'done:b', 'done:c', 'done:d']);
      expect(p.sizes).toEqual([1, 1, 2]);
      expect(p.maxUnderWay).toBe(2);
    });

    it('groups requests that arrive while two batches are under way into one batch, up to maxBatch', async () => {
      const p = pipeline({ depth: 2, maxBatch: 2 });
      const results = ['a', 'b', 'c', 'd', 'e', 'f'].map((r) => track(p.committer.submit(r)));
      await flush();
      // `a` went alone at once; `b` and `c` were queued by the time it was sent.
      expect(p.batches).toEqual([['a'], ['b', 'c']]);

      p.settle(1);
      await flush();
      expect(p.batches).toEqual([['a'], ['b', 'c'], ['d', 'e']]);
      expect(outcomes(results)).toEqual(['pending', 'done:b', 'done:c', 'pending', 'pending', 'pending']);

      p.settle(0);
      await flush();
      expect(p.batches).toEqual([['a'], ['b', 'c'], ['d', 'e'], ['f']]);
      p.settle(2);
      p.settle(3);
      await flush();
      expect(outcomes(results)).toEqual(['a', 'b', 'c', 'd', 'e', 'f'].map((r) => `done:${r}`));
      expect(p.maxUnderWay).toBe(2);
    });

    it.each([2, 3])(
      'splits a closed loop of 12 writers into even batches at depth=%i, not 11 and 1',
      async (depth) => {
        const p = pipeline({ depth });
        p.holdDone = false;
        const rounds = 20;
        const writers = Array.from({ length: 12 }, async (_, w) => {
          for (let i = 0; i < rounds; i++) await p.committer.submit(`w${w}-${i}`);
        });
        await within(Promise.all(writers));
        expect(p.sizes.reduce((a, b) => a + b, 0)).toBe(12 * rounds);
        // The first request goes alone at once, and the last batch is one short for it; every
        // batch between carries 12/depth.
        const steady = p.sizes.slice(1, -1);
        expect(steady.length).toBeGreaterThan(rounds);
        expect(new Set(steady)).toEqual(new Set([12 / depth]));
      },
    );

    it.each([1, 2, 3, 4])('keeps at most depth=%i batches under way', async (depth) => {
      const p = pipeline({ depth });
      const requests = Array.from({ length: 8 }, (_, i) => `r${i}`);
      const results: Promise<string>[] = [];
      for (const r of requests) {
        results.push(p.committer.submit(r));
        await flush();
      }
      expect(p.batches).toHaveLength(depth);
      expect(p.underWay).toBe(depth);

      p.holdDone = false;
      for (let i = 0; i < depth; i++) p.settle(i);
      await expect(within(Promise.all(results))).resolves.toEqual(requests.map((r) => `done:${r}`));
      expect(p.maxUnderWay).toBe(depth);
      expect(p.batches.flat()).toEqual(requests);
    });

    it('starts the next batch once startBatch resolved, before the previous batch settled', async () => {
      const p = pipeline({ depth: 2, holdStart: true });
      const a = track(p.committer.submit('a'));
      const late = ['b', 'c'].map((r) => track(p.committer.submit(r)));
      await flush();
      await flush();
      // `a` is not sent yet: nothing else starts, though depth allows a second batch.
      expect(p.batches).toEqual([['a']]);

      p.send(0);
      await flush();
      expect(p.batches).toEqual([['a'], ['b', 'c']]);
      expect(a.settled).toBe(false);

      p.send(1);
      p.settle(1);
      await flush();
      expect(outcomes([a, ...late])).toEqual(['pending', 'done:b', 'done:c']);
      p.settle(0);
      await flush();
      expect(outcomes([a])).toEqual(['done:a']);
    });

    it('delivers each request its own outcome, whichever batch settles first', async () => {
      const refused = new Error('refused x');
      const p = pipeline({
        depth: 2,
        outcome: (r) => (r === 'x' ? { ok: false, error: refused } : { ok: true, value: `done:${r}` }),
      });
      const a = track(p.committer.submit('a'));
      const second = ['b', 'x', 'c', 'd'].map((r) => track(p.committer.submit(r)));
      await flush();
      // An even share of the five waiting or under way: `d` waits for a place.
      expect(p.batches).toEqual([['a'], ['b', 'x', 'c']]);

      p.settle(1);
      await flush();
      expect(outcomes([a, ...second])).toEqual(['pending', 'done:b', refused, 'done:c', 'pending']);
      expect(p.batches).toEqual([['a'], ['b', 'x', 'c'], ['d']]);

      p.settle(0);
      p.settle(2);
      await flush();
      expect(outcomes([a, second[3]])).toEqual(['done:a', 'done:d']);
      expect(p.batches).toHaveLength(3);
    });

    it('retries a failed batch one request at a time while another batch is under way', async () => {
      const boom = new Error('transaction aborted');
      const p = pipeline({ depth: 2, failBatch: (b) => (b.includes('bad') ? boom : undefined) });
      const first = track(p.committer.submit('first'));
      const batch = ['a', 'bad', 'c'].map((r) => track(p.committer.submit(r)));
      const waiting = track(p.committer.submit('d'));
      await flush();
      expect(p.batches).toEqual([['first'], ['a', 'bad', 'c']]);

      p.holdDone = false;
      p.settle(1);
      await flush();
      await flush();
      // `d` goes once the failed batch's retries are done and its place is free.
      expect(p.batches).toEqual([['first'], ['a', 'bad', 'c'], ['a'], ['bad'], ['c'], ['d']]);
      expect(outcomes([first, ...batch, waiting])).toEqual(['pending', 'done:a', boom, 'done:c', 'done:d']);

      p.settle(0);
      await flush();
      expect(outcomes([first])).toEqual(['done:first']);
      expect(p.maxUnderWay).toBe(2);
    });

    it('counts the retries of a failed batch against depth', async () => {
      const boom = new Error('transaction aborted');
      const p = pipeline({ depth: 2, failBatch: (b) => (b.includes('bad') ? boom : undefined) });
      const first = track(p.committer.submit('first'));
      const batch = ['a', 'bad'].map((r) => track(p.committer.submit(r)));
      await flush();
      expect(p.batches).toEqual([['first'], ['a', 'bad']]);

      p.settle(1); // fails: `a` is retried alone, held
      await flush();
      expect(p.batches).toEqual([['first'], ['a', 'bad'], ['a']]);
      const late = track(p.committer.submit('late'));
      await flush();
      await flush();
      // `first` and the retries of the failed batch take both places: `late` waits.
      expect(p.batches).toEqual([['first'], ['a', 'bad'], ['a']]);
      expect(p.underWay).toBe(2);

      p.settle(2);
      await flush();
      expect(p.batches).toEqual([['first'], ['a', 'bad'], ['a'], ['bad']]);
      expect(outcomes([...batch, late])).toEqual(['done:a', 'pending', 'pending']);

      p.settle(0);
      await flush();
      expect(p.batches).toEqual([['first'], ['a', 'bad'], ['a'], ['bad'], ['late']]);
      p.settle(3);
      p.settle(4);
      await flush();
      expect(outcomes([first, ...batch, late])).toEqual(['done:first', 'done:a', boom, 'done:late']);
      expect(p.maxUnderWay).toBe(2);
    });

    it('retries one request at a time when startBatch itself rejects', async () => {
      const unplannable = new Error('could not plan');
      const p = pipeline({ depth: 2, failStart: (b) => (b.includes('bad') ? unplannable : undefined) });
      const first = track(p.committer.submit('first'));
      const batch = ['a', 'bad', 'c'].map((r) => track(p.committer.submit(r)));
      const waiting = track(p.committer.submit('d'));
      p.holdDone = false;
      await flush();
      await flush();
      expect(p.batches).toEqual([['first'], ['a', 'bad', 'c'], ['a'], ['bad'], ['c'], ['d']]);
      expect(outcomes([...batch, waiting])).toEqual(['done:a', unplannable, 'done:c', 'done:d']);
      expect(first.settled).toBe(false);

      p.settle(0);
      const after = p.committer.submit('after');
      await expect(within(after)).resolves.toBe('done:after');
      expect(outcomes([first])).toEqual(['done:first']);
    });

    it('close() waits for every batch under way and every queued request', async () => {
      const p = pipeline({ depth: 2 });
      const a = track(p.committer.submit('a'));
      await flush();
      const rest = ['b', 'c'].map((r) => track(p.committer.submit(r)));
      await flush();
      expect(p.batches).toEqual([['a'], ['b', 'c']]);
      const queued = track(p.committer.submit('d'));
      const closed = track(p.committer.close());
      await flush();
      expect(closed.settled).toBe(false);

      // The later batch settling first is not enough.
      p.settle(1);
      await flush();
      expect(closed.settled).toBe(false);
      expect(p.batches).toEqual([['a'], ['b', 'c'], ['d']]);

      p.settle(0);
      await flush();
      expect(closed.settled).toBe(false);

      p.settle(2);
      await flush();
      expect(closed).toMatchObject({ settled: true, ok: true });
      expect(outcomes([a, ...rest, queued])).toEqual(['done:a', 'done:b', 'done:c', 'done:d']);
    });

    it('close() waits for a batch whose start is still pending', async () => {
      const p = pipeline({ depth: 2, holdStart: true });
      const a = track(p.committer.submit('a'));
      const closed = track(p.committer.close());
      await flush();
      expect(closed.settled).toBe(false);
      p.send(0);
      await flush();
      expect(closed.settled).toBe(false);
      p.settle(0);
      await flush();
      expect(closed).toMatchObject({ settled: true, ok: true });
      expect(a.value).toBe('done:a');
    });

    it('with depth 1, never starts a batch before the previous one’s done settled', async () => {
      const p = pipeline({ depth: 1 });
      const a = track(p.committer.submit('a'));
      await flush();
      const b = track(p.committer.submit('b'));
      await flush();
      await flush();
      // `a` was sent at once, but its `done` is still pending.
      expect(p.batches).toEqual([['a']]);

      p.settle(0);
      await flush();
      expect(p.batches).toEqual([['a'], ['b']]);
      expect(outcomes([a, b])).toEqual(['done:a', 'pending']);
      p.settle(1);
      await flush();
      expect(outcomes([b])).toEqual(['done:b']);
      expect(p.maxUnderWay).toBe(1);
    });

    it.each([0, -3])('treats depth=%i as 1', async (depth) => {
      const p = pipeline({ depth });
      const results = ['a', 'b'].map((r) => track(p.committer.submit(r)));
      await flush();
      await flush();
      expect(p.batches).toEqual([['a']]);
      p.settle(0);
      await flush();
      p.settle(1);
      await flush();
      expect(outcomes(results)).toEqual(['done:a', 'done:b']);
      expect(p.maxUnderWay).toBe(1);
    });
  });
});
