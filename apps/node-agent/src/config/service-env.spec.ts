import { describe, expect, it } from '@jest/globals';

import { type Service } from './kube-types.js';
import { fromServices, serviceEnvVarMap } from './service-env.js';

function svc(
  name: string,
  clusterIP: string,
  ports: { name?: string; port: number; protocol?: 'TCP' | 'UDP' | 'SCTP' }[],
  namespace = 'ns',
): Service {
  return { apiVersion: 'v1', kind: 'Service', metadata: { name, namespace }, spec: { clusterIP, ports } };
}

describe('Service environment variables (upstream envvars_test.go TestFromServices)', () => {
  it('makes host, port, named-port and Docker-link variables in upstream order, skipping headless and unset IPs', () => {
    const vars = fromServices([
      svc('foo-bar', '1.2.3.4', [{ port: 8080, protocol: 'TCP' }]),
      svc('abc-123', '5.6.7.8', [
        { name: 'u-d-p', port: 8081, protocol: 'UDP' },
        { name: 't-c-p', port: 8081, protocol: 'TCP' },
      ]),
      svc('q-u-u-x', '9.8.7.6', [
        { port: 8082, protocol: 'TCP' },
        { name: '8083', port: 8083, protocol: 'TCP' },
      ]),
      svc('svrc-clusterip-none', 'None', [{ port: 8082, protocol: 'TCP' }]),
      svc('svrc-clusterip-empty', '', [{ port: 8082, protocol: 'TCP' }]),
      svc('super-ipv6', '2001:DB8::', [
        { name: 'u-d-p', port: 8084, protocol: 'UDP' },
        { name: 't-c-p', port: 8084, protocol: 'TCP' },
      ]),
      svc('sctp-1', '1.2.3.4', [{ port: 777, protocol: 'SCTP' }]),
    ]);
    expect(vars).toEqual([
      ['FOO_BAR_SERVICE_HOST', '1.2.3.4'],
      ['FOO_BAR_SERVICE_PORT', '8080'],
      ['FOO_BAR_PORT', 'tcp://1.2.3.4:8080'],
      ['FOO_BAR_PORT_8080_TCP', 'tcp://1.2.3.4:8080'],
      ['FOO_BAR_PORT_8080_TCP_PROTO', 'tcp'],
      ['FOO_BAR_PORT_8080_TCP_PORT', '8080'],
      ['FOO_BAR_PORT_8080_TCP_ADDR', '1.2.3.4'],
      ['ABC_123_SERVICE_HOST', '5.6.7.8'],
      ['ABC_123_SERVICE_PORT', '8081'],
      ['ABC_123_SERVICE_PORT_U_D_P', '8081'],
      ['ABC_123_SERVICE_PORT_T_C_P', '8081'],
      ['ABC_123_PORT', 'udp://5.6.7.8:8081'],
      ['ABC_123_PORT_8081_UDP', 'udp://5.6.7.8:8081'],
      ['ABC_123_PORT_8081_UDP_PROTO', 'udp'],
      ['ABC_123_PORT_8081_UDP_PORT', '8081'],
      ['ABC_123_PORT_8081_UDP_ADDR', '5.6.7.8'],
      ['ABC_123_PORT_8081_TCP', 'tcp://5.6.7.8:8081'],
      ['ABC_123_PORT_8081_TCP_PROTO', 'tcp'],
      ['ABC_123_PORT_8081_TCP_PORT', '8081'],
      ['ABC_123_PORT_8081_TCP_ADDR', '5.6.7.8'],
      ['Q_U_U_X_SERVICE_HOST', '9.8.7.6'],
      ['Q_U_U_X_SERVICE_PORT', '8082'],
      ['Q_U_U_X_SERVICE_PORT_8083', '8083'],
      ['Q_U_U_X_PORT', 'tcp://9.8.7.6:8082'],
      ['Q_U_U_X_PORT_8082_TCP', 'tcp://9.8.7.6:8082'],
      ['Q_U_U_X_PORT_8082_TCP_PROTO', 'tcp'],
      ['Q_U_U_X_PORT_8082_TCP_PORT', '8082'],
      ['Q_U_U_X_PORT_8082_TCP_ADDR', '9.8.7.6'],
      ['Q_U_U_X_PORT_8083_TCP', 'tcp://9.8.7.6:8083'],
      ['Q_U_U_X_PORT_8083_TCP_PROTO', 'tcp'],
      ['Q_U_U_X_PORT_8083_TCP_PORT', '8083'],
      ['Q_U_U_X_PORT_8083_TCP_ADDR', '9.8.7.6'],
      ['SUPER_IPV6_SERVICE_HOST', '2001:DB8::'],
      ['SUPER_IPV6_SERVICE_PORT', '8084'],
      ['SUPER_IPV6_SERVICE_PORT_U_D_P', '8084'],
      ['SUPER_IPV6_SERVICE_PORT_T_C_P', '8084'],
      ['SUPER_IPV6_PORT', 'udp://[2001:DB8::]:8084'],
      ['SUPER_IPV6_PORT_8084_UDP', 'udp://[2001:DB8::]:8084'],
      ['SUPER_IPV6_PORT_8084_UDP_PROTO', 'udp'],
      ['SUPER_IPV6_PORT_8084_UDP_PORT', '8084'],
      ['SUPER_IPV6_PORT_8084_UDP_ADDR', '2001:DB8::'],
      ['SUPER_IPV6_PORT_8084_TCP', 'tcp://[2001:DB8::]:8084'],
      ['SUPER_IPV6_PORT_8084_TCP_PROTO', 'tcp'],
      ['SUPER_IPV6_PORT_8084_TCP_PORT', '8084'],
      ['SUPER_IPV6_PORT_8084_TCP_ADDR', '2001:DB8::'],
      ['SCTP_1_SERVICE_HOST', '1.2.3.4'],
      ['SCTP_1_SERVICE_PORT', '777'],
      ['SCTP_1_PORT', 'sctp://1.2.3.4:777'],
      ['SCTP_1_PORT_777_SCTP', 'sctp://1.2.3.4:777'],
      ['SCTP_1_PORT_777_SCTP_PROTO', 'sctp'],
      ['SCTP_1_PORT_777_SCTP_PORT', '777'],
      ['SCTP_1_PORT_777_SCTP_ADDR', '1.2.3.4'],
    ]);
  });

  it('defaults the protocol to TCP', () => {
    expect(Object.fromEntries(fromServices([svc('web', '10.0.0.3', [{ port: 80 }])]))).toMatchObject({
      WEB_PORT: 'tcp://10.0.0.3:80',
      WEB_PORT_80_TCP_PROTO: 'tcp',
    });
  });
});

describe('the Services a pod sees (kubelet getServiceEnvVarMap)', () => {
  const kubernetes = svc('kubernetes', '10.96.0.1', [{ name: 'https', port: 443 }], 'default');
  const inDefault = [kubernetes, svc('web', '10.96.0.9', [{ port: 80 }], 'default')];
  const inNamespace = [svc('db', '10.96.0.5', [{ port: 5432 }]), svc('headless', 'None', [{ port: 1 }])];

  it('always has the master kubernetes Service, and the namespace’s own with service links', () => {
    const m = serviceEnvVarMap('ns', true, { inNamespace, inDefault });
    expect(m).toMatchObject({
      KUBERNETES_SERVICE_HOST: '10.96.0.1',
      KUBERNETES_SERVICE_PORT: '443',
      KUBERNETES_SERVICE_PORT_HTTPS: '443',
      KUBERNETES_PORT: 'tcp://10.96.0.1:443',
      DB_SERVICE_HOST: '10.96.0.5',
    });
    // Other namespaces' Services (web in default) and headless ones are not seen.
    expect(Object.keys(m).some((k) => k.startsWith('WEB_') || k.startsWith('HEADLESS_'))).toBe(false);
  });

  it('without service links has only the master Service', () => {
    const m = serviceEnvVarMap('ns', false, { inNamespace, inDefault });
    expect(Object.keys(m).every((k) => k.startsWith('KUBERNETES_'))).toBe(true);
    expect(m.KUBERNETES_SERVICE_HOST).toBe('10.96.0.1');
  });

  it('in default sees its Services once, the master one included', () => {
    const m = serviceEnvVarMap('default', true, { inNamespace: [], inDefault });
    expect(m.KUBERNETES_SERVICE_HOST).toBe('10.96.0.1');
    expect(m.WEB_SERVICE_HOST).toBe('10.96.0.9');
    expect(Object.keys(m).length).toBe(new Set(Object.keys(m)).size);
  });

  it('lets a namespace Service named kubernetes replace the master one, as upstream’s map does', () => {
    const own = [svc('kubernetes', '10.96.7.7', [{ port: 8443 }])];
    expect(serviceEnvVarMap('ns', true, { inNamespace: own, inDefault }).KUBERNETES_SERVICE_HOST).toBe(
      '10.96.7.7',
    );
  });

  it('points the kubernetes variables at the agent-given endpoint when there is one', () => {
    const m = serviceEnvVarMap('ns', false, { inNamespace, inDefault }, { host: '172.17.0.1', port: 6443 });
    expect(m).toEqual({
      KUBERNETES_SERVICE_HOST: '172.17.0.1',
      KUBERNETES_SERVICE_PORT: '6443',
      KUBERNETES_SERVICE_PORT_HTTPS: '6443',
      KUBERNETES_PORT: 'tcp://172.17.0.1:6443',
      KUBERNETES_PORT_6443_TCP: 'tcp://172.17.0.1:6443',
      KUBERNETES_PORT_6443_TCP_PROTO: 'tcp',
      KUBERNETES_PORT_6443_TCP_PORT: '6443',
      KUBERNETES_PORT_6443_TCP_ADDR: '172.17.0.1',
    });
  });
});
