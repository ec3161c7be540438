import { X509Certificate } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { afterAll, describe, expect, it } from '@jest/globals';

import { ensureServingCertificate } from './pki.js';

describe('ensureServingCertificate', () => {
  const dirs: string[] = [];
  afterAll(async () => {
    await Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true })));
  });

  it('names extra serving IPs, issuing the certificate again from the same CA when one is new', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'wake-pki-'));
    dirs.push(dir);
    const first = await ensureServingCertificate(dir);
    const plain = new X509Certificate(first.cert);
    expect(plain.checkIP('10.96.0.1')).toBe('10.96.0.1');
    expect(plain.checkIP('172.17.0.1')).toBeUndefined();

    const again = await ensureServingCertificate(dir);
    expect(again.cert).toBe(first.cert);

    const withGateway = await ensureServingCertificate(dir, ['172.17.0.1']);
    const cert = new X509Certificate(withGateway.cert);
    expect(cert.checkIP('172.17.0.1')).toBe('172.17.0.1');
    expect(cert.checkHost('kubernetes.default.svc')).toBe('kubernetes.default.svc');
    // The CA is kept: kubeconfigs and pods' ca.crt written before stay valid.
    expect(withGateway.caCert).toBe(first.caCert);
    expect(cert.verify(new X509Certificate(first.caCert).publicKey)).toBe(true);
    // Already named: kept as it is.
    expect((await ensureServingCertificate(dir, ['172.17.0.1'])).cert).toBe(withGateway.cert);
  });
});
