import { describe, expect, it } from '@jest/globals';

import { StatusError } from '@app/api';

import { impersonate } from './impersonation.js';
import { type RequestAttributes } from './policy-rules.js';

const admin = { user: 'admin', groups: ['system:masters', 'system:authenticated'] };
const allowAll = () => ({ allowed: true, reason: '' });

/** Records what `impersonate` was asked, allowing what `allowed` says. */
function recorder(allowed: (a: RequestAttributes) => boolean = () => true) {
  const asked: RequestAttributes[] = [];
  return {
    asked,
    authorize: (a: RequestAttributes) => {
      asked.push(a);
      return { allowed: allowed(a), reason: '' };
    },
  };
}

describe('impersonate', () => {
  it('is nothing without impersonation headers', () => {
    expect(impersonate(admin, ['Authorization', 'Bearer x', 'Accept', '*/*'], allowAll)).toBeUndefined();
  });

  it('acts as a user with the groups asked for (each header on its own), plus system:authenticated', () => {
    const r = recorder();
    const acting = impersonate(
      admin,
      [
        'Impersonate-User',
        'jane',
        'Impersonate-Group',
        'devs',
        'Impersonate-Group',
        'a,b',
        'Impersonate-Uid',
        '42',
      ],
      r.authorize,
    );
    expect(acting).toEqual({
      user: 'jane',
      uid: '42',
      groups: ['devs', 'a,b', 'system:authenticated'],
      impersonator: { user: 'admin', groups: admin.groups },
    });
    expect(r.asked.map((a) => (a.resourceRequest ? [a.verb, a.apiGroup, a.resource, a.name] : []))).toEqual([
      ['impersonate', '', 'users', 'jane'],
      ['impersonate', '', 'groups', 'devs'],
      ['impersonate', '', 'groups', 'a,b'],
      ['impersonate', 'authentication.k8s.io', 'uids', '42'],
    ]);
  });

  it('gives a service account its fixed groups, asking impersonate on serviceaccounts in its namespace', () => {
    const r = recorder();
    expect(
      impersonate(admin, ['impersonate-user', 'system:serviceaccount:team:app'], r.authorize),
    ).toMatchObject({
      user: 'system:serviceaccount:team:app',
      groups: ['system:serviceaccounts', 'system:serviceaccounts:team', 'system:authenticated'],
    });
    expect(r.asked[0]).toMatchObject({ resource: 'serviceaccounts', namespace: 'team', name: 'app' });
    // Not a valid service-account name: a user of that name.
    expect(
      impersonate(admin, ['impersonate-user', 'system:serviceaccount:Team:app'], allowAll)?.groups,
    ).toEqual(['system:authenticated']);
  });

  it('keeps system:unauthenticated as asked, and gives it to system:anonymous', () => {
    expect(
      impersonate(admin, ['impersonate-user', 'x', 'impersonate-group', 'system:unauthenticated'], allowAll)
        ?.groups,
    ).toEqual(['system:unauthenticated']);
    expect(impersonate(admin, ['impersonate-user', 'system:anonymous'], allowAll)?.groups).toEqual([
      'system:unauthenticated',
    ]);
  });

  it('asks impersonate on userextras/<key> for each extra value, the key percent-decoded', () => {
    const r = recorder();
    const acting = impersonate(
      admin,
      [
        'impersonate-user',
        'jane',
        'Impersonate-Extra-Scopes%2Fone',
        'a',
        'Impersonate-Extra-Scopes%2Fone',
        'b',
      ],
      r.authorize,
    );
    expect(acting?.extra).toEqual({ 'scopes/one': ['a', 'b'] });
    expect(r.asked.slice(1)).toEqual([
      expect.objectContaining({
        apiGroup: 'authentication.k8s.io',
        resource: 'userextras',
        subresource: 'scopes/one',
        name: 'a',
      }),
      expect.objectContaining({ resource: 'userextras', subresource: 'scopes/one', name: 'b' }),
    ]);
  });

  it('refuses what the requester may not impersonate, in upstream’s Forbidden words', () => {
    const bob = { user: 'bob', groups: ['system:authenticated'] };
    const onlyUsers = recorder((a) => a.resourceRequest && a.resource === 'users');
    let thrown: unknown;
    try {
      impersonate(
        bob,
        ['impersonate-user', 'jane', 'impersonate-group', 'system:masters'],
        onlyUsers.authorize,
      );
    } catch (e) {
      thrown = e;
    }
    expect(thrown).toBeInstanceOf(StatusError);
    expect((thrown as StatusError).code).toBe(403);
    expect((thrown as StatusError).message).toBe(
      'groups "system:masters" is forbidden: User "bob" cannot impersonate resource "groups" in API group "" at the cluster scope',
    );
  });

  it('refuses groups, extras or a uid without a user', () => {
    expect(() => impersonate(admin, ['impersonate-group', 'devs'], allowAll)).toThrow(
      'requested Group "devs" without impersonating a user',
    );
  });
});
