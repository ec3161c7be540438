import { describe, expect, it } from '@jest/globals';

import { eventStreamConfig, resolveEventStream } from './event-stream.js';

describe('eventStreamConfig replicas', () => {
  it('keeps one copy unless told (a single nats-server)', () => {
    expect(eventStreamConfig(resolveEventStream()).num_replicas).toBe(1);
  });

  it('asks JetStream for R3 on a three-server cluster', () => {
    expect(eventStreamConfig(resolveEventStream({ replicas: 3 })).num_replicas).toBe(3);
  });
});
