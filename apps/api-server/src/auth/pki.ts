import { execFile } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { isIP } from 'node:net';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

export interface ServingCertificate {
  caCert: string;
  cert: string;
  key: string;
}

/** Names the serving certificate is valid for: loopback, and the in-cluster `kubernetes` Service. */
export const SERVING_NAMES = {
  dns: [
    'localhost',
    'kubernetes',
    'kubernetes.default',
    'kubernetes.default.svc',
    'kubernetes.default.svc.cluster.local',
  ],
  ip: ['127.0.0.1', '::1', '10.96.0.1'],
};

/** openssl req arguments that make a new unencrypted ECDSA P-256 key at `keyFile`. */
function newP256Key(keyFile: string): string[] {
  return ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', keyFile];
}

/** Whether the certificate in `file` names every host name or address in `names`. */
function namesAll(file: string, names: readonly string[]): boolean {
  const cert = new X509Certificate(readFileSync(file));
  return names.every((n) => (isIP(n) ? cert.checkIP(n) : cert.checkHost(n)) !== undefined);
}

/**
 * The cluster CA and the API server's serving certificate, made with openssl on first start
 * and reused afterwards (kubeconfigs written earlier stay valid). ECDSA P-256, like kubeadm's
 * defaults are moving to; the CA key never leaves the directory. `extraNames` (host names or IP
 * addresses the server is also reached by, as kubeadm's certSANs) are added to SERVING_NAMES
 * when the certificate is made; a serving certificate that lacks one is issued again by the
 * same CA, so clients trusting the CA are unaffected.
 */
export async function ensureServingCertificate(
  dir: string,
  extraNames: readonly string[] = [],
): Promise<ServingCertificate> {
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const ca = join(dir, 'ca.crt');
  const caKey = join(dir, 'ca.key');
  const cert = join(dir, 'apiserver.crt');
  const key = join(dir, 'apiserver.key');
  if (!existsSync(ca) || !existsSync(caKey)) {
    await run('openssl', [
      'req',
      '-x509',
      ...newP256Key(caKey),
      '-out',
      ca,
      '-days',
      '3650',
      '-subj',
      '/CN=wake-ca',
      '-addext',
      'basicConstraints=critical,CA:TRUE',
      '-addext',
      'keyUsage=critical,keyCertSign,cRLSign',
    ]);
  }
  if (!existsSync(cert) || !existsSync(key) || !namesAll(cert, extraNames)) {
    const csr = join(dir, 'apiserver.csr');
    const ext = join(dir, 'apiserver.ext');
    const names = new Set([
      ...SERVING_NAMES.dns.map((d) => `DNS:${d}`),
      ...SERVING_NAMES.ip.map((i) => `IP:${i}`),
      ...extraNames.map((n) => (isIP(n) ? `IP:${n}` : `DNS:${n}`)),
    ]);
    const san = [...names].join(',');
    await writeFile(
      ext,
      `subjectAltName=${san}\nbasicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature,keyEncipherment\nextendedKeyUsage=serverAuth\n`,
    );
    await run('openssl', ['req', ...newP256Key(key), '-out', csr, '-subj', '/CN=wake-apiserver']);
    await run('openssl', [
      'x509',
      '-req',
      '-in',
      csr,
      '-CA',
      ca,
      '-CAkey',
      caKey,
      '-CAcreateserial',
      '-out',
      cert,
      '-days',
      '825',
      '-extfile',
      ext,
    ]);
  }
  const [caCert, certPem, keyPem] = await Promise.all([
    readFile(ca, 'utf8'),
    readFile(cert, 'utf8'),
    readFile(key, 'utf8'),
  ]);
  return { caCert, cert: certPem, key: keyPem };
}
