import { describe, expect, it } from '@jest/globals';

import { bySliceService } from '@app/client';

import { type EndpointSlice, type Service } from './api-types.js';
import { DEFAULT_AFFINITY_TIMEOUT_SECONDS, desiredServicePorts } from './service-ports.js';

const svc = (name: string, spec: Service['spec'], status?: Service['status']): Service => ({
  metadata: { namespace: 'ns', name },
  spec,
  ...(status ? { status } : {}),
});
type SliceEndpoint = NonNullable<EndpointSlice['endpoints']>[number];
const slice = (
  service: string,
  endpoints: SliceEndpoint[],
  ports: EndpointSlice['ports'],
): EndpointSlice => ({
  metadata: { namespace: 'ns', name: `${service}-x`, labels: { 'kubernetes.io/service-name': service } },
  addressType: 'IPv4',
  endpoints,
  ports,
});
const at = (
  ip: string,
  conditions: SliceEndpoint['conditions'] = { ready: true },
  nodeName?: string,
): SliceEndpoint => ({
  addresses: [ip],
  conditions,
  ...(nodeName ? { nodeName } : {}),
});
const slicesFrom = (slices: EndpointSlice[]) => (ns: string, name: string) =>
  slices.filter((s) => bySliceService(s)[0] === `${ns}/${name}`);

describe('desiredServicePorts', () => {
  it('joins slices to service ports by name and protocol, with upstream’s reading of the conditions', () => {
    const web = svc('web', {
      clusterIP: '10.96.0.20',
      ports: [
        { name: 'http', port: 80, protocol: 'TCP', targetPort: 8080 },
        { name: 'dns', port: 53, protocol: 'UDP', targetPort: 5353 },
      ],
    });
    const slices = [
      slice(
        'web',
        [
          at('172.17.0.2'),
          at('172.17.0.3', {}), // no conditions: ready
          at('172.17.0.4', { ready: false }), // readiness probe failing
          at('172.17.0.5', { ready: false, serving: true, terminating: true }),
        ],
        [
          { name: 'http', port: 8080, protocol: 'TCP' },
          { name: 'dns', port: 5353, protocol: 'UDP' },
        ],
      ),
      slice('other', [at('172.17.0.9')], [{ name: 'http', port: 1, protocol: 'TCP' }]),
    ];
    const [dns, http] = desiredServicePorts([web], slicesFrom(slices));
    expect(http).toMatchObject({
      key: 'ns/web:http',
      protocol: 'TCP',
      clusterIPs: ['10.96.0.20'],
      port: 80,
      loadBalancerIPs: [],
      clusterEndpoints: [
        { ip: '172.17.0.2', port: 8080 },
        { ip: '172.17.0.3', port: 8080 },
      ],
    });
    expect(http!.externalEndpoints).toEqual(http!.clusterEndpoints);
    expect(http!.nodePort).toBeUndefined();
    expect(http!.affinityTimeoutSeconds).toBeUndefined();
    expect(dns).toMatchObject({ key: 'ns/web:dns', protocol: 'UDP', port: 53 });
    expect(dns!.clusterEndpoints.map((e) => e.port)).toEqual([5353, 5353]);
  });

  it('falls back to serving terminating endpoints when none is ready (CategorizeEndpoints)', () => {
    const s = svc('web', { clusterIP: '10.96.0.20', ports: [{ port: 80 }] });
    const slices = [
      slice(
        'web',
        [
          at('172.17.0.4', { ready: false }),
          at('172.17.0.5', { ready: false, serving: true, terminating: true }),
        ],
        [{ port: 8080 }],
      ),
    ];
    const [p] = desiredServicePorts([s], slicesFrom(slices));
    expect(p!.key).toBe('ns/web:');
    expect(p!.clusterEndpoints).toEqual([{ ip: '172.17.0.5', port: 8080 }]);
  });

  it('serves nothing for headless and ExternalName Services, or IPv6-only ones', () => {
    const services = [
      svc('headless', { clusterIP: 'None', ports: [{ port: 80 }] }),
      svc('ext', { type: 'ExternalName', externalName: 'example.com' }),
      svc('v6', { clusterIP: 'fd00::1', ports: [{ port: 80 }] }),
    ];
    expect(desiredServicePorts(services, () => [])).toEqual([]);
  });

  it('NodePort and LoadBalancer: the node port, the ingress IPs and the Local policies', () => {
    const lb = svc(
      'lb',
      {
        type: 'LoadBalancer',
        clusterIP: '10.96.0.30',
        externalTrafficPolicy: 'Local',
        sessionAffinity: 'ClientIP',
        ports: [{ name: 'http', port: 80, nodePort: 30080 }],
      },
      { loadBalancer: { ingress: [{ ip: '127.0.0.1' }, { hostname: 'lb.example' }] } },
    );
    const slices = [
      slice(
        'lb',
        [at('172.17.0.2', { ready: true }, 'here'), at('172.17.0.3', { ready: true }, 'there')],
        [{ name: 'http', port: 8080 }],
      ),
    ];
    const [p] = desiredServicePorts([lb], slicesFrom(slices), { nodeName: 'here' });
    expect(p).toMatchObject({
      nodePort: 30080,
      loadBalancerIPs: ['127.0.0.1'],
      affinityTimeoutSeconds: DEFAULT_AFFINITY_TIMEOUT_SECONDS,
    });
    expect(p!.clusterEndpoints.map((e) => e.ip)).toEqual(['172.17.0.2', '172.17.0.3']);
    expect(p!.externalEndpoints).toEqual([{ ip: '172.17.0.2', port: 8080, nodeName: 'here' }]);
  });

  it('internalTrafficPolicy Local keeps ClusterIP traffic on this node; a ClusterIP Service has no node port', () => {
    const s = svc('web', {
      clusterIP: '10.96.0.20',
      internalTrafficPolicy: 'Local',
      sessionAffinity: 'ClientIP',
      sessionAffinityConfig: { clientIP: { timeoutSeconds: 30 } },
      ports: [{ port: 80, nodePort: 30001 }],
    });
    const slices = [slice('web', [at('172.17.0.2', { ready: true }, 'there')], [{ port: 8080 }])];
    const [p] = desiredServicePorts([s], slicesFrom(slices), { nodeName: 'here' });
    expect(p!.clusterEndpoints).toEqual([]);
    expect(p!.externalEndpoints).toHaveLength(1);
    expect(p!.nodePort).toBeUndefined();
    expect(p!.affinityTimeoutSeconds).toBe(30);
  });

  it('local backends replace a Service’s endpoints, by port name or number', () => {
    const dns = {
      metadata: { namespace: 'kube-system', name: 'kube-dns' },
      spec: {
        clusterIP: '10.96.0.10',
        ports: [
          { name: 'dns', port: 53, protocol: 'UDP' },
          { name: 'dns-tcp', port: 53, protocol: 'TCP' },
          { port: 9153, protocol: 'TCP' },
        ],
      },
    } as Service;
    const ports = desiredServicePorts([dns], () => [], {
      localBackends: {
        'kube-system/kube-dns': {
          dns: { host: '172.17.0.1', port: 5300 },
          'dns-tcp': { host: '172.17.0.1', port: 5301 },
          '9153': { host: '127.0.0.1', port: 9999 },
        },
      },
    });
    expect(ports.map((p) => [p.key, p.protocol, p.clusterEndpoints])).toEqual([
      ['kube-system/kube-dns:', 'TCP', [{ ip: '127.0.0.1', port: 9999 }]],
      ['kube-system/kube-dns:dns', 'UDP', [{ ip: '172.17.0.1', port: 5300 }]],
      ['kube-system/kube-dns:dns-tcp', 'TCP', [{ ip: '172.17.0.1', port: 5301 }]],
    ]);
    // Flagged so iptables mode keeps them on the proxy port rather than DNATing to the listener.
    expect(ports.every((p) => p.localBackend === true)).toBe(true);
  });
});
