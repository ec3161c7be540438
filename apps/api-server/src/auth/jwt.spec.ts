import { createHash, generateKeyPairSync, type KeyObject } from 'node:crypto';

import { describe, expect, it } from '@jest/globals';

import { algorithmOf, decodeJwt, keyIdOf, type SigningKey, signJwt, verifyJwt } from './jwt.js';

function keyOf(privateKey: KeyObject, publicKey: KeyObject): SigningKey {
  return { alg: algorithmOf(privateKey), kid: keyIdOf(publicKey), privateKey, publicKey };
}

const ec = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 });
const es256 = keyOf(ec.privateKey, ec.publicKey);
const rs256 = keyOf(rsa.privateKey, rsa.publicKey);

/** Replaces one base64url part of a compact JWS. */
function withPart(token: string, index: number, value: unknown): string {
  const parts = token.split('.');
  parts[index] = Buffer.from(JSON.stringify(value)).toString('base64url');
  return parts.join('.');
}

describe('service-account JWTs', () => {
  it('names keys as upstream does: base64url SHA-256 of the DER public key, no padding', () => {
    const der = ec.publicKey.export({ type: 'spki', format: 'der' });
    expect(es256.kid).toBe(createHash('sha256').update(der).digest('base64url'));
    expect(es256.kid).not.toContain('=');
    expect(es256.alg).toBe('ES256');
    expect(rs256.alg).toBe('RS256');
    const p384 = generateKeyPairSync('ec', { namedCurve: 'secp384r1' });
    expect(() => algorithmOf(p384.privateKey)).toThrow(/P-256/);
  });

  it.each([
    ['ES256', es256],
    ['RS256', rs256],
  ])('signs %s tokens with an alg and kid header that verify against the key', (alg, key) => {
    const token = signJwt({ sub: 'system:serviceaccount:default:x', exp: 10 }, key);
    const jwt = decodeJwt(token);
    expect(jwt?.header).toEqual({ alg, kid: key.kid });
    expect(jwt?.claims).toEqual({ sub: 'system:serviceaccount:default:x', exp: 10 });
    expect(verifyJwt(jwt!, key)).toBe(true);
    // ES256 signatures are r‖s, 64 bytes, as JWS requires (not OpenSSL's DER).
    if (alg === 'ES256') expect(jwt!.signature).toHaveLength(64);
  });

  it('refuses a token whose claims were changed after signing', () => {
    const token = signJwt({ sub: 'system:serviceaccount:default:x' }, es256);
    const tampered = withPart(token, 1, { sub: 'system:serviceaccount:kube-system:admin' });
    expect(verifyJwt(decodeJwt(tampered)!, es256)).toBe(false);
  });

  it('refuses a changed signature, another key, and a header naming another algorithm', () => {
    const token = signJwt({ sub: 'x' }, es256);
    const parts = token.split('.');
    const sig = Buffer.from(parts[2], 'base64url');
    sig[10] ^= 1;
    expect(verifyJwt(decodeJwt(`${parts[0]}.${parts[1]}.${sig.toString('base64url')}`)!, es256)).toBe(false);

    const other = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
    expect(verifyJwt(decodeJwt(token)!, keyOf(other.privateKey, other.publicKey))).toBe(false);

    // `alg: none` with no signature, or an RS256 token offered to the ES256 key: never accepted.
    const none = `${withPart(token, 0, { alg: 'none', kid: es256.kid }).split('.').slice(0, 2).join('.')}.`;
    expect(verifyJwt(decodeJwt(none)!, es256)).toBe(false);
    expect(verifyJwt(decodeJwt(signJwt({ sub: 'x' }, rs256))!, es256)).toBe(false);
  });

  it('does not decode what is not a compact JWS', () => {
    expect(decodeJwt('abc')).toBeUndefined();
    expect(decodeJwt('a.b.c.d')).toBeUndefined();
    expect(decodeJwt('not json.at all.x')).toBeUndefined();
    const arrayHeader = `${Buffer.from('[1]').toString('base64url')}.${Buffer.from('{}').toString('base64url')}.`;
    expect(decodeJwt(arrayHeader)).toBeUndefined();
  });
});
