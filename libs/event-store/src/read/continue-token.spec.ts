import { describe, expect, it } from '@jest/globals';

import { failureStatus, thrownStatus } from '@app/testing';

import { type ContinueToken, decodeContinue, encodeContinue } from './continue-token.js';

const b64 = (text: string) => Buffer.from(text, 'utf8').toString('base64url');
const token = (payload: unknown) => b64(JSON.stringify(payload));

describe('continue tokens', () => {
  describe('round trip', () => {
    it.each<[string, ContinueToken]>([
      ['a namespaced key', { rv: 42, namespace: 'default', name: 'web-0' }],
      ['a cluster-scoped key', { rv: 7, namespace: '', name: 'node-1' }],
      ['rv 0 and empty strings', { rv: 0, namespace: '', name: '' }],
      ['the largest safe rv', { rv: Number.MAX_SAFE_INTEGER, namespace: 'ns', name: 'n' }],
      ['names with JSON-special characters', { rv: 1, namespace: 'a"b', name: 'c\\d/e\n' }],
      ['unicode names', { rv: 3, namespace: '名前空間', name: 'pod-😀-é' }],
      ['long names', { rv: 99, namespace: 'n'.repeat(63), name: 'x'.repeat(253) }],
    ])('%s', (_name, t) => {
      const raw = encodeContinue(t);
      expect(raw).toMatch(/^[A-Za-z0-9_-]+$/); // base64url, unpadded: safe in a query string
      expect(decodeContinue(raw)).toEqual(t);
    });

    it('encodes the versioned wire format {v, rv, ns, n}', () => {
      const raw = encodeContinue({ rv: 5, namespace: 'ns', name: 'n' });
      expect(JSON.parse(Buffer.from(raw, 'base64url').toString('utf8'))).toEqual({
        v: 1,
        rv: 5,
        ns: 'ns',
        n: 'n',
      });
    });

    it('decodes a token built by hand in the wire format, ignoring unknown fields', () => {
      expect(decodeContinue(token({ v: 1, rv: 12, ns: 'a', n: 'b', extra: true }))).toEqual({
        rv: 12,
        namespace: 'a',
        name: 'b',
      });
    });

    it('returns exactly the three fields', () => {
      expect(Object.keys(decodeContinue(token({ v: 1, rv: 1, ns: 'a', n: 'b', x: 1 }))).sort()).toEqual([
        'name',
        'namespace',
        'rv',
      ]);
    });

    it('gives different tokens for different positions', () => {
      const a = encodeContinue({ rv: 1, namespace: 'a', name: 'b' });
      expect(encodeContinue({ rv: 2, namespace: 'a', name: 'b' })).not.toBe(a);
      expect(encodeContinue({ rv: 1, namespace: 'b', name: 'b' })).not.toBe(a);
      expect(encodeContinue({ rv: 1, namespace: 'a', name: 'c' })).not.toBe(a);
    });
  });

  describe('rejection with 400 BadRequest', () => {
    const NOT_OURS = 'continue key is not valid: not a token this server issued';
    const MALFORMED = 'continue key is not valid: malformed token';

    it.each<[string, string, string]>([
      ['an empty string', '', NOT_OURS],
      ['plain text', 'not-a-token', NOT_OURS],
      ['punctuation', '!!!', NOT_OURS],
      ['base64 of non-JSON', b64('hello world'), NOT_OURS],
      ['base64 of truncated JSON', b64('{"v":1,"rv":5'), NOT_OURS],
      [
        'a valid token cut short',
        encodeContinue({ rv: 5, namespace: 'ns', name: 'n' }).slice(0, 10),
        NOT_OURS,
      ],
      ['binary bytes', Buffer.from([0xff, 0xfe, 0x00, 0x01]).toString('base64url'), NOT_OURS],
      ['raw (unencoded) JSON', '{"v":1,"rv":5,"ns":"a","n":"b"}', NOT_OURS],

      ['version 2', token({ v: 2, rv: 5, ns: 'a', n: 'b' }), MALFORMED],
      ['version 0', token({ v: 0, rv: 5, ns: 'a', n: 'b' }), MALFORMED],
      ['version as a string', token({ v: '1', rv: 5, ns: 'a', n: 'b' }), MALFORMED],
      ['version missing', token({ rv: 5, ns: 'a', n: 'b' }), MALFORMED],

      ['negative rv', token({ v: 1, rv: -1, ns: 'a', n: 'b' }), MALFORMED],
      ['fractional rv', token({ v: 1, rv: 1.5, ns: 'a', n: 'b' }), MALFORMED],
      ['rv as a string', token({ v: 1, rv: '5', ns: 'a', n: 'b' }), MALFORMED],
      ['rv null', token({ v: 1, rv: null, ns: 'a', n: 'b' }), MALFORMED],
      ['rv beyond the safe integers', token({ v: 1, rv: 2 ** 53, ns: 'a', n: 'b' }), MALFORMED],
      ['rv in exponent form beyond the safe integers', b64('{"v":1,"rv":1e300,"ns":"a","n":"b"}'), MALFORMED],
      ['rv missing', token({ v: 1, ns: 'a', n: 'b' }), MALFORMED],

      ['namespace missing', token({ v: 1, rv: 5, n: 'b' }), MALFORMED],
      ['namespace a number', token({ v: 1, rv: 5, ns: 3, n: 'b' }), MALFORMED],
      ['namespace null', token({ v: 1, rv: 5, ns: null, n: 'b' }), MALFORMED],
      ['name missing', token({ v: 1, rv: 5, ns: 'a' }), MALFORMED],
      ['name an object', token({ v: 1, rv: 5, ns: 'a', n: {} }), MALFORMED],
      [
        'long field names instead of the wire names',
        token({ v: 1, rv: 5, namespace: 'a', name: 'b' }),
        MALFORMED,
      ],

      ['a JSON array', token([1, 5, 'a', 'b']), MALFORMED],
      ['a JSON string', token('token'), MALFORMED],
      ['a JSON number', token(1), MALFORMED],
      ['JSON true', token(true), MALFORMED],
      ['an empty JSON object', token({}), MALFORMED],
    ])('%s', (_name, raw, message) => {
      expect(thrownStatus(() => decodeContinue(raw)).toStatus()).toEqual(
        failureStatus('BadRequest', 400, message),
      );
    });

    // Regression, fixed (continue-token.ts, decodeContinue): JSON.parse('null') succeeds, and the field checks
    // then read `t.v` of null, so a token that decodes to `null` escapes as a TypeError (a 500)
    // instead of a 400 BadRequest.
    it('regression: rejects a token that decodes to JSON null with BadRequest, not a TypeError', () => {
      const error = thrownStatus(() => decodeContinue(token(null)));
      expect(error.reason).toBe('BadRequest');
      expect(error.code).toBe(400);
    });
  });
});
