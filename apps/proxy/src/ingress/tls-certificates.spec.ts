import { describe, expect, it } from '@jest/globals';

import { type Ingress } from './ingress-types.js';
import { CertificateStore, tlsSecretsByHost } from './tls-certificates.js';

const ing = (
  name: string,
  created: string,
  tls: { hosts?: string[]; secretName?: string }[],
  hosts: string[] = [],
) =>
  ({
    metadata: { name, namespace: 'ns', creationTimestamp: created },
    spec: { tls, rules: hosts.map((host) => ({ host })) },
  }) as Ingress;

describe('tlsSecretsByHost', () => {
  it('maps each TLS host to its Secret; an entry without hosts covers the rules’ hosts; the oldest claim wins', () => {
    const m = tlsSecretsByHost([
      ing('newer', '2026-01-02T00:00:00Z', [{ hosts: ['A.example.com'], secretName: 'newer' }]),
      ing('older', '2026-01-01T00:00:00Z', [
        { hosts: ['a.example.com', '*.wild.example.com'], secretName: 'older' },
      ]),
      ing(
        'implicit',
        '2026-01-03T00:00:00Z',
        [{ secretName: 'implicit' }],
        ['b.example.com', 'c.example.com'],
      ),
      ing('nosecret', '2026-01-03T00:00:00Z', [{ hosts: ['d.example.com'] }]),
    ]);
    expect(Object.fromEntries(m)).toEqual({
      'a.example.com': 'ns/older',
      '*.wild.example.com': 'ns/older',
      'b.example.com': 'ns/implicit',
      'c.example.com': 'ns/implicit',
    });
  });
});

describe('CertificateStore', () => {
  it('leaves hosts whose Secret is missing, incomplete or unreadable without a certificate, and says why', async () => {
    const troubles: string[] = [];
    const store = new CertificateStore({
      fetch: (_ns, name) => {
        if (name === 'gone') return Promise.resolve(undefined);
        if (name === 'broken') return Promise.reject(new Error('forbidden'));
        return Promise.resolve({ metadata: { name }, type: 'Opaque', data: { other: 'eA==' } });
      },
      wanted: () =>
        new Map([
          ['a.example.com', 'ns/gone'],
          ['b.example.com', 'ns/broken'],
          ['c.example.com', 'ns/opaque'],
        ]),
      onTrouble: (e) => troubles.push(e.message),
    });
    await store.reload();
    expect(store.contextFor('a.example.com')).toBeUndefined();
    expect(store.contextFor('c.example.com')).toBeUndefined();
    expect(troubles.sort()).toEqual([
      'TLS Secret ns/broken: forbidden',
      'TLS Secret ns/gone: not found',
      'TLS Secret ns/opaque: has no tls.crt and tls.key (type Opaque)',
    ]);
  });

  it('reads Secrets again on a claim change only: the same hosts and Secrets read nothing', async () => {
    const fetched: string[] = [];
    let wanted = new Map([['a.example.com', 'ns/one']]);
    const store = new CertificateStore({
      fetch: (_ns, name) => {
        fetched.push(name);
        return Promise.resolve(undefined);
      },
      wanted: () => wanted,
      onTrouble: () => undefined,
    });
    await store.reload();
    expect(fetched).toEqual(['one']);
    wanted = new Map([['a.example.com', 'ns/one']]);
    await store.reloadIfClaimsChanged();
    expect(fetched).toEqual(['one']);
    wanted = new Map([['a.example.com', 'ns/two']]);
    await store.reloadIfClaimsChanged();
    expect(fetched).toEqual(['one', 'two']);
    wanted = new Map([
      ['a.example.com', 'ns/two'],
      ['b.example.com', 'ns/two'],
    ]);
    await store.reloadIfClaimsChanged();
    expect(fetched).toEqual(['one', 'two', 'two']);
    // A resync reads them whatever the claims: a Secret's content may have changed.
    await store.reload();
    expect(fetched).toEqual(['one', 'two', 'two', 'two']);
  });
});
