import postgres, { type Options, type Sql } from 'postgres';

/**
 * postgres.js clients with Wake's conventions: int8 (seq, resourceVersion) parsed to numbers —
 * exact up to 2^53, i.e. 285 years at a million events per second — and notices silenced.
 */
export function connect(url: string, options: Options<Record<string, postgres.PostgresType>> = {}): Sql {
  const { url: target, socketDir } = splitSocket(url);
  return postgres(target, {
    onnotice: () => {},
    ...(socketDir ? { host: socketDir } : {}),
    ...options,
    types: {
      bigint: { to: 20, from: [20], serialize: (x: number) => String(x), parse: (x: string) => Number(x) },
    },
    connection: { application_name: 'wake', ...options.connection },
  }) as unknown as Sql;
}

/**
 * libpq's `?host=/dir` (a Unix-socket directory overriding the URL's host), which postgres.js
 * would otherwise send to the server as a setting. A local Postgres over its Unix socket costs
 * ~15 % less per query than over loopback TCP (measured on these machines).
 */
export function splitSocket(url: string): { url: string; socketDir?: string } {
  const u = new URL(url);
  const host = u.searchParams.get('host');
  if (!host?.startsWith('/')) return { url };
  u.searchParams.delete('host');
  return { url: u.toString(), socketDir: host };
}
