import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { Readable } from 'node:stream';
import { promisify } from 'node:util';

import type Docker from 'dockerode';

import { tarArchive, type TarEntry } from './tar-archive.js';

const run = promisify(execFile);

/**
 * No image registry is assumed reachable, so the images pods and tests run are built here from
 * what the machine has: busybox-static's binary and Wake's own pause program. Each tag is a
 * hash of the recipe's inputs, so a changed recipe (or busybox) builds a new image and an
 * unchanged one is never rebuilt.
 */
export interface LocalImages {
  /** `wake/busybox:<hash>`: busybox with its applets linked, /etc/passwd, /tmp. */
  busybox: string;
  /** `wake/pause:<hash>`: the pod sandbox image, ENTRYPOINT ["/pause"]. */
  pause: string;
}

/** Bump when a recipe changes in a way its inputs do not show. */
const RECIPE_VERSION = '1';
const PAUSE_CFLAGS = ['-static', '-Os', '-s'];

export interface LocalImageOptions {
  /** A statically linked busybox (WAKE_BUSYBOX, else /bin/busybox from busybox-static). */
  busyboxBinary?: string;
  /** The pause program's C source (default: images/pause/pause.c in the repository). */
  pauseSource?: string;
}

/** Builds whichever of Wake's local images is missing and returns their references. */
export async function ensureLocalImages(
  docker: Docker,
  options: LocalImageOptions = {},
): Promise<LocalImages> {
  const busyboxBinary = options.busyboxBinary ?? process.env.WAKE_BUSYBOX ?? '/bin/busybox';
  const pauseSource = options.pauseSource ?? findPauseSource();
  const [busybox, pause] = await Promise.all([
    ensureImage(docker, await busyboxRecipe(busyboxBinary)),
    ensureImage(docker, await pauseRecipe(pauseSource)),
  ]);
  return { busybox, pause };
}

export interface ImageRecipe {
  repository: string;
  /** What the tag hashes. */
  inputs: (string | Buffer)[];
  build: () => Promise<Buffer>;
  /** Dockerfile instructions `docker import --change` applies. */
  changes: string[];
}

/** The image a recipe makes, tagged with the hash of its inputs; built only when missing. */
export async function ensureImage(docker: Docker, recipe: ImageRecipe): Promise<string> {
  const hash = createHash('sha256');
  for (const input of [RECIPE_VERSION, ...recipe.inputs, ...recipe.changes]) hash.update(input).update('\0');
  const tag = hash.digest('hex').slice(0, 12);
  const reference = `${recipe.repository}:${tag}`;
  if (await imageExists(docker, reference)) return reference;
  const rootfs = await recipe.build();
  const progress = await docker.importImage(Readable.from([rootfs]), {
    repo: recipe.repository,
    tag,
    changes: recipe.changes,
  });
  // The import reports failures inside its progress stream, not as an HTTP error.
  await new Promise<void>((done, fail) =>
    docker.modem.followProgress(progress, (err: Error | null, events: { error?: string }[]) => {
      const failed = err?.message ?? events.find((e) => e.error)?.error;
      if (failed) fail(new Error(`docker import of ${reference} failed: ${failed}`));
      else done();
    }),
  );
  if (!(await imageExists(docker, reference))) throw new Error(`docker import did not create ${reference}`);
  return reference;
}

/** Whether the engine has an image by this reference (a 404 is "no"; other failures throw). */
export async function imageExists(docker: Docker, reference: string): Promise<boolean> {
  try {
    await docker.getImage(reference).inspect();
    return true;
  } catch (e) {
    if ((e as { statusCode?: number }).statusCode === 404) return false;
    throw e;
  }
}

async function busyboxRecipe(binary: string): Promise<ImageRecipe> {
  const { data, applets } = await readBusybox(binary);
  return {
    repository: 'wake/busybox',
    inputs: [data, applets.join('\n')],
    changes: ['ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin', 'CMD ["sh"]'],
    build: () => Promise.resolve(tarArchive(busyboxRootfs(data, applets))),
  };
}

/** A static busybox's bytes and the applets it links (bin/sh, usr/bin/env, ...). */
export async function readBusybox(binary: string): Promise<{ data: Buffer; applets: string[] }> {
  if (!existsSync(binary)) {
    throw new Error(`${binary} not found: install busybox-static (or set WAKE_BUSYBOX to a static busybox)`);
  }
  const data = await readFile(binary);
  if (elfInterpreter(data)) {
    throw new Error(`${binary} is dynamically linked; an image without libc needs busybox-static's binary`);
  }
  // --list-full names each applet with its directory (bin/sh, usr/bin/env, sbin/ip, ...).
  const { stdout } = await run(binary, ['--list-full']);
  const applets = stdout
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '' && l !== 'bin/busybox');
  return { data, applets };
}

/** The busybox image's root filesystem: the binary, a link per applet, and a minimal /etc. */
export function busyboxRootfs(binary: Buffer, applets: readonly string[]): TarEntry[] {
  const dirs = new Set(['bin', 'etc', 'tmp', 'root', 'proc', 'sys', 'dev']);
  for (const applet of applets) {
    for (let d = dirname(applet); d !== '.'; d = dirname(d)) dirs.add(d);
  }
  return [
    ...[...dirs]
      .sort()
      .map((path): TarEntry => ({ type: 'directory', path, mode: path === 'tmp' ? 0o1777 : 0o755 })),
    { type: 'file', path: 'bin/busybox', data: binary, mode: 0o755 },
    ...applets.map((path): TarEntry => ({ type: 'symlink', path, target: '/bin/busybox' })),
    {
      type: 'file',
      path: 'etc/passwd',
      data: Buffer.from(
        'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n',
      ),
    },
    { type: 'file', path: 'etc/group', data: Buffer.from('root:x:0:\nnogroup:x:65534:\n') },
  ];
}

async function pauseRecipe(source: string): Promise<ImageRecipe> {
  const code = await readFile(source);
  return {
    repository: 'wake/pause',
    inputs: [code, PAUSE_CFLAGS.join(' ')],
    changes: ['ENTRYPOINT ["/pause"]'],
    build: async () => {
      const dir = await mkdtemp(join(tmpdir(), 'wake-pause-'));
      try {
        const output = join(dir, 'pause');
        await run(process.env.CC ?? 'cc', [...PAUSE_CFLAGS, '-o', output, source]).catch(
          (e: Error & { stderr?: string }) => {
            throw new Error(
              `compiling ${source} failed (needs gcc and libc6-dev): ${e.stderr ?? e.message}`,
              {
                cause: e,
              },
            );
          },
        );
        return tarArchive([{ type: 'file', path: 'pause', data: await readFile(output), mode: 0o755 }]);
      } finally {
        await rm(dir, { recursive: true, force: true });
      }
    },
  };
}

/** images/pause/pause.c, found upward from this module (from source or from dist). */
function findPauseSource(): string {
  for (let dir = import.meta.dirname; ; dir = dirname(dir)) {
    const candidate = join(dir, 'images', 'pause', 'pause.c');
    if (existsSync(candidate)) return candidate;
    if (dirname(dir) === dir) break;
  }
  throw new Error(`images/pause/pause.c not found above ${resolve(import.meta.dirname)}`);
}

/** The ELF program interpreter (the dynamic loader) a binary names, if any. */
export function elfInterpreter(binary: Buffer): string | undefined {
  const isElf64 = binary.length > 64 && binary.readUInt32BE(0) === 0x7f454c46 && binary[4] === 2;
  if (!isElf64) throw new Error('not a 64-bit ELF binary');
  const little = binary[5] === 1;
  const u16 = (o: number) => (little ? binary.readUInt16LE(o) : binary.readUInt16BE(o));
  const u32 = (o: number) => (little ? binary.readUInt32LE(o) : binary.readUInt32BE(o));
  const u64 = (o: number) => Number(little ? binary.readBigUInt64LE(o) : binary.readBigUInt64BE(o));
  const phoff = u64(32);
  const phentsize = u16(54);
  const phnum = u16(56);
  for (let i = 0; i < phnum; i++) {
    const header = phoff + i * phentsize;
    const PT_INTERP = 3;
    if (u32(header) !== PT_INTERP) continue;
    const offset = u64(header + 8);
    const size = u64(header + 32);
    return binary
      .subarray(offset, offset + size)
      .toString('latin1')
      .replace(/\0+$/, '');
  }
  return undefined;
}
