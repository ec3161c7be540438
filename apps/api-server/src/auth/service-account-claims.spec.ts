import { describe, expect, it } from '@jest/globals';

import {
  acceptedAudiences,
  audiencesOf,
  DEFAULT_ISSUER,
  kubernetesClaimOf,
  serviceAccountActor,
  timeProblem,
  tokenClaims,
} from './service-account-claims.js';

const sa = { name: 'builder', uid: 'sa-uid' };
const now = 1_700_000_000;

describe('service-account token claims (claims.go)', () => {
  it('builds the public claims and the kubernetes.io claim of a pod-bound token', () => {
    const c = tokenClaims({
      issuer: DEFAULT_ISSUER,
      namespace: 'ci',
      serviceAccount: sa,
      bound: { pod: { name: 'job-1', uid: 'pod-uid' }, node: { name: 'n1', uid: 'node-uid' } },
      expirationSeconds: 600,
      audiences: ['https://kubernetes.default.svc.cluster.local'],
      nowSeconds: now + 0.7,
    });
    expect(c).toEqual({
      iss: DEFAULT_ISSUER,
      sub: 'system:serviceaccount:ci:builder',
      aud: ['https://kubernetes.default.svc.cluster.local'],
      iat: now,
      nbf: now,
      exp: now + 600,
      jti: expect.stringMatching(/^[0-9a-f-]{36}$/),
      'kubernetes.io': {
        namespace: 'ci',
        serviceaccount: sa,
        pod: { name: 'job-1', uid: 'pod-uid' },
        node: { name: 'n1', uid: 'node-uid' },
      },
    });
  });

  it('binds to a secret alone, or a node alone, and records warnafter only when asked', () => {
    const base = { issuer: 'i', namespace: 'ns', serviceAccount: sa, audiences: ['a'], nowSeconds: now };
    const secret = tokenClaims({
      ...base,
      bound: { secret: { name: 's', uid: 'u' } },
      expirationSeconds: 3600,
    });
    expect(secret['kubernetes.io']).toEqual({
      namespace: 'ns',
      serviceaccount: sa,
      secret: { name: 's', uid: 'u' },
    });
    const node = tokenClaims({ ...base, bound: { node: { name: 'n', uid: 'nu' } }, expirationSeconds: 3600 });
    expect(node['kubernetes.io']).toEqual({
      namespace: 'ns',
      serviceaccount: sa,
      node: { name: 'n', uid: 'nu' },
    });
    const extended = tokenClaims({ ...base, expirationSeconds: 31_536_000, warnAfterSeconds: 3607 });
    expect(extended['kubernetes.io'].warnafter).toBe(now + 3607);
    expect(extended.exp).toBe(now + 31_536_000);
    expect(tokenClaims({ ...base, expirationSeconds: 600 })['kubernetes.io']).not.toHaveProperty('warnafter');
    // Every token has its own id.
    expect(tokenClaims({ ...base, expirationSeconds: 600 }).jti).not.toBe(
      tokenClaims({ ...base, expirationSeconds: 600 }).jti,
    );
  });

  it('checks exp, nbf and iat with go-jose’s one-minute leeway', () => {
    const c = { exp: now, nbf: now - 600, iat: now - 600 };
    expect(timeProblem(c, now + 60)).toBeUndefined();
    expect(timeProblem(c, now + 61)).toBe('service account token has expired');
    expect(timeProblem({ nbf: now + 61 }, now)).toBe('service account token is not valid yet');
    expect(timeProblem({ nbf: now + 60 }, now)).toBeUndefined();
    expect(timeProblem({ iat: now + 61 }, now)).toBe('service account token is issued in the future');
  });

  it('accepts a token only for an audience the API server has; no audience means the server’s', () => {
    const api = ['https://kubernetes.default.svc.cluster.local', 'wake'];
    expect(acceptedAudiences(['vault', 'wake'], api)).toEqual(['wake']);
    expect(acceptedAudiences(['vault'], api)).toEqual([]);
    expect(acceptedAudiences([], api)).toEqual(api);
    expect(audiencesOf({ aud: 'wake' })).toEqual(['wake']);
    expect(audiencesOf({ aud: ['a', 3, 'b'] })).toEqual(['a', 'b']);
    expect(audiencesOf({})).toEqual([]);
  });

  it('reads only a well-formed kubernetes.io claim', () => {
    expect(kubernetesClaimOf({})).toBeUndefined();
    expect(kubernetesClaimOf({ 'kubernetes.io': { namespace: 'a' } })).toBeUndefined();
    expect(
      kubernetesClaimOf({ 'kubernetes.io': { namespace: 'a', serviceaccount: sa, pod: { name: 'p' } } }),
    ).toBeUndefined();
    expect(kubernetesClaimOf({ 'kubernetes.io': { namespace: 'a', serviceaccount: sa } })).toEqual({
      namespace: 'a',
      serviceaccount: sa,
    });
  });

  it('makes the user upstream’s ServiceAccountInfo.UserInfo makes', () => {
    const actor = serviceAccountActor(
      { namespace: 'ci', serviceaccount: sa, pod: { name: 'job-1', uid: 'pod-uid' } },
      'the-jti',
    );
    expect(actor).toEqual({
      user: 'system:serviceaccount:ci:builder',
      uid: 'sa-uid',
      groups: ['system:serviceaccounts', 'system:serviceaccounts:ci', 'system:authenticated'],
      credential: 'serviceaccount-jwt:JTI=the-jti',
      extra: {
        'authentication.kubernetes.io/pod-name': ['job-1'],
        'authentication.kubernetes.io/pod-uid': ['pod-uid'],
        'authentication.kubernetes.io/credential-id': ['JTI=the-jti'],
      },
    });
  });
});
