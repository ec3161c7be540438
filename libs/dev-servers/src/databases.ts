import postgres from 'postgres';

const IDENTIFIER = /^[a-z_][a-z0-9_]{0,62}$/;

/** Runs one statement on a short-lived superuser connection. */
async function admin(adminUrl: string, statement: string): Promise<void> {
  const sql = postgres(adminUrl, { max: 1, onnotice: () => {} });
  try {
    await sql.unsafe(statement);
  } finally {
    await sql.end();
  }
}

function checked(name: string): string {
  if (!IDENTIFIER.test(name)) throw new Error(`not a plain database name: ${name}`);
  return name;
}

/** The URL of database `name` on the server `adminUrl` points at. */
export function databaseUrl(adminUrl: string, name: string): string {
  const url = new URL(adminUrl);
  url.pathname = `/${checked(name)}`;
  return url.toString();
}

/** Creates database `name` (unless `ifMissing` and it exists) and returns its URL. */
export async function createDatabase(
  adminUrl: string,
  name: string,
  { ifMissing = false } = {},
): Promise<string> {
  await admin(adminUrl, `CREATE DATABASE ${checked(name)}`).catch((e: { code?: string }) => {
    if (!(ifMissing && e.code === '42P04')) throw e;
  });
  return databaseUrl(adminUrl, name);
}

/** Drops database `name`, closing its connections. */
export async function dropDatabase(adminUrl: string, name: string): Promise<void> {
  await admin(adminUrl, `DROP DATABASE IF EXISTS ${checked(name)} WITH (FORCE)`);
}
