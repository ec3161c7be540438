import { mkdir, open, stat } from 'node:fs/promises';

type FileType = 'Directory' | 'File' | 'Socket' | 'CharDevice' | 'BlockDevice';

/** What each type requires to be there, and upstream's words when it is not. */
const REQUIRED: Readonly<Record<string, [FileType, string]>> = {
  DirectoryOrCreate: ['Directory', 'is not a directory'],
  Directory: ['Directory', 'is not a directory'],
  FileOrCreate: ['File', 'is not a file'],
  File: ['File', 'is not a file'],
  Socket: ['Socket', 'is not a socket file'],
  CharDevice: ['CharDevice', 'is not a character device'],
  BlockDevice: ['BlockDevice', 'is not a block device'],
};

/**
 * The hostPath type check (pkg/volume/hostpath/host_path.go SetUp and checkTypeInternal):
 * `...OrCreate` makes a missing directory (0755) or file (0644), then what is there must be of
 * the type. An unset type checks nothing (the engine makes a missing directory at mount time).
 */
export async function checkHostPathType(path: string, type: string | undefined): Promise<void> {
  if (path.split('/').includes('..')) throw new Error(`invalid HostPath \`${path}\`: must not contain '..'`);
  if (!type) return;
  const required = REQUIRED[type];
  if (!required) throw new Error(`${type} is an invalid volume type`);
  if (type === 'DirectoryOrCreate' && (await fileType(path)) === undefined) {
    await mkdir(path, { recursive: true, mode: 0o755 });
  }
  if (type === 'FileOrCreate' && (await fileType(path)) === undefined) {
    // Upstream does not make the parent directory either.
    await (await open(path, 'a', 0o644)).close();
  }
  if ((await fileType(path)) !== required[0])
    throw new Error(`hostPath type check failed: ${path} ${required[1]}`);
}

async function fileType(path: string): Promise<FileType | 'Other' | undefined> {
  const s = await stat(path).catch(() => undefined);
  if (!s) return undefined;
  if (s.isDirectory()) return 'Directory';
  if (s.isFile()) return 'File';
  if (s.isSocket()) return 'Socket';
  if (s.isCharacterDevice()) return 'CharDevice';
  if (s.isBlockDevice()) return 'BlockDevice';
  return 'Other';
}
