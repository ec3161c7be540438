import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { lstat, readdir, readFile, readlink } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { promisify } from 'node:util';

import type Docker from 'dockerode';

import { hostBinary } from './host-binary.js';
import { busyboxRootfs, elfInterpreter, ensureImage, type ImageRecipe, readBusybox } from './local-images.js';
import { natsServerBinary } from './nats-server.js';
import { postgresBinDir } from './postgres-server.js';
import { tarArchive, type TarEntry } from './tar-archive.js';

const run = promisify(execFile);

/**
 * The images the compose stack runs where no registry is reachable, made from what this
 * machine has installed: Node (for Wake's own image, whose Dockerfile takes it as its BASE),
 * PostgreSQL and nats-server. Each is busybox (a shell and wget for healthchecks) plus the
 * host's binaries with the shared libraries `ldd` names, imported with `docker import`; the
 * tag hashes every byte that goes in, so an unchanged host never rebuilds them.
 */
export interface BaseImages {
  /** `wake/node-base:<hash>`: node and openssl on busybox; stands in for node:20-bookworm-slim. */
  node: string;
  /** `wake/postgres:<hash>`: the official image's interface (POSTGRES_PASSWORD, POSTGRES_DB, PGDATA). */
  postgres: string;
  /** `wake/nats:<hash>`: nats-server on PATH, as the official alpine image has it. */
  nats: string;
}

export interface BaseImageOptions {
  busyboxBinary?: string;
  nodeBinary?: string;
  opensslBinary?: string;
  natsBinary?: string;
  /** PostgreSQL's bin directory (default: postgresBinDir()). */
  postgresBin?: string;
  /** The repository (images/postgres/docker-entrypoint.sh lives there); found upward by default. */
  repoRoot?: string;
}

const PATH = 'PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

export async function ensureBaseImages(docker: Docker, options: BaseImageOptions = {}): Promise<BaseImages> {
  const busybox = await readBusybox(options.busyboxBinary ?? process.env.WAKE_BUSYBOX ?? '/bin/busybox');
  const root = options.repoRoot ?? findRepoRoot();
  const [node, postgres, nats] = await Promise.all([
    ensureImage(docker, await nodeRecipe(busybox, options)),
    ensureImage(docker, await postgresRecipe(busybox, options.postgresBin ?? postgresBinDir(), root)),
    ensureImage(docker, await natsRecipe(busybox, options.natsBinary ?? natsServerBinary())),
  ]);
  return { node, postgres, nats };
}

type Busybox = Awaited<ReturnType<typeof readBusybox>>;

const PASSWD_ROOT = 'root:x:0:0:root:/root:/bin/sh\n';
const NOBODY = 'nobody:x:65534:65534:nobody:/nonexistent:/bin/false\n';

async function nodeRecipe(busybox: Busybox, o: BaseImageOptions): Promise<ImageRecipe> {
  const files = await hostFiles([
    o.nodeBinary ?? hostBinary('node', ['/usr/bin/node', '/usr/local/bin/node']),
    // The API server makes its CA and serving certificate with the openssl command.
    o.opensslBinary ?? hostBinary('openssl', ['/usr/bin/openssl']),
    ...['/etc/ssl/openssl.cnf', '/usr/lib/ssl/openssl.cnf', '/etc/ssl/certs/ca-certificates.crt'].filter(
      (p) => existsSync(p),
    ),
  ]);
  return recipe(
    'wake/node-base',
    [...withPasswd(busybox, PASSWD_ROOT + NOBODY, 'root:x:0:\nnogroup:x:65534:\n'), ...files],
    [`ENV ${PATH}`, 'CMD ["node"]'],
  );
}

async function postgresRecipe(busybox: Busybox, binDir: string, root: string): Promise<ImageRecipe> {
  const version = basename(dirname(binDir));
  const entrypoint = await readFile(join(root, 'images', 'postgres', 'docker-entrypoint.sh'));
  const files = await hostFiles(
    [
      dirname(binDir), // /usr/lib/postgresql/15: bin and lib
      `/usr/share/postgresql/${version}`, // what initdb loads
      // Debian builds PostgreSQL against the system's time zone data.
      '/usr/share/zoneinfo',
      // initdb --locale=C.UTF-8
      ...['/usr/lib/locale/C.utf8'].filter((p) => existsSync(p)),
    ],
    // The JIT provider drags in all of LLVM and is optional (jit=off without it).
    (p) => /llvmjit|\/bitcode(\/|$)/.test(p),
  );
  return recipe(
    'wake/postgres',
    [
      ...withPasswd(
        busybox,
        `${PASSWD_ROOT}postgres:x:999:999:PostgreSQL:/var/lib/postgresql:/bin/sh\n${NOBODY}`,
        'root:x:0:\npostgres:x:999:\nnogroup:x:65534:\n',
      ),
      ...files,
      { type: 'directory', path: 'var/lib/postgresql', mode: 0o755 },
      { type: 'directory', path: 'var/run/postgresql', mode: 0o2777 },
      { type: 'file', path: 'usr/local/bin/docker-entrypoint.sh', data: entrypoint, mode: 0o755 },
    ],
    [
      `ENV ${PATH}:${binDir}`,
      'ENV PGDATA=/var/lib/postgresql/data',
      'ENV LANG=C.UTF-8',
      'ENTRYPOINT ["docker-entrypoint.sh"]',
      'CMD ["postgres"]',
      'EXPOSE 5432',
    ],
  );
}

async function natsRecipe(busybox: Busybox, binary: string): Promise<ImageRecipe> {
  const files = await hostFiles([binary]);
  return recipe(
    'wake/nats',
    [...withPasswd(busybox, PASSWD_ROOT + NOBODY, 'root:x:0:\nnogroup:x:65534:\n'), ...files],
    [`ENV ${PATH}`, 'CMD ["nats-server", "--jetstream"]', 'EXPOSE 4222 6222 8222'],
  );
}

function recipe(repository: string, entries: TarEntry[], changes: string[]): ImageRecipe {
  const { tarArchiveOf, digestInputs } = deduplicated(entries);
  return { repository, inputs: digestInputs, changes, build: () => Promise.resolve(tarArchiveOf()) };
}

/** Busybox's root filesystem with these /etc/passwd and /etc/group. */
function withPasswd(busybox: Busybox, passwd: string, group: string): TarEntry[] {
  return busyboxRootfs(busybox.data, busybox.applets).map((e) =>
    e.type === 'file' && e.path === 'etc/passwd'
      ? { ...e, data: Buffer.from(passwd) }
      : e.type === 'file' && e.path === 'etc/group'
        ? { ...e, data: Buffer.from(group) }
        : e,
  );
}

/**
 * One entry per path, the first kept: busybox's directories come first and the host's
 * (usr/bin, say) are the same directories. A later file at a path taken is an error, not a
 * silent shadowing.
 */
function deduplicated(entries: TarEntry[]): { tarArchiveOf: () => Buffer; digestInputs: Buffer[] } {
  const byPath = new Map<string, TarEntry>();
  for (const e of entries) {
    const taken = byPath.get(e.path);
    if (!taken) byPath.set(e.path, e);
    else if (!(taken.type === 'directory' && e.type === 'directory'))
      throw new Error(`base image: ${e.path} is both a ${taken.type} and a ${e.type}`);
  }
  const unique = [...byPath.values()];
  const digestInputs = unique.map((e) =>
    Buffer.concat([
      Buffer.from(
        `${e.type}\0${e.path}\0${'mode' in e ? (e.mode ?? '') : ''}\0${e.type === 'symlink' ? e.target : ''}\0`,
      ),
      e.type === 'file' ? e.data : Buffer.alloc(0),
    ]),
  );
  return {
    digestInputs,
    tarArchiveOf: () => tarArchive(unique),
  };
}

/**
 * Host paths as image entries at the same places: directories walked, symlinks kept (with
 * what they point at), symlinked ancestors kept too (Debian's /lib -> usr/lib), and each
 * dynamically linked ELF file's shared libraries added, as `ldd` resolves them here.
 */
export async function hostFiles(
  paths: readonly string[],
  exclude: (path: string) => boolean = () => false,
): Promise<TarEntry[]> {
  const entries = new Map<string, TarEntry>();
  const rel = (p: string) => p.replace(/^\/+/, '');

  /** Registers every component of `dir` (symlinks with their targets); returns it canonical. */
  async function addDirectoryChain(dir: string): Promise<string> {
    let real = '/';
    for (const part of resolve(dir).split('/').filter(Boolean)) {
      const next = join(real, part);
      const stat = await lstat(next);
      if (stat.isSymbolicLink()) {
        const target = await readlink(next);
        if (!entries.has(rel(next))) entries.set(rel(next), { type: 'symlink', path: rel(next), target });
        real = await addDirectoryChain(resolve(real, target));
      } else {
        if (!entries.has(rel(next)))
          entries.set(rel(next), { type: 'directory', path: rel(next), mode: stat.mode & 0o7777 });
        real = next;
      }
    }
    return real;
  }

  async function addAncestors(path: string): Promise<string> {
    return join(await addDirectoryChain(dirname(resolve(path))), basename(path));
  }

  async function add(path: string, walk: boolean): Promise<void> {
    if (exclude(path)) return;
    const canonical = await addAncestors(path);
    const key = rel(canonical);
    if (entries.has(key) && entries.get(key)!.type !== 'directory') return;
    const stat = await lstat(canonical);
    if (stat.isSymbolicLink()) {
      const target = await readlink(canonical);
      entries.set(key, { type: 'symlink', path: key, target });
      const resolved = resolve(dirname(canonical), target);
      if (existsSync(resolved)) await add(resolved, false);
    } else if (stat.isDirectory()) {
      const seen = entries.has(key);
      entries.set(key, { type: 'directory', path: key, mode: stat.mode & 0o7777 });
      if (walk && !seen)
        for (const child of (await readdir(canonical)).sort()) await add(join(canonical, child), true);
    } else if (stat.isFile()) {
      const data = await readFile(canonical);
      entries.set(key, { type: 'file', path: key, data, mode: stat.mode & 0o7777 });
      for (const library of await sharedLibraries(canonical, data)) await add(library, false);
    }
  }

  for (const path of paths) await add(path, true);
  // Parents before children, as `docker import` extracts in order.
  return [...entries.values()].sort((a, b) => depth(a.path) - depth(b.path) || (a.path < b.path ? -1 : 1));
}

function depth(path: string): number {
  return path.split('/').length;
}

/** The shared libraries (and the loader) a dynamically linked ELF file needs, by `ldd`. */
async function sharedLibraries(path: string, data: Buffer): Promise<string[]> {
  const isElf = data.length > 64 && data.readUInt32BE(0) === 0x7f454c46 && data[4] === 2;
  if (!isElf) return [];
  const interpreter = elfInterpreter(data);
  const isSharedObject = data.readUInt16LE(16) === 3; // ET_DYN: a library or a PIE
  if (!interpreter && !isSharedObject) return [];
  const { stdout } = await run('ldd', [path]).catch(() => ({ stdout: '' }));
  const libraries = stdout
    .split('\n')
    .map((line) => /(?:=>\s*)?(\/\S+)\s+\(0x/.exec(line)?.[1])
    .filter((p): p is string => !!p);
  return interpreter ? [interpreter, ...libraries] : libraries;
}

/** The repository root (the directory with images/), found upward from this module. */
export function findRepoRoot(): string {
  for (let dir = import.meta.dirname; ; dir = dirname(dir)) {
    if (existsSync(join(dir, 'images', 'pause', 'pause.c')) && existsSync(join(dir, 'package.json')))
      return dir;
    if (dirname(dir) === dir) break;
  }
  throw new Error(`the repository root was not found above ${resolve(import.meta.dirname)}`);
}
