/**
 * A minimal ustar writer for the root filesystems `docker import` takes. Written here rather
 * than staged on disk for the system `tar`: entries are owned by root and dated at the epoch
 * without needing root or GNU tar flags, the same recipe always gives the same bytes, and no
 * temporary tree of hundreds of symlinks has to be created and cleaned up.
 */
export type TarEntry =
  | { type: 'file'; path: string; data: Buffer; mode?: number }
  | { type: 'directory'; path: string; mode?: number }
  | { type: 'symlink'; path: string; target: string };

const BLOCK = 512;

/** The whole archive (headers, padded contents, two zero blocks at the end). */
export function tarArchive(entries: readonly TarEntry[]): Buffer {
  const parts: Buffer[] = [];
  for (const entry of entries) {
    const data = entry.type === 'file' ? entry.data : Buffer.alloc(0);
    parts.push(tarHeader(entry, data.length));
    if (data.length > 0) {
      parts.push(data, Buffer.alloc((BLOCK - (data.length % BLOCK)) % BLOCK));
    }
  }
  parts.push(Buffer.alloc(2 * BLOCK));
  return Buffer.concat(parts);
}

function tarHeader(entry: TarEntry, size: number): Buffer {
  const header = Buffer.alloc(BLOCK);
  const path = entry.path.replace(/^\/+/, '') + (entry.type === 'directory' ? '/' : '');
  const [prefix, name] = splitPath(path);
  const mode =
    entry.type === 'symlink' ? 0o777 : (entry.mode ?? (entry.type === 'directory' ? 0o755 : 0o644));
  writeString(header, 0, 100, name);
  writeOctal(header, 100, 8, mode);
  writeOctal(header, 108, 8, 0); // uid
  writeOctal(header, 116, 8, 0); // gid
  writeOctal(header, 124, 12, size);
  writeOctal(header, 136, 12, 0); // mtime: the epoch, so archives are reproducible
  header.fill(' ', 148, 156); // the checksum counts its own field as spaces
  header.write({ file: '0', directory: '5', symlink: '2' }[entry.type], 156, 'latin1');
  if (entry.type === 'symlink') writeString(header, 157, 100, entry.target);
  header.write('ustar\0' + '00', 257, 'latin1');
  writeString(header, 265, 32, 'root');
  writeString(header, 297, 32, 'root');
  writeString(header, 345, 155, prefix);
  let sum = 0;
  for (const byte of header) sum += byte;
  writeString(header, 148, 8, sum.toString(8).padStart(6, '0') + '\0 ');
  return header;
}

/** ustar keeps names over 100 bytes by splitting them at a slash into prefix and name. */
function splitPath(path: string): [prefix: string, name: string] {
  if (Buffer.byteLength(path) <= 100) return ['', path];
  for (let cut = path.indexOf('/'); cut >= 0; cut = path.indexOf('/', cut + 1)) {
    const prefix = path.slice(0, cut);
    const name = path.slice(cut + 1);
    if (Buffer.byteLength(prefix) <= 155 && Buffer.byteLength(name) <= 100 && name !== '')
      return [prefix, name];
  }
  throw new Error(`tar: path too long for ustar: ${path}`);
}

function writeString(header: Buffer, offset: number, length: number, value: string): void {
  const bytes = Buffer.from(value, 'utf8');
  if (bytes.length > length) throw new Error(`tar: "${value}" does not fit in ${length} bytes`);
  bytes.copy(header, offset);
}

function writeOctal(header: Buffer, offset: number, length: number, value: number): void {
  const digits = value.toString(8);
  if (digits.length > length - 1) throw new Error(`tar: ${value} does not fit in a ${length}-byte field`);
  writeString(header, offset, length, digits.padStart(length - 1, '0') + '\0');
}
