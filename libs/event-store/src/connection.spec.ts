import { describe, expect, it } from '@jest/globals';

import { splitSocket } from './connection.js';

describe('splitSocket', () => {
  it("takes libpq's ?host=/dir as the Unix-socket directory", () => {
    expect(splitSocket('postgres://postgres@localhost:5432/wake?host=%2Ftmp%2Fpg')).toEqual({
      url: 'postgres://postgres@localhost:5432/wake',
      socketDir: '/tmp/pg',
    });
  });

  it('leaves TCP URLs and non-path hosts alone', () => {
    expect(splitSocket('postgres://u@127.0.0.1:5432/db')).toEqual({ url: 'postgres://u@127.0.0.1:5432/db' });
    expect(splitSocket('postgres://u@h:1/db?host=other')).toEqual({ url: 'postgres://u@h:1/db?host=other' });
  });
});
