import { describe, expect, it } from '@jest/globals';

import { connectionFromKubeconfig, kubeconfig } from './kubeconfig.js';

describe('kubeconfig', () => {
  it('reads back the connection the API server writes', () => {
    const text = kubeconfig({
      server: 'https://127.0.0.1:6443',
      caCert: '-----BEGIN CERTIFICATE-----\nx\n',
      token: 't0k',
    });
    expect(connectionFromKubeconfig(text)).toEqual({
      server: 'https://127.0.0.1:6443',
      caCert: '-----BEGIN CERTIFICATE-----\nx\n',
      token: 't0k',
    });
  });

  it('says what is missing', () => {
    const text = kubeconfig({ server: 'https://h:1', caCert: 'c', token: 't' });
    expect(() => connectionFromKubeconfig(text, 'other')).toThrow('no context "other"');
    expect(() => connectionFromKubeconfig(text.replace('    token: t\n', ''))).toThrow(
      'names no user with a token',
    );
  });
});
