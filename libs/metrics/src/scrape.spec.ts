import { describe, expect, it } from '@jest/globals';

import {
  counterDeltas,
  labelValue,
  parseScrape,
  quantileBetween,
  sampleSum,
  seriesBetween,
} from './scrape.js';

describe('quantileBetween', () => {
  const scrape = (a: number, b: number, inf: number) =>
    parseScrape(
      [
        `m_bucket{verb="GET",le="0.1"} ${a}`,
        `m_bucket{verb="GET",le="1"} ${b}`,
        `m_bucket{verb="GET",le="+Inf"} ${inf}`,
        `m_bucket{verb="POST",le="0.1"} 0`,
        `m_bucket{verb="POST",le="1"} 100`,
        `m_bucket{verb="POST",le="+Inf"} 100`,
      ].join('\n'),
    );

  it('interpolates within the bucket between two scrapes, over the selected series', () => {
    const before = scrape(10, 10, 10);
    const after = scrape(60, 110, 110);
    // 100 new GETs: 50 under 0.1 s, 50 in (0.1, 1]: the median is at the first bucket's edge.
    expect(quantileBetween(before, after, 'm', 0.5, (l) => l.includes('GET')).value).toBeCloseTo(0.1);
    expect(quantileBetween(before, after, 'm', 0.99, (l) => l.includes('GET')).value).toBeCloseTo(
      0.1 + 0.9 * (49 / 50),
    );
    expect(quantileBetween(before, after, 'm', 0.5, (l) => l.includes('GET')).count).toBe(100);
  });

  it('reads prom-client series, which put le first', () => {
    const promClient = (n: number) =>
      parseScrape(
        [
          `m_bucket{le="0.1",verb="POST",resource="pods"} ${n}`,
          `m_bucket{le="1",verb="POST",resource="pods"} ${2 * n}`,
          `m_bucket{le="+Inf",verb="POST",resource="pods"} ${2 * n}`,
          `m_bucket{le="0.1",verb="GET",resource="pods"} 7`,
          `m_bucket{le="1",verb="GET",resource="pods"} 7`,
          `m_bucket{le="+Inf",verb="GET",resource="pods"} 7`,
          `m_count{verb="POST",resource="pods"} ${2 * n}`,
          `m_count{verb="GET",resource="pods"} 7`,
        ].join('\n'),
      );
    const post = (l: string) => labelValue(l, 'verb') === 'POST' && labelValue(l, 'resource') === 'pods';
    const q = quantileBetween(promClient(0), promClient(50), 'm', 0.5, post);
    expect(q.count).toBe(100);
    expect(q.value).toBeCloseTo(0.1);
    // Only the series that moved between the scrapes.
    expect(seriesBetween(promClient(0), promClient(50), 'm', ['verb', 'resource'])).toEqual(['POST|pods']);
  });

  it('says NaN without observations', () => {
    expect(
      quantileBetween(scrape(1, 1, 1), scrape(1, 1, 1), 'm', 0.99, (l) => l.includes('GET')).value,
    ).toBeNaN();
  });
});

describe('counterDeltas', () => {
  it('is the growth of each series between two scrapes, by one label, new series counted from zero', () => {
    const before = parseScrape(
      ['workqueue_retries_total{name="replicaset"} 5', 'workqueue_retries_total{name="deployment"} 2'].join(
        '\n',
      ),
    );
    const after = parseScrape(
      [
        '# HELP workqueue_retries_total retries',
        'workqueue_retries_total{name="replicaset"} 12',
        'workqueue_retries_total{name="deployment"} 2',
        'workqueue_retries_total{name="endpoint"} 3',
        'workqueue_retries_total_other{name="x"} 9',
      ].join('\n'),
    );
    expect(Object.fromEntries(counterDeltas(before, after, 'workqueue_retries_total', ['name']))).toEqual({
      replicaset: 7,
      deployment: 0,
      endpoint: 3,
    });
  });
});

describe('sampleSum', () => {
  const scrape = parseScrape(
    [
      '# HELP c_total a counter',
      'c_total{result="ended",transport="spdy"} 3',
      'c_total{result="ended",transport="websocket"} 4',
      'c_total{result="failed",transport="spdy"} 1',
      'c_total_other{result="ended"} 100',
      'plain 7',
      'r_total{subresource=""} 9',
    ].join('\n'),
  );

  it('sums the series with every given label, and only of that metric', () => {
    expect(sampleSum(scrape, 'c_total', { result: 'ended' })).toBe(7);
    expect(sampleSum(scrape, 'c_total', { result: 'ended', transport: 'spdy' })).toBe(3);
    expect(sampleSum(scrape, 'c_total')).toBe(8);
    expect(sampleSum(scrape, 'plain')).toBe(7);
  });

  it('is 0 for a metric or label value it does not have', () => {
    expect(sampleSum(scrape, 'c_total', { result: 'refused' })).toBe(0);
    expect(sampleSum(scrape, 'missing')).toBe(0);
    expect(sampleSum(scrape, 'plain', { result: '' })).toBe(0);
    // `resource` is not `subresource`.
    expect(sampleSum(scrape, 'r_total', { resource: '' })).toBe(0);
    expect(sampleSum(scrape, 'r_total', { subresource: '' })).toBe(9);
  });
});
