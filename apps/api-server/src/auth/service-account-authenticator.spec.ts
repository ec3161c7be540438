import { generateKeyPairSync } from 'node:crypto';

import { describe, expect, it } from '@jest/globals';

import { keyIdOf, type SigningKey, signJwt } from './jwt.js';
import { type LiveKind, type LiveObject, type LiveObjectGetter } from './live-objects.js';
import { DEFAULT_ISSUER, tokenClaims } from './service-account-claims.js';
import { isRefusal, ServiceAccountAuthenticator } from './service-account-authenticator.js';

function newKey(): SigningKey {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
  return { alg: 'ES256', kid: keyIdOf(publicKey), privateKey, publicKey };
}

const key = newKey();
const NOW = 1_700_000_000;

/** The objects the authenticator may find, by `kind/namespace/name` (pure logic under test). */
class FakeObjects implements LiveObjectGetter {
  readonly objects = new Map<string, LiveObject>([
    ['serviceaccounts/ci/builder', { uid: 'sa-uid' }],
    ['pods/ci/job-1', { uid: 'pod-uid' }],
  ]);
  async get(kind: LiveKind, namespace: string, name: string): Promise<LiveObject | undefined> {
    return this.objects.get(`${kind}/${namespace}/${name}`);
  }
}

function authenticator(objects = new FakeObjects(), now = NOW) {
  return new ServiceAccountAuthenticator({
    keys: [key],
    issuers: [DEFAULT_ISSUER],
    audiences: [DEFAULT_ISSUER],
    lookup: objects,
    now: () => now,
  });
}

function token(o: Partial<Parameters<typeof tokenClaims>[0]> = {}, signer = key): string {
  return signJwt(
    {
      ...tokenClaims({
        issuer: DEFAULT_ISSUER,
        namespace: 'ci',
        serviceAccount: { name: 'builder', uid: 'sa-uid' },
        bound: { pod: { name: 'job-1', uid: 'pod-uid' } },
        expirationSeconds: 600,
        audiences: [DEFAULT_ISSUER],
        nowSeconds: NOW,
        ...o,
      }),
    },
    signer,
  );
}

async function refusal(p: ReturnType<ServiceAccountAuthenticator['authenticate']>): Promise<string> {
  const r = await p;
  if (!isRefusal(r)) throw new Error(`expected a refusal, got ${JSON.stringify(r)}`);
  return r.refused;
}

describe('ServiceAccountAuthenticator (jwt.go, claims.go Validate)', () => {
  it('accepts a live account’s pod-bound token as the account, with the pod as extras', async () => {
    const actor = await authenticator().authenticate(token());
    expect(actor).toMatchObject({
      user: 'system:serviceaccount:ci:builder',
      uid: 'sa-uid',
      groups: ['system:serviceaccounts', 'system:serviceaccounts:ci', 'system:authenticated'],
      extra: {
        'authentication.kubernetes.io/pod-name': ['job-1'],
        'authentication.kubernetes.io/pod-uid': ['pod-uid'],
      },
    });
  });

  it('leaves JWTs of other issuers, and non-JWTs, to other authenticators', async () => {
    expect(
      await authenticator().authenticate(token({ issuer: 'https://accounts.example.com' })),
    ).toBeUndefined();
    expect(await authenticator().authenticate('static-token')).toBeUndefined();
  });

  it('refuses a token signed by another key, or changed after signing', async () => {
    expect(await refusal(authenticator().authenticate(token({}, newKey())))).toBe(
      'no known key signed the token',
    );
    const parts = token().split('.');
    const claims = JSON.parse(Buffer.from(parts[1], 'base64url').toString()) as Record<string, unknown>;
    claims.sub = 'system:serviceaccount:kube-system:admin';
    const forged = `${parts[0]}.${Buffer.from(JSON.stringify(claims)).toString('base64url')}.${parts[2]}`;
    expect(await refusal(authenticator().authenticate(forged))).toBe('no known key signed the token');
  });

  it('refuses a token for another audience', async () => {
    expect(await refusal(authenticator().authenticate(token({ audiences: ['vault'] })))).toMatch(
      /audiences \["vault"\]/,
    );
  });

  it('refuses expired and not-yet-valid tokens beyond the leeway', async () => {
    expect(await refusal(authenticator(undefined, NOW + 661).authenticate(token()))).toBe(
      'service account token has expired',
    );
    expect(await authenticator(undefined, NOW + 660).authenticate(token())).toMatchObject({ uid: 'sa-uid' });
    expect(await refusal(authenticator(undefined, NOW - 61).authenticate(token()))).toBe(
      'service account token is not valid yet',
    );
  });

  it('refuses tokens of a deleted or recreated account, and of a deleted pod', async () => {
    const gone = new FakeObjects();
    gone.objects.delete('serviceaccounts/ci/builder');
    expect(await refusal(authenticator(gone).authenticate(token()))).toMatch(
      /serviceaccounts ci\/builder not found/,
    );

    const recreated = new FakeObjects();
    recreated.objects.set('serviceaccounts/ci/builder', { uid: 'new-uid' });
    expect(await refusal(authenticator(recreated).authenticate(token()))).toMatch(
      /does not match claim \(sa-uid\)/,
    );

    const podGone = new FakeObjects();
    podGone.objects.delete('pods/ci/job-1');
    expect(await refusal(authenticator(podGone).authenticate(token()))).toMatch(/pods ci\/job-1 not found/);
  });

  it('keeps accepting a terminating pod’s token until a minute past its deletion time', async () => {
    const terminating = new FakeObjects();
    terminating.objects.set('pods/ci/job-1', {
      uid: 'pod-uid',
      deletionTimestamp: new Date((NOW - 30) * 1000).toISOString(),
    });
    expect(await authenticator(terminating).authenticate(token())).toMatchObject({ uid: 'sa-uid' });
    terminating.objects.set('pods/ci/job-1', {
      uid: 'pod-uid',
      deletionTimestamp: new Date((NOW - 61) * 1000).toISOString(),
    });
    expect(await refusal(authenticator(terminating).authenticate(token()))).toMatch(/has been deleted/);
  });

  it('checks a secret-bound token’s secret', async () => {
    const t = token({ bound: { secret: { name: 'tok', uid: 'secret-uid' } } });
    expect(await refusal(authenticator().authenticate(t))).toMatch(/secrets ci\/tok not found/);
    const withSecret = new FakeObjects();
    withSecret.objects.set('secrets/ci/tok', { uid: 'secret-uid' });
    expect(await authenticator(withSecret).authenticate(t)).toMatchObject({ uid: 'sa-uid' });
  });
});
