import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { lstat, readdir, readFile, readlink, realpath, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { promisify } from 'node:util';

import type Docker from 'dockerode';

import { imageExists } from './local-images.js';
import { tarArchive, type TarEntry } from './tar-archive.js';

const run = promisify(execFile);

/** Bump when the context's recipe changes in a way its inputs do not show. */
const RECIPE_VERSION = '1';
const TAR_END = 1024;
/** The CLI's entry point, as `nest build --all` lays it out (package.json's bin). */
const MAIN = 'dist/apps/cli/apps/cli/src/main.js';

export interface WakeImageOptions {
  /** The repository (Dockerfile, package-lock.json, apps/, libs/). */
  root: string;
  /** The Dockerfile's BASE: an image with node (e.g. BaseImages.node). */
  base: string;
  repository?: string;
}

/**
 * Wake's image built from the repository's Dockerfile without a registry: the host compiles
 * (`nest build --all`) and the context carries dist/ and the production packages of
 * node_modules (those package-lock.json does not mark dev), so the Dockerfile's npm steps are
 * skipped. The tag hashes the sources, the lock, the Dockerfile and the base, so an unchanged
 * tree is never rebuilt (and not even compiled).
 */
export async function ensureWakeImage(docker: Docker, o: WakeImageOptions): Promise<string> {
  const repository = o.repository ?? 'wake/wake';
  const { tag, newest } = await sourceHash(o.root, o.base);
  const reference = `${repository}:${tag}`;
  if (await imageExists(docker, reference)) return reference;
  if (await compiledBefore(o.root, newest)) await compile(o.root);
  const context = Readable.from(contextEntries(o.root));
  const progress = await docker.buildImage(context, {
    t: reference,
    buildargs: { BASE: o.base },
    rm: true,
    forcerm: true,
  });
  await new Promise<void>((done, fail) =>
    docker.modem.followProgress(
      progress,
      (err: Error | null, events: { error?: string; stream?: string }[]) => {
        const failed = err?.message ?? events.find((e) => e.error)?.error;
        if (!failed) return done();
        const output = events
          .map((e) => e.stream ?? '')
          .join('')
          .slice(-4000);
        fail(new Error(`docker build of ${reference} failed: ${failed}\n${output}`));
      },
    ),
  );
  return reference;
}

/** True when dist/ is missing or older than a source file. */
async function compiledBefore(root: string, newestSourceMs: number): Promise<boolean> {
  const main = join(root, MAIN);
  return !existsSync(main) || (await stat(main)).mtimeMs < newestSourceMs;
}

async function compile(root: string): Promise<void> {
  const nest = join(root, 'node_modules', '@nestjs', 'cli', 'bin', 'nest.js');
  await run(process.execPath, [nest, 'build', '--all'], { cwd: root, maxBuffer: 64 * 1024 * 1024 }).catch(
    (e: Error & { stdout?: string }) => {
      throw new Error(`nest build --all failed: ${e.stdout ?? ''}${e.message}`, { cause: e });
    },
  );
}

/**
 * What the image is made of: the compiled sources (not tests), the lock, the Dockerfile and
 * images/; with the newest of their modification times.
 */
async function sourceHash(root: string, base: string): Promise<{ tag: string; newest: number }> {
  const hash = createHash('sha256').update(`${RECIPE_VERSION}\0${base}\0`);
  const files = [
    ...[
      'Dockerfile',
      'package.json',
      'package-lock.json',
      'tsconfig.json',
      'tsconfig.build.json',
      'nest-cli.json',
    ],
    ...(await walk(root, 'apps')),
    ...(await walk(root, 'libs')),
    ...(await walk(root, 'images')),
  ]
    .filter((f) => !/\.(int-)?spec\.ts$/.test(f) && !f.includes('/test/'))
    .sort();
  let newest = 0;
  for (const file of files) {
    hash
      .update(file)
      .update('\0')
      .update(await readFile(join(root, file)))
      .update('\0');
    newest = Math.max(newest, (await stat(join(root, file))).mtimeMs);
  }
  return { tag: hash.digest('hex').slice(0, 12), newest };
}

/** Regular files under `dir` (relative to root), following no symlinks. */
async function walk(root: string, dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const entry of await readdir(join(root, dir), { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) out.push(...(await walk(root, path)));
    else if (entry.isFile()) out.push(path);
  }
  return out;
}

/** The build context as tar chunks, one entry at a time (node_modules alone is ~200 MB). */
async function* contextEntries(root: string): AsyncGenerator<Buffer> {
  const one = (entry: TarEntry) => tarArchive([entry]).subarray(0, -TAR_END);
  for (const file of ['Dockerfile', 'package.json', 'package-lock.json'])
    yield one({ type: 'file', path: file, data: await readFile(join(root, file)) });
  for await (const entry of tree(join(root, 'images'), 'images')) yield one(entry);
  for await (const entry of tree(join(root, 'dist'), 'dist')) yield one(entry);
  // node_modules may be a symlink (a git worktree's): its packages are read through it.
  const modules = await realpath(join(root, 'node_modules'));
  yield one({ type: 'directory', path: 'node_modules' });
  for (const pkg of await productionPackages(root)) {
    const source = join(modules, pkg.slice('node_modules/'.length));
    if (!existsSync(source)) continue; // an optional package for another platform
    for await (const entry of tree(source, pkg)) yield one(entry);
  }
  yield Buffer.alloc(TAR_END);
}

/** package-lock.json's packages that are not dev-only: `node_modules/<name>` paths, parents first. */
export async function productionPackages(root: string): Promise<string[]> {
  const lock = JSON.parse(await readFile(join(root, 'package-lock.json'), 'utf8')) as {
    packages: Record<string, { dev?: boolean; link?: boolean }>;
  };
  return Object.entries(lock.packages)
    .filter(([path, p]) => path.startsWith('node_modules/') && !p.dev && !p.link)
    .map(([path]) => path)
    .sort();
}

async function* tree(source: string, path: string): AsyncGenerator<TarEntry> {
  const stat = await lstat(source);
  if (stat.isSymbolicLink()) {
    yield { type: 'symlink', path, target: await readlink(source) };
  } else if (stat.isDirectory()) {
    yield { type: 'directory', path, mode: stat.mode & 0o7777 };
    for (const child of (await readdir(source)).sort()) {
      // A nested package has its own lock entry; it is added from there (or not, if dev-only).
      if (child === 'node_modules') continue;
      yield* tree(join(source, child), `${path}/${child}`);
    }
  } else if (stat.isFile()) {
    yield { type: 'file', path, data: await readFile(source), mode: stat.mode & 0o7777 };
  }
}
