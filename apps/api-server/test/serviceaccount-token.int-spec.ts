import { createPrivateKey, createPublicKey, generateKeyPairSync } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';

import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { waitFor } from '@app/dev-servers';
import { type ApiCluster, startApiCluster } from '@app/testing/api-cluster.js';

import { algorithmOf, decodeJwt, keyIdOf, type SigningKey, signJwt } from '../src/auth/jwt.js';
import { DEFAULT_ISSUER, tokenClaims } from '../src/auth/service-account-claims.js';
import { ClusterConnections } from '../src/cluster-connections.js';

type Obj = { metadata: { name: string; uid: string; resourceVersion: string }; [k: string]: unknown };
type TokenRequestReply = {
  kind: string;
  apiVersion: string;
  metadata: Record<string, unknown>;
  spec: { audiences: string[]; expirationSeconds: number; boundObjectRef: unknown };
  status: { token: string; expirationTimestamp: string };
};
type Status = { kind: string; code: number; reason: string; message: string };

/**
 * TokenRequest and service-account token authentication on a real API server, Postgres and
 * nats-server, driven by the real kubectl: `kubectl create token` (JSON bodies from 1.29,
 * protobuf from 1.33), tokens that authenticate as their service account, and the tokens
 * that must not (expired, foreign-signed, of a deleted account or pod) refused with 401.
 */
describe('service account tokens', () => {
  let c: ApiCluster;
  const ns = 'default';

  beforeAll(async () => {
    // Lookups cached briefly, so revocations show within the test's polling.
    c = await startApiCluster({ serviceAccountLookupCacheMs: 100 });
    await waitFor('the default service account', async () =>
      (await c.api('GET', `/api/v1/namespaces/${ns}/serviceaccounts/default`)).status === 200
        ? true
        : undefined,
    );
    // RBAC grants a service account nothing by itself: the namespace's accounts may edit it.
    const bound = await c.api('POST', `/apis/rbac.authorization.k8s.io/v1/namespaces/${ns}/rolebindings`, {
      metadata: { name: 'service-accounts-edit' },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'edit' },
      subjects: [
        { kind: 'Group', apiGroup: 'rbac.authorization.k8s.io', name: `system:serviceaccounts:${ns}` },
      ],
    });
    expect(bound.status).toBe(201);
  });

  afterAll(async () => {
    await c?.close();
  });

  /** Lets the authenticator's cached lookups (100 ms here) expire, so the next check reads the store. */
  const pastLookupCache = () => new Promise((r) => setTimeout(r, 300));

  /** One GET with only `token` as the credential. */
  async function getWith(token: string, path = `/api/v1/namespaces/${ns}/services/kubernetes`) {
    return c.api<Obj & Status>('GET', path, undefined, { authorization: `Bearer ${token}` });
  }

  async function createPod(name: string, serviceAccountName = 'default'): Promise<Obj> {
    const r = await c.api<Obj>('POST', `/api/v1/namespaces/${ns}/pods`, {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name },
      spec: { serviceAccountName, containers: [{ name: 'c', image: 'busybox' }] },
    });
    expect(r.status).toBe(201);
    return r.body;
  }

  async function requestToken(sa: string, spec: Record<string, unknown> = {}) {
    return c.api<TokenRequestReply & Status>('POST', `/api/v1/namespaces/${ns}/serviceaccounts/${sa}/token`, {
      apiVersion: 'authentication.k8s.io/v1',
      kind: 'TokenRequest',
      spec,
    });
  }

  /** The server's own signing key, from its data directory, to make tokens it would not issue. */
  async function serverKey(): Promise<SigningKey> {
    const privateKey = createPrivateKey(await readFile(join(c.dir, 'pki', 'sa.key'), 'utf8'));
    const publicKey = createPublicKey(privateKey);
    return { alg: algorithmOf(privateKey), kid: keyIdOf(publicKey), privateKey, publicKey };
  }

  it('creates a default ServiceAccount in every namespace, also in one created later, and again when deleted', async () => {
    for (const existing of ['default', 'kube-system', 'kube-public'])
      expect((await c.api('GET', `/api/v1/namespaces/${existing}/serviceaccounts/default`)).status).toBe(200);
    await c.api('POST', '/api/v1/namespaces', { metadata: { name: 'later' } });
    await waitFor('default in the new namespace', async () =>
      (await c.api('GET', '/api/v1/namespaces/later/serviceaccounts/default')).status === 200
        ? true
        : undefined,
    );
    const first = (await c.api<Obj>('GET', '/api/v1/namespaces/later/serviceaccounts/default')).body;
    expect((await c.api('DELETE', '/api/v1/namespaces/later/serviceaccounts/default')).status).toBe(200);
    const again = await waitFor('default made again', async () => {
      const r = await c.api<Obj>('GET', '/api/v1/namespaces/later/serviceaccounts/default');
      return r.status === 200 ? r.body : undefined;
    });
    expect(again.metadata.uid).not.toBe(first.metadata.uid);
  });

  it('serves serviceaccounts/token in discovery as authentication.k8s.io/v1 TokenRequest', async () => {
    const list = await c.api<{ resources: Record<string, unknown>[] }>('GET', '/api/v1');
    expect(list.body.resources.find((r) => r.name === 'serviceaccounts/token')).toEqual({
      name: 'serviceaccounts/token',
      singularName: '',
      namespaced: true,
      group: 'authentication.k8s.io',
      version: 'v1',
      kind: 'TokenRequest',
      verbs: ['create'],
    });
  });

  it.each([29, 33])(
    'kubectl 1.%i create token: a pod-bound token that authenticates as the service account',
    async (minor) => {
      const pod = await createPod(`bound-${minor}`);
      const sa = (await c.api<Obj>('GET', `/api/v1/namespaces/${ns}/serviceaccounts/default`)).body;
      const store = c.server.app.get(ClusterConnections).store;
      const before = (await store.head()).seq;
      const created = await c.kubectl(minor, [
        'create',
        'token',
        'default',
        '--duration',
        '10m',
        '--bound-object-kind',
        'Pod',
        '--bound-object-name',
        pod.metadata.name,
      ]);
      expect(created.stderr).toBe('');
      expect(created.code).toBe(0);
      const token = created.stdout.trim();
      // A TokenRequest is not stored: the log has not moved.
      expect((await store.head()).seq).toBe(before);

      const jwt = decodeJwt(token);
      expect(jwt?.header).toEqual({ alg: 'ES256', kid: (await serverKey()).kid });
      const claims = jwt!.claims;
      expect(claims).toMatchObject({
        iss: DEFAULT_ISSUER,
        sub: 'system:serviceaccount:default:default',
        aud: [DEFAULT_ISSUER],
        'kubernetes.io': {
          namespace: 'default',
          serviceaccount: { name: 'default', uid: sa.metadata.uid },
          pod: { name: pod.metadata.name, uid: pod.metadata.uid },
        },
      });
      expect(claims.exp).toBe((claims.iat as number) + 600);
      expect(claims.nbf).toBe(claims.iat);

      // The real kubectl with only this token reads the API.
      const got = await c.kubectl(minor, ['--token', token, 'get', 'service', 'kubernetes', '-o', 'name']);
      expect(got.stdout.trim()).toBe('service/kubernetes');

      // A write with it is recorded as the service account, bound to the pod; never the token.
      const write = await c.api<Obj>(
        'POST',
        `/api/v1/namespaces/${ns}/configmaps`,
        { metadata: { name: `written-by-sa-${minor}` } },
        { authorization: `Bearer ${token}` },
      );
      expect(write.status).toBe(201);
      const event = await store.events.at(Number(write.body.metadata.resourceVersion));
      expect(event?.actor).toEqual({
        user: 'system:serviceaccount:default:default',
        uid: sa.metadata.uid,
        groups: ['system:serviceaccounts', 'system:serviceaccounts:default', 'system:authenticated'],
        credential: `serviceaccount-jwt:JTI=${String(claims.jti)}`,
        extra: {
          'authentication.kubernetes.io/pod-name': [pod.metadata.name],
          'authentication.kubernetes.io/pod-uid': [pod.metadata.uid],
          'authentication.kubernetes.io/credential-id': [`JTI=${String(claims.jti)}`],
        },
        authorizedBy: `RBAC: allowed by RoleBinding "service-accounts-edit/${ns}" of ClusterRole "edit" to Group "system:serviceaccounts:${ns}"`,
      });
      const everything = JSON.stringify(await store.events.after(0, 100_000));
      expect(everything).not.toContain(token);
      expect(everything).not.toContain(token.split('.')[2]);
    },
  );

  it('refuses what upstream refuses: a missing account 404, under 10 minutes 422, a wrong bound object', async () => {
    const missing = await c.kubectl(33, ['create', 'token', 'nobody']);
    expect(missing.code).not.toBe(0);
    expect(missing.stderr).toContain('serviceaccounts "nobody" not found');

    const short = await c.kubectl(33, ['create', 'token', 'default', '--duration', '1m']);
    expect(short.code).not.toBe(0);
    expect(short.stderr).toContain(
      'spec.expirationSeconds: Invalid value: 60: may not specify a duration less than 10 minutes',
    );
    const shortApi = await requestToken('default', { expirationSeconds: 599 });
    expect(shortApi.status).toBe(422);
    expect(shortApi.body).toMatchObject({ kind: 'Status', reason: 'Invalid', code: 422 });

    const pod = await createPod('checked');
    const wrongUid = await requestToken('default', {
      boundObjectRef: { kind: 'Pod', apiVersion: 'v1', name: 'checked', uid: 'not-the-uid' },
    });
    expect(wrongUid.status).toBe(409);
    expect(wrongUid.body.message).toContain('does not match the UID in record');
    const noPod = await requestToken('default', {
      boundObjectRef: { kind: 'Pod', apiVersion: 'v1', name: 'ghost' },
    });
    expect(noPod.status).toBe(404);
    await c.api('POST', `/api/v1/namespaces/${ns}/serviceaccounts`, { metadata: { name: 'other' } });
    const otherSa = await requestToken('other', {
      boundObjectRef: { kind: 'Pod', apiVersion: 'v1', name: 'checked', uid: pod.metadata.uid },
    });
    expect(otherSa.status).toBe(400);
    expect(otherSa.body.message).toContain('to pod running with different serviceaccount name');
    const configMap = await requestToken('default', {
      boundObjectRef: { kind: 'ConfigMap', apiVersion: 'v1', name: 'x' },
    });
    expect(configMap.status).toBe(400);
    expect(configMap.body.message).toBe('cannot bind token to object of type /v1, Kind=ConfigMap');
  });

  it('defaults to an hour for the API audience, and extends the kubelet’s 3607 s pod tokens', async () => {
    const plain = await requestToken('default');
    expect(plain.status).toBe(201);
    expect(plain.body).toMatchObject({
      kind: 'TokenRequest',
      apiVersion: 'authentication.k8s.io/v1',
      metadata: { name: 'default', namespace: 'default' },
      spec: { audiences: [DEFAULT_ISSUER], expirationSeconds: 3600, boundObjectRef: null },
    });
    const claims = decodeJwt(plain.body.status.token)!.claims;
    expect((claims.exp as number) - (claims.iat as number)).toBe(3600);
    expect(Date.parse(plain.body.status.expirationTimestamp) / 1000).toBe(claims.exp);

    const pod = await createPod('kubelet-style');
    const projected = await requestToken('default', {
      expirationSeconds: 3607,
      boundObjectRef: { kind: 'Pod', apiVersion: 'v1', name: pod.metadata.name, uid: pod.metadata.uid },
    });
    expect(projected.status).toBe(201);
    const p = decodeJwt(projected.body.status.token)!.claims;
    const k8s = p['kubernetes.io'] as { warnafter: number };
    expect((p.exp as number) - (p.iat as number)).toBe(365 * 24 * 3600);
    expect(k8s.warnafter).toBe((p.iat as number) + 3607);
    // The reply states the lifetime asked for: the kubelet refreshes by it.
    expect(Date.parse(projected.body.status.expirationTimestamp) / 1000).toBe((p.iat as number) + 3607);

    // Another audience: valid for it, and so not for the API server.
    const vault = await requestToken('default', { audiences: ['vault'] });
    expect(decodeJwt(vault.body.status.token)!.claims.aud).toEqual(['vault']);
    expect((await getWith(vault.body.status.token)).status).toBe(401);
  });

  it('refuses expired and foreign-signed tokens with a 401 Status', async () => {
    const sa = (await c.api<Obj>('GET', `/api/v1/namespaces/${ns}/serviceaccounts/default`)).body;
    const claims = (nowSeconds: number) =>
      tokenClaims({
        issuer: DEFAULT_ISSUER,
        namespace: ns,
        serviceAccount: { name: 'default', uid: sa.metadata.uid },
        expirationSeconds: 600,
        audiences: [DEFAULT_ISSUER],
        nowSeconds,
      });
    const key = await serverKey();
    const now = Date.now() / 1000;
    // Signed by the server's key and current: accepted, so what follows fails for its one flaw.
    expect((await getWith(signJwt({ ...claims(now) }, key))).status).toBe(200);

    const expired = await getWith(signJwt({ ...claims(now - 3600) }, key));
    expect(expired.status).toBe(401);
    expect(expired.body).toEqual({
      kind: 'Status',
      apiVersion: 'v1',
      metadata: {},
      status: 'Failure',
      message: 'Unauthorized',
      reason: 'Unauthorized',
      code: 401,
    });

    const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
    // Even claiming the server's key id.
    const foreign = signJwt({ ...claims(now) }, { alg: 'ES256', kid: key.kid, privateKey, publicKey });
    expect((await getWith(foreign)).status).toBe(401);
    const bad = await c.kubectl(33, ['--token', foreign, 'get', 'service', 'kubernetes']);
    expect(bad.code).not.toBe(0);
    expect(bad.stderr).toContain('Unauthorized');
  });

  it('revokes a token when its service account is deleted, and a recreated account does not revive it', async () => {
    await c.api('POST', `/api/v1/namespaces/${ns}/serviceaccounts`, { metadata: { name: 'temp' } });
    const { stdout } = await c.kubectl(33, ['create', 'token', 'temp']);
    const token = stdout.trim();
    expect((await getWith(token)).status).toBe(200);
    await c.api('DELETE', `/api/v1/namespaces/${ns}/serviceaccounts/temp`);
    await waitFor('the deleted account’s token to be refused', async () =>
      (await getWith(token)).status === 401 ? true : undefined,
    );
    await c.api('POST', `/api/v1/namespaces/${ns}/serviceaccounts`, { metadata: { name: 'temp' } });
    // Past the lookup cache: the new account is seen, and its uid is not the token's.
    const fresh = (await c.kubectl(33, ['create', 'token', 'temp'])).stdout.trim();
    await waitFor('the recreated account’s own token to work', async () =>
      (await getWith(fresh)).status === 200 ? true : undefined,
    );
    expect((await getWith(token)).status).toBe(401);
  });

  it('keeps a terminating pod’s token within its grace, and revokes it when the pod is gone', async () => {
    const pod = await createPod('short-lived');
    const { stdout } = await c.kubectl(33, [
      'create',
      'token',
      'default',
      '--bound-object-kind',
      'Pod',
      '--bound-object-name',
      'short-lived',
      '--bound-object-uid',
      pod.metadata.uid,
    ]);
    const token = stdout.trim();
    expect((await getWith(token)).status).toBe(200);
    // Bound to a node, a pod's delete is graceful: deletionTimestamp in the future, the pod
    // still there, the token still good.
    const bound = await c.api('POST', `/api/v1/namespaces/${ns}/pods/short-lived/binding`, {
      apiVersion: 'v1',
      kind: 'Binding',
      metadata: { name: 'short-lived' },
      target: { kind: 'Node', name: 'node-1' },
    });
    expect(bound.status).toBe(201);
    const terminating = await c.api<Obj>('DELETE', `/api/v1/namespaces/${ns}/pods/short-lived`, {
      gracePeriodSeconds: 30,
    });
    expect(terminating.body.metadata).toHaveProperty('deletionTimestamp');
    await pastLookupCache();
    expect((await getWith(token)).status).toBe(200);
    await c.api('DELETE', `/api/v1/namespaces/${ns}/pods/short-lived`, { gracePeriodSeconds: 0 });
    await waitFor('the deleted pod’s token to be refused', async () =>
      (await getWith(token)).status === 401 ? true : undefined,
    );
    // A new pod of the same name is another pod: the token stays refused.
    await createPod('short-lived');
    await pastLookupCache();
    expect((await getWith(token)).status).toBe(401);
  });
});
