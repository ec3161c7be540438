import { describe, expect, it } from '@jest/globals';

import { ApiError } from './api-client.js';
import { retryOnConflict } from './retry-on-conflict.js';

const conflict = () => new ApiError(409, 'Conflict', 'the object has been modified', {});

describe('retryOnConflict', () => {
  it('writes what it was given when nothing conflicts, reading nothing', async () => {
    const reads: number[] = [];
    const result = await retryOnConflict(
      1,
      async () => (reads.push(1), 2),
      async (v) => `wrote ${v}`,
    );
    expect(result).toBe('wrote 1');
    expect(reads).toEqual([]);
  });

  it('on a conflict reads again and writes on the fresh read', async () => {
    let version = 1;
    const written: number[] = [];
    const result = await retryOnConflict(
      version,
      async () => version,
      async (v) => {
        written.push(v);
        if (v < 3) {
          version++;
          throw conflict();
        }
        return v;
      },
    );
    expect(result).toBe(3);
    expect(written).toEqual([1, 2, 3]);
  });

  it('gives up after `attempts` writes with the last conflict', async () => {
    let writes = 0;
    const last = conflict();
    await expect(
      retryOnConflict(
        0,
        async () => 0,
        async () => {
          writes++;
          throw writes === 3 ? last : conflict();
        },
        3,
      ),
    ).rejects.toBe(last);
    expect(writes).toBe(3);
  });

  it('throws any other error at once, and a failed re-read', async () => {
    let writes = 0;
    const notFound = new ApiError(404, 'NotFound', 'gone', {});
    await expect(
      retryOnConflict(
        0,
        async () => 0,
        async () => {
          writes++;
          throw notFound;
        },
      ),
    ).rejects.toBe(notFound);
    expect(writes).toBe(1);
    await expect(
      retryOnConflict(
        0,
        async () => {
          throw notFound;
        },
        async () => {
          throw conflict();
        },
      ),
    ).rejects.toBe(notFound);
  });
});
