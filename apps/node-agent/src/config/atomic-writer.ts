import {
  chmod,
  lstat,
  mkdir,
  mkdtemp,
  readFile,
  readlink,
  readdir,
  rename,
  rm,
  symlink,
  writeFile,
} from 'node:fs/promises';
import { dirname, isAbsolute, join, normalize, sep } from 'node:path';

/** One file of a volume's content: bytes and permission bits. */
export interface FileProjection {
  data: Buffer;
  mode: number;
}

const DATA_DIR = '..data';
const NEW_DATA_DIR = '..data_tmp';
const MAX_FILE_NAME_LENGTH = 255;
const MAX_PATH_LENGTH = 4096;

/**
 * Writes a volume's files so that readers never see a half-updated set, as upstream's
 * AtomicWriter (pkg/volume/util/atomic_writer.go): the files live in a hidden timestamped
 * directory, `..data` links to it, the visible names link through `..data`, and an update
 * writes a new directory and swaps `..data` with one rename. Names starting with `..` are
 * reserved. Not safe for concurrent writers to one directory: the caller serializes.
 */
export async function writeAtomically(
  targetDir: string,
  payload: ReadonlyMap<string, FileProjection>,
): Promise<void> {
  const clean = validatePayload(payload);
  await mkdir(targetDir, { recursive: true });
  const dataDirPath = join(targetDir, DATA_DIR);
  const oldTsDir = await readlink(dataDirPath).catch((e: NodeJS.ErrnoException) => {
    if (e.code === 'ENOENT') return '';
    throw e;
  });
  const oldTsPath = join(targetDir, oldTsDir);

  let toRemove = new Set<string>();
  if (oldTsDir) {
    toRemove = await pathsToRemove(clean, oldTsPath);
    if (!(await shouldWritePayload(clean, oldTsPath)) && toRemove.size === 0) return;
  }

  const tsDir = await mkdtemp(join(targetDir, timestampPrefix(new Date())));
  // 0755 lets group and other walk the tree whatever the process umask.
  await chmod(tsDir, 0o755);
  await writePayloadToDir(clean, tsDir);
  await createUserVisibleFiles(clean, targetDir);

  const newDataDirPath = join(targetDir, NEW_DATA_DIR);
  await rm(newDataDirPath, { force: true });
  try {
    await symlink(tsDir.slice(targetDir.length + 1), newDataDirPath);
    // rename(2) replaces the old link in one step: the atomic part.
    await rename(newDataDirPath, dataDirPath);
  } catch (e) {
    await rm(newDataDirPath, { force: true });
    await rm(tsDir, { recursive: true, force: true });
    throw e;
  }

  for (const p of toRemove) {
    // Only the visible links at the root; deeper paths went with the old directory.
    if (!p.includes(sep)) await rm(join(targetDir, p), { force: true });
  }
  if (oldTsDir) await rm(oldTsPath, { recursive: true, force: true });
}

/** `..2006_01_02_15_04_05.` in UTC, as upstream names its timestamped directories. */
function timestampPrefix(d: Date): string {
  const p = (n: number) => String(n).padStart(2, '0');
  return (
    `..${d.getUTCFullYear()}_${p(d.getUTCMonth() + 1)}_${p(d.getUTCDate())}_` +
    `${p(d.getUTCHours())}_${p(d.getUTCMinutes())}_${p(d.getUTCSeconds())}.`
  );
}

function validatePayload(payload: ReadonlyMap<string, FileProjection>): Map<string, FileProjection> {
  const clean = new Map<string, FileProjection>();
  for (const [path, file] of payload) {
    validatePath(path);
    clean.set(normalize(path).replace(/\/+$/, ''), file);
  }
  return clean;
}

/** validatePath: relative, no `..` element, not starting with `..`, within length limits. */
export function validatePath(path: string): void {
  if (path === '') throw new Error(`invalid path: must not be empty: ""`);
  if (isAbsolute(path)) throw new Error(`invalid path: must be relative path: ${path}`);
  if (path.length > MAX_PATH_LENGTH)
    throw new Error(`invalid path: must be less than or equal to ${MAX_PATH_LENGTH} characters`);
  const items = path.split(sep);
  for (const item of items) {
    if (item === '..') throw new Error(`invalid path: must not contain '..': ${path}`);
    if (item.length > MAX_FILE_NAME_LENGTH)
      throw new Error(
        `invalid path: filenames must be less than or equal to ${MAX_FILE_NAME_LENGTH} characters`,
      );
  }
  if (items[0]!.startsWith('..') && items[0]!.length > 2)
    throw new Error(`invalid path: must not start with '..': ${path}`);
}

async function shouldWritePayload(payload: Map<string, FileProjection>, oldTsDir: string): Promise<boolean> {
  for (const [path, file] of payload) {
    const full = join(oldTsDir, path);
    const stat = await lstat(full).catch(() => undefined);
    if (!stat) return true;
    if ((stat.mode & 0o7777) !== file.mode) return true;
    if (!(await readFile(full)).equals(file.data)) return true;
  }
  return false;
}

/** Everything under the old directory that no path of the new payload (or its parents) covers. */
async function pathsToRemove(payload: Map<string, FileProjection>, oldTsDir: string): Promise<Set<string>> {
  const present = await walk(oldTsDir, '');
  const wanted = new Set<string>();
  for (const path of payload.keys()) {
    for (let p = path; p !== '.' && p !== ''; p = dirname(p)) wanted.add(p);
  }
  return new Set(present.filter((p) => !wanted.has(p)));
}

async function walk(root: string, rel: string): Promise<string[]> {
  const entries = await readdir(join(root, rel), { withFileTypes: true }).catch(() => []);
  const out: string[] = [];
  for (const e of entries) {
    const p = rel ? join(rel, e.name) : e.name;
    out.push(p);
    if (e.isDirectory()) out.push(...(await walk(root, p)));
  }
  return out;
}

async function writePayloadToDir(payload: Map<string, FileProjection>, dir: string): Promise<void> {
  for (const [path, file] of payload) {
    const full = join(dir, path);
    await mkdir(dirname(full), { recursive: true });
    await writeFile(full, file.data, { mode: file.mode });
    // writeFile's mode is filtered by the umask; the volume's mode is not.
    await chmod(full, file.mode);
  }
}

/** `name -> ..data/name` for each top-level entry of the payload, once. */
async function createUserVisibleFiles(
  payload: Map<string, FileProjection>,
  targetDir: string,
): Promise<void> {
  for (const path of payload.keys()) {
    const top = path.split(sep)[0]!;
    const visible = join(targetDir, top);
    const exists = await readlink(visible).then(
      () => true,
      () => false,
    );
    if (!exists) await symlink(join(DATA_DIR, top), visible);
  }
}
