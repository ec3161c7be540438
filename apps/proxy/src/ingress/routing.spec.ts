import { describe, expect, it } from '@jest/globals';

import { type Ingress, type IngressBackend, type PathType } from './ingress-types.js';
import { hostMatches, pathMatches, requestHostName, requestPath } from './path-match.js';
import { RouteTable } from './route-table.js';

const svc = (name: string, port: number | string = 80): IngressBackend => ({
  service: { name, port: typeof port === 'number' ? { number: port } : { name: port } },
});

/** An Ingress with one rule per host given, each with the paths given. */
const ingress = (
  name: string,
  o: {
    host?: string;
    paths?: [PathType, string, string][];
    defaultBackend?: string;
    created?: string;
    namespace?: string;
  },
): Ingress => ({
  metadata: {
    name,
    namespace: o.namespace ?? 'ns',
    creationTimestamp: o.created ?? '2026-01-01T00:00:00Z',
  },
  spec: {
    defaultBackend: o.defaultBackend ? svc(o.defaultBackend) : undefined,
    rules: o.paths
      ? [
          {
            host: o.host,
            http: { paths: o.paths.map(([pathType, path, to]) => ({ pathType, path, backend: svc(to) })) },
          },
        ]
      : undefined,
  },
});
const to = (table: RouteTable, host: string, path: string) => table.route(host, path)?.backend.service?.name;

/** The "Examples" table of the Ingress docs (concepts/services-networking/ingress, path matching). */
describe('pathMatches: the Ingress docs examples, one path each', () => {
  it.each<[PathType, string, string, boolean]>([
    ['Prefix', '/', '/anything/at/all', true],
    ['Prefix', '/', '/', true],
    ['Exact', '/foo', '/foo', true],
    ['Exact', '/foo', '/bar', false],
    ['Exact', '/foo', '/foo/', false],
    ['Exact', '/foo/', '/foo', false],
    ['Prefix', '/foo', '/foo', true],
    ['Prefix', '/foo', '/foo/', true],
    ['Prefix', '/foo/', '/foo', true],
    ['Prefix', '/foo/', '/foo/', true],
    ['Prefix', '/aaa/bb', '/aaa/bbb', false],
    ['Prefix', '/aaa/bbb', '/aaa/bbb', true],
    ['Prefix', '/aaa/bbb/', '/aaa/bbb', true],
    ['Prefix', '/aaa/bbb', '/aaa/bbb/', true],
    ['Prefix', '/aaa/bbb', '/aaa/bbb/ccc', true],
    ['Prefix', '/aaa/bbb', '/aaa/bbbxyz', false],
    ['Prefix', '/foo', '/foobar', false],
    ['Prefix', '/aaa', '/ccc', false],
    ['ImplementationSpecific', '/foo', '/foo/bar', true],
    ['ImplementationSpecific', '/foo', '/foobar', false],
    ['Exact', '/Foo', '/foo', false],
  ])('%s %s vs %s → %s', (type, rule, path, want) => expect(pathMatches(type, rule, path)).toBe(want));
});

describe('RouteTable: the docs examples with several paths', () => {
  const table = (paths: [PathType, string, string][]) => new RouteTable([ingress('i', { paths })]);

  it('longest prefix wins: /, /aaa for /aaa/ccc → /aaa; /, /aaa, /aaa/bbb for /aaa/bbb → /aaa/bbb; /ccc → /', () => {
    const t = table([
      ['Prefix', '/', 'root'],
      ['Prefix', '/aaa', 'aaa'],
      ['Prefix', '/aaa/bbb', 'bbb'],
    ]);
    expect(to(t, 'x', '/aaa/ccc')).toBe('aaa');
    expect(to(t, 'x', '/aaa/bbb')).toBe('bbb');
    expect(to(t, 'x', '/ccc')).toBe('root');
  });

  it('Exact beats Prefix on the same path, whatever their order; the prefix takes the rest', () => {
    for (const t of [
      table([
        ['Prefix', '/foo', 'prefix'],
        ['Exact', '/foo', 'exact'],
      ]),
      table([
        ['Exact', '/foo', 'exact'],
        ['Prefix', '/foo', 'prefix'],
      ]),
    ]) {
      expect(to(t, 'x', '/foo')).toBe('exact');
      expect(to(t, 'x', '/foo/')).toBe('prefix');
      expect(to(t, 'x', '/foo/bar')).toBe('prefix');
    }
  });

  it('a longer Exact beats a shorter Prefix, a longer Prefix beats a shorter Exact', () => {
    const t = table([
      ['Exact', '/a', 'exact-a'],
      ['Prefix', '/a/b', 'prefix-ab'],
      ['Prefix', '/', 'root'],
      ['Exact', '/a/b/c', 'exact-abc'],
    ]);
    expect(to(t, 'x', '/a')).toBe('exact-a');
    expect(to(t, 'x', '/a/b/c')).toBe('exact-abc');
    expect(to(t, 'x', '/a/b/c/d')).toBe('prefix-ab');
    expect(to(t, 'x', '/a/c')).toBe('root');
  });

  it('no match and no default backend: nowhere (the caller answers 404)', () => {
    expect(table([['Prefix', '/aaa', 'aaa']]).route('x', '/ccc')).toBeUndefined();
  });
});

describe('hosts', () => {
  it.each([
    ['foo.bar.com', 'foo.bar.com', true],
    ['foo.bar.com', 'FOO.bar.com', true],
    ['foo.bar.com', 'bar.com', false],
    ['*.foo.com', 'bar.foo.com', true],
    ['*.foo.com', 'baz.bar.foo.com', false],
    ['*.foo.com', 'foo.com', false],
    ['*.foo.com', '.foo.com', false],
  ])('rule %s, request %s → %s', (rule, host, want) => expect(hostMatches(rule, host)).toBe(want));

  it.each([
    ['foo.com:8080', 'foo.com'],
    ['Foo.COM', 'foo.com'],
    ['[::1]:80', '::1'],
    ['::1', '::1'],
    [undefined, ''],
  ])('Host header %s names %s', (header, want) => expect(requestHostName(header)).toBe(want));

  it.each([
    ['/a/b?x=1', '/a/b'],
    ['/a#f', '/a'],
    ['http://foo.com/p?q', '/p'],
    ['*', '/'],
  ])('request target %s has path %s', (url, want) => expect(requestPath(url)).toBe(want));

  it('an exact host before a wildcard before rules without host; a host group does not fall through', () => {
    const t = new RouteTable([
      ingress('exact', { host: 'a.foo.com', paths: [['Prefix', '/only', 'exact']] }),
      ingress('wild', { host: '*.foo.com', paths: [['Prefix', '/', 'wild']] }),
      ingress('any', { paths: [['Prefix', '/', 'any']] }),
    ]);
    expect(to(t, 'a.foo.com', '/only/x')).toBe('exact');
    expect(to(t, 'a.foo.com', '/other')).toBeUndefined();
    expect(to(t, 'b.foo.com', '/other')).toBe('wild');
    expect(to(t, 'x.b.foo.com', '/other')).toBe('any');
    expect(to(t, 'elsewhere', '/')).toBe('any');
  });
});

describe('default backends and merging', () => {
  it('an unmatched request goes to its host Ingress’s default backend, else the oldest Ingress’s', () => {
    const t = new RouteTable([
      ingress('newer', { defaultBackend: 'newer-default', created: '2026-01-02T00:00:00Z' }),
      ingress('a', { host: 'a.com', paths: [['Exact', '/x', 'x']], defaultBackend: 'a-default' }),
      ingress('b', { host: 'b.com', paths: [['Exact', '/x', 'x']] }),
    ]);
    expect(to(t, 'a.com', '/x')).toBe('x');
    expect(to(t, 'a.com', '/y')).toBe('a-default');
    // b.com's Ingress has none: the oldest Ingress's (created first, then by name) is used.
    expect(to(t, 'b.com', '/y')).toBe('a-default');
    expect(to(t, 'nohost.com', '/y')).toBe('a-default');
    expect(new RouteTable([ingress('only', { defaultBackend: 'd' })]).route('h', '/p')).toEqual({
      namespace: 'ns',
      ingress: 'ns/only',
      backend: svc('d'),
    });
  });

  it('rules of several Ingresses for one host merge; the same path twice goes to the oldest Ingress', () => {
    const t = new RouteTable([
      ingress('second', {
        host: 'h',
        paths: [['Prefix', '/api', 'second']],
        created: '2026-01-02T00:00:00Z',
      }),
      ingress('first', { host: 'h', paths: [['Prefix', '/api', 'first']], created: '2026-01-01T00:00:00Z' }),
      ingress('web', { host: 'h', paths: [['Prefix', '/web', 'web']], namespace: 'other' }),
    ]);
    expect(to(t, 'h', '/api')).toBe('first');
    expect(t.route('h', '/web/x')).toMatchObject({ namespace: 'other', ingress: 'other/web' });
  });

  it('a path without pathType or path is a Prefix of /', () => {
    const ing = ingress('i', {});
    ing.spec!.rules = [{ http: { paths: [{ backend: svc('s') }] } }];
    expect(to(new RouteTable([ing]), 'h', '/any/thing')).toBe('s');
  });
});
