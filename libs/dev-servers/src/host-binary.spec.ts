import { describe, expect, it } from '@jest/globals';

import { hostBinary } from './host-binary.js';

describe('hostBinary', () => {
  it('takes the first candidate that exists, skipping unset ones', () => {
    expect(hostBinary('node', [undefined, '/nonexistent/node', process.execPath])).toBe(process.execPath);
  });

  it('names what it looked for when nothing exists', () => {
    expect(() => hostBinary('nats-server', ['/nonexistent/a', undefined], 'install it')).toThrow(
      'nats-server not found (looked for /nonexistent/a): install it',
    );
  });
});
