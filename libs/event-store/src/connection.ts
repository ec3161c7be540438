import postgres, { type Options, type Sql } from 'postgres';

/**
 * postgres.js clients with Wake's conventions: int8 (seq, resourceVersion) parsed to numbers —
 * exact up to 2^53, i.e. 285 years at a million events per second — and notices silenced.
 */
export function connect(url: string, options: Options<Record<string, postgres.PostgresType>> = {}): Sql {
  return postgres(url, {
    onnotice: () => {},
    ...options,
    types: {
      bigint: { to: 20, from: [20], serialize: (x: number) => String(x), parse: (x: string) => Number(x) },
    },
    connection: { application_name: 'wake', ...options.connection },
  }) as unknown as Sql;
}
