// Installs what Wake needs on a fresh Debian machine, idempotently: system packages when run
// as root (PostgreSQL 15 server, nats-server, Docker and a static busybox for the node agent's
// locally built images), `npm ci` when node_modules is missing or stale, and the
// build when asked. Plain Node, no dependencies: it runs before `npm ci`.
import { spawnSync } from 'node:child_process';
import {
  existsSync,
  lstatSync,
  readdirSync,
  readlinkSync,
  realpathSync,
  statSync,
  symlinkSync,
  unlinkSync,
} from 'node:fs';
import { delimiter, join, resolve } from 'node:path';

const ROOT = resolve(import.meta.dirname, '..');
const APT_PACKAGES = [
  { binary: () => postgresBin(), pkg: 'postgresql-15' },
  {
    binary: () => ['/usr/sbin/nats-server', '/usr/bin/nats-server'].find((p) => existsSync(p)),
    pkg: 'nats-server',
  },
  // Only the Docker suites need these (`dockerOnly`): without root they are a hint, not a stop.
  {
    binary: () => ['/usr/sbin/dockerd', '/usr/bin/dockerd'].find((p) => existsSync(p)),
    pkg: 'docker.io',
    dockerOnly: true,
  },
  // Debian's docker-compose 1.29: the compose stack's test brings docker-compose.yml up with it.
  {
    binary: () => ['/usr/bin/docker-compose', '/usr/local/bin/docker-compose'].find((p) => existsSync(p)),
    pkg: 'docker-compose',
    dockerOnly: true,
  },
  // busybox-static, not busybox: the image has no libc, and both install /bin/busybox.
  {
    binary: () => (dpkgInstalled('busybox-static') ? '/bin/busybox' : undefined),
    pkg: 'busybox-static',
    dockerOnly: true,
  },
  // chattr: a pod-termination suite pins a container's layer to make the engine's removal fail.
  {
    binary: () => ['/usr/bin/chattr', '/bin/chattr'].find((p) => existsSync(p)),
    pkg: 'e2fsprogs',
    dockerOnly: true,
  },
  // The pause image's program is compiled here with `cc -static`, which needs libc.a.
  { binary: () => ['/usr/bin/cc', '/usr/bin/gcc'].find((p) => existsSync(p)), pkg: 'gcc', dockerOnly: true },
  {
    binary: () => (dpkgInstalled('libc6-dev') ? 'libc6-dev' : undefined),
    pkg: 'libc6-dev',
    dockerOnly: true,
  },
];

function dpkgInstalled(pkg) {
  const r = spawnSync('dpkg-query', ['-W', '-f', '${Status}', pkg], { encoding: 'utf8' });
  return r.status === 0 && r.stdout.includes('install ok installed');
}

function log(message) {
  process.stderr.write(`[ensure] ${message}\n`);
}

function postgresBin() {
  const base = '/usr/lib/postgresql';
  if (process.env.PG_BIN && existsSync(join(process.env.PG_BIN, 'postgres'))) return process.env.PG_BIN;
  if (!existsSync(base)) return undefined;
  const found = readdirSync(base)
    .map((v) => join(base, v, 'bin'))
    .find((d) => existsSync(join(d, 'postgres')) && existsSync(join(d, 'pgbench')));
  return found;
}

function run(cmd, args, opts = {}) {
  const r = spawnSync(cmd, args, { stdio: 'inherit', cwd: ROOT, ...opts });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed with exit code ${r.status}`);
}

export function ensureSystemPackages() {
  const absent = APT_PACKAGES.filter((p) => !p.binary());
  const missing = absent.map((p) => p.pkg);
  if (missing.length === 0) return;
  if (process.getuid?.() !== 0) {
    const required = absent.filter((p) => !p.dockerOnly).map((p) => p.pkg);
    const hint = `apt-get install ${missing.join(' ')}`;
    if (required.length)
      throw new Error(
        `missing system packages: ${required.join(' ')}; install them (${hint}) or run as root`,
      );
    log(`the Docker tests need ${missing.join(' ')} (${hint}); everything else goes on without them`);
    return;
  }
  log(`installing ${missing.join(' ')} with apt-get`);
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  run('apt-get', ['update', '-qq'], { env });
  run('apt-get', ['install', '-y', '-qq', '--no-install-recommends', ...missing], { env });
}

export function ensureNodeModules() {
  const marker = join(ROOT, 'node_modules', '.package-lock.json');
  const lock = join(ROOT, 'package-lock.json');
  if (existsSync(marker) && statSync(marker).mtimeMs >= statSync(lock).mtimeMs) return;
  log('installing npm dependencies (npm ci)');
  const ci = spawnSync('npm', ['ci', '--no-audit', '--no-fund'], { cwd: ROOT, encoding: 'utf8' });
  if (ci.status === 0) return;
  // A registry mirror that lacks other platforms' optional binaries (unrs-resolver's, say)
  // makes npm write a lock without them, and `npm ci` then calls that lock out of sync.
  // `npm install --no-save` installs the same locked versions and leaves the lock alone.
  const reason =
    `${ci.stderr ?? ''}`.split('\n').find((l) => /npm error (?!code)\S/.test(l)) ?? `exit code ${ci.status}`;
  log(`npm ci refused (${reason.replace(/^npm error /, '').trim()}); falling back to npm install --no-save`);
  run('npm', ['install', '--no-save', '--no-audit', '--no-fund']);
}

export function ensureBuild() {
  log('building (nest build --all)');
  run('npx', ['nest', 'build', '--all']);
}

/**
 * Puts the kubectl plugin (bin/kubectl-wake: `kubectl wake history deploy/web`) on the PATH:
 * as root, a symlink in /usr/local/bin (replacing only an earlier symlink, never a file someone
 * else put there); otherwise, unless a PATH directory already leads to it, the line to add.
 */
export function ensureKubectlPlugin({ linkDir = '/usr/local/bin' } = {}) {
  const plugin = join(ROOT, 'bin', 'kubectl-wake');
  const leadsToPlugin = (dir) => {
    try {
      return realpathSync(join(dir, 'kubectl-wake')) === realpathSync(plugin);
    } catch {
      return false;
    }
  };
  const path = (process.env.PATH ?? '').split(delimiter).filter(Boolean);
  if (leadsToPlugin(linkDir) || path.some(leadsToPlugin)) return;
  const link = join(linkDir, 'kubectl-wake');
  if (process.getuid?.() === 0 && existsSync(linkDir)) {
    let present;
    try {
      present = lstatSync(link);
    } catch {
      present = undefined;
    }
    if (!present || present.isSymbolicLink()) {
      if (present) {
        log(`replacing ${link} (was a link to ${readlinkSync(link)})`);
        unlinkSync(link);
      }
      symlinkSync(plugin, link);
      log(`kubectl plugin installed: ${link} -> ${plugin} ('kubectl wake --help')`);
      return;
    }
    log(`${link} exists and is not a link; leaving it`);
  }
  log(`for 'kubectl wake ...' put the plugin on your PATH: export PATH="${join(ROOT, 'bin')}:$PATH"`);
}

export function ensureAll({ build = false } = {}) {
  ensureSystemPackages();
  ensureNodeModules();
  if (build) ensureBuild();
}

if (import.meta.url === `file://${process.argv[1]}`) {
  try {
    ensureAll({ build: process.argv.includes('--build') });
  } catch (e) {
    log(e.message);
    process.exit(1);
  }
}
