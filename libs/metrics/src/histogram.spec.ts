import { describe, expect, it } from '@jest/globals';

import { Histogram } from './histogram.js';

describe('Histogram', () => {
  it('renders cumulative buckets, sum and count per label set', () => {
    const h = new Histogram('x_seconds', 'test', [0.1, 1]);
    h.observe(0.05, { verb: 'get' });
    h.observe(0.5, { verb: 'get' });
    h.observe(3, { verb: 'get' });
    expect(h.render()).toBe(
      [
        '# HELP x_seconds test',
        '# TYPE x_seconds histogram',
        'x_seconds_bucket{verb="get",le="0.1"} 1',
        'x_seconds_bucket{verb="get",le="1"} 2',
        'x_seconds_bucket{verb="get",le="+Inf"} 3',
        'x_seconds_sum{verb="get"} 3.55',
        'x_seconds_count{verb="get"} 3',
        '',
      ].join('\n'),
    );
  });
});
