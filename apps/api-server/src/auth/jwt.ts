import { createHash, type KeyObject, sign, verify } from 'node:crypto';

import { isObject } from '@app/api';

/** The JWS algorithms service-account keys sign with (upstream: RS256 for RSA keys, ES256 for P-256). */
export type JwtAlgorithm = 'ES256' | 'RS256';

/** A key that signs tokens, named by `kid` so verifiers pick the right public key. */
export interface SigningKey {
  alg: JwtAlgorithm;
  kid: string;
  privateKey: KeyObject;
  publicKey: KeyObject;
}

/** A key that verifies tokens (public half only). */
export type VerificationKey = Omit<SigningKey, 'privateKey'>;

export interface JwtHeader {
  alg: string;
  kid?: string;
  typ?: string;
}

/** A compact JWS split into its parts; the signature is not checked yet. */
export interface DecodedJwt {
  header: JwtHeader;
  claims: Record<string, unknown>;
  signingInput: string;
  signature: Buffer;
}

/**
 * Upstream's key id (pkg/serviceaccount/jwt.go keyIDFromPublicKey): the unpadded base64url
 * SHA-256 of the public key's DER (SubjectPublicKeyInfo) encoding.
 */
export function keyIdOf(publicKey: KeyObject): string {
  const der = publicKey.export({ type: 'spki', format: 'der' });
  return createHash('sha256').update(der).digest('base64url');
}

/** The algorithm a key signs with, as upstream's signerFromKey picks it (only RSA and P-256 here). */
export function algorithmOf(key: KeyObject): JwtAlgorithm {
  if (key.asymmetricKeyType === 'rsa') return 'RS256';
  if (key.asymmetricKeyType === 'ec' && key.asymmetricKeyDetails?.namedCurve === 'prime256v1') return 'ES256';
  throw new Error(
    `service account signing keys must be RSA or ECDSA P-256, not ${key.asymmetricKeyType} ${key.asymmetricKeyDetails?.namedCurve ?? ''}`,
  );
}

/** A compact JWS of `claims`, with the `alg` and `kid` header go-jose writes for upstream. */
export function signJwt(claims: Record<string, unknown>, key: SigningKey): string {
  const header = encodePart({ alg: key.alg, kid: key.kid });
  const input = `${header}.${encodePart(claims)}`;
  // JWS ES256 signatures are r‖s (IEEE P1363), not the DER that OpenSSL makes by default.
  const signature = sign('sha256', Buffer.from(input), {
    key: key.privateKey,
    ...(key.alg === 'ES256' ? { dsaEncoding: 'ieee-p1363' as const } : {}),
  });
  return `${input}.${signature.toString('base64url')}`;
}

/** The parts of a compact JWS, or undefined when it is not one (three base64url parts, JSON header and payload). */
export function decodeJwt(token: string): DecodedJwt | undefined {
  const parts = token.split('.');
  if (parts.length !== 3 || parts.some((p) => !/^[A-Za-z0-9_-]*$/.test(p))) return undefined;
  try {
    const header = JSON.parse(Buffer.from(parts[0], 'base64url').toString('utf8')) as unknown;
    const claims = JSON.parse(Buffer.from(parts[1], 'base64url').toString('utf8')) as unknown;
    if (!isObject(header) || typeof header.alg !== 'string' || !isObject(claims)) return undefined;
    return {
      header: header as unknown as JwtHeader,
      claims,
      signingInput: `${parts[0]}.${parts[1]}`,
      signature: Buffer.from(parts[2], 'base64url'),
    };
  } catch {
    return undefined;
  }
}

/**
 * Whether `jwt` is signed by `key`. The header's `alg` must be the key's own: a token cannot
 * choose a weaker algorithm (or `none`) than the key is for.
 */
export function verifyJwt(jwt: DecodedJwt, key: VerificationKey): boolean {
  if (jwt.header.alg !== key.alg) return false;
  if (key.alg === 'ES256' && jwt.signature.length !== 64) return false;
  return verify(
    'sha256',
    Buffer.from(jwt.signingInput),
    { key: key.publicKey, ...(key.alg === 'ES256' ? { dsaEncoding: 'ieee-p1363' as const } : {}) },
    jwt.signature,
  );
}

function encodePart(value: unknown): string {
  return Buffer.from(JSON.stringify(value)).toString('base64url');
}
