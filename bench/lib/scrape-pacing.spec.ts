import { describe, expect, it } from '@jest/globals';

import { scrapeDelayMs } from './scrape-pacing.js';

describe('scrapeDelayMs', () => {
  it('scrapes every 50 ms until the first sample with progress', () => {
    expect(scrapeDelayMs(undefined, { at: 0, count: 0 }, 10_000)).toBe(50);
    expect(scrapeDelayMs({ at: 100, count: 5 }, { at: 100, count: 5 }, 10_000)).toBe(50);
  });
  it('waits a quarter of the rest at the rate so far, at most a second', () => {
    // 1,000 pods in 1 s: 8,000 to go take 8 s, so wait the cap.
    expect(scrapeDelayMs({ at: 0, count: 0 }, { at: 1000, count: 2000 }, 10_000)).toBe(1000);
    // 400 to go at 1 pod/ms: 100 ms.
    expect(scrapeDelayMs({ at: 0, count: 0 }, { at: 1000, count: 1000 }, 1400)).toBe(100);
  });
  it('comes back to 50 ms near the end, so the last sample is close to the last pod', () => {
    expect(scrapeDelayMs({ at: 0, count: 0 }, { at: 1000, count: 9990 }, 10_000)).toBe(50);
  });
});
