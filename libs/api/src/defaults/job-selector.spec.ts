import { describe, expect, it } from '@jest/globals';

import { prepareJobForCreate } from './job-selector.js';

describe('prepareJobForCreate (upstream generateSelector)', () => {
  it('gives the Job a uid, labels its template and selects its controller-uid', () => {
    const job: Record<string, unknown> = {
      metadata: { name: 'pi' },
      spec: { template: { metadata: { labels: { app: 'x' } }, spec: {} } },
    };
    const uid = prepareJobForCreate(job);
    expect(uid).toMatch(/^[0-9a-f-]{36}$/);
    expect(job).toMatchObject({
      metadata: { uid },
      spec: {
        selector: { matchLabels: { 'batch.kubernetes.io/controller-uid': uid } },
        template: {
          metadata: {
            labels: {
              app: 'x',
              'job-name': 'pi',
              'batch.kubernetes.io/job-name': 'pi',
              'controller-uid': uid,
              'batch.kubernetes.io/controller-uid': uid,
            },
          },
        },
      },
    });
  });

  it('keeps labels the user set and leaves a manual selector alone', () => {
    const job: Record<string, unknown> = {
      metadata: { name: 'pi' },
      spec: { template: { metadata: { labels: { 'job-name': 'mine' } } } },
    };
    prepareJobForCreate(job);
    expect(
      (job.spec as { template: { metadata: { labels: object } } }).template.metadata.labels,
    ).toMatchObject({ 'job-name': 'mine', 'batch.kubernetes.io/job-name': 'pi' });
    const manual: Record<string, unknown> = {
      metadata: { name: 'm' },
      spec: { manualSelector: true, selector: { matchLabels: { a: 'b' } }, template: {} },
    };
    expect(prepareJobForCreate(manual)).toBeUndefined();
    expect(manual.spec).toEqual({
      manualSelector: true,
      selector: { matchLabels: { a: 'b' } },
      template: {},
    });
  });
});
