import { describe, expect, it } from '@jest/globals';
import packet from 'dns-packet';

import { type Service, StaticClusterView } from './cluster-view.js';
import { ClusterZone } from './records.js';
import { DnsResolver } from './resolver.js';
import { type Forwarder, type Transport, UpstreamError } from './upstream.js';

const services = [
  { metadata: { name: 'web', namespace: 'default' }, spec: { clusterIP: '10.96.0.20' } },
  {
    metadata: { name: 'ext', namespace: 'default' },
    spec: { type: 'ExternalName', externalName: 'upstream.example' },
  },
  {
    metadata: { name: 'bad', namespace: 'default' },
    spec: { type: 'ExternalName', externalName: `${'x'.repeat(64)}.example` },
  },
  {
    metadata: { name: 'alias', namespace: 'default' },
    spec: { type: 'ExternalName', externalName: 'web.default.svc.cluster.local' },
  },
] as Service[];
const zone = () =>
  new ClusterZone(new StaticClusterView(services, [], ['default']), {
    domain: 'cluster.local',
    ttl: 5,
    serial: 1,
  });

/** An upstream that answers every A question with 192.0.2.1, or fails when told to. */
class FakeUpstream implements Forwarder {
  readonly seen: { name: string; transport: Transport }[] = [];
  constructor(private readonly fail = false) {}

  forward(query: Buffer, transport: Transport): Promise<Buffer> {
    const q = packet.decode(query);
    this.seen.push({ name: q.questions![0].name, transport });
    if (this.fail) return Promise.reject(new UpstreamError('unreachable'));
    return Promise.resolve(
      packet.encode({
        type: 'response',
        id: q.id,
        flags: packet.RECURSION_AVAILABLE,
        questions: q.questions,
        answers: [{ name: q.questions![0].name, type: 'A', ttl: 30, data: '192.0.2.1' }],
      }),
    );
  }
}

function query(name: string, type: packet.RecordType = 'A', id = 99): Buffer {
  return packet.encode({
    type: 'query',
    id,
    flags: packet.RECURSION_DESIRED,
    questions: [{ name, type, class: 'IN' }],
  });
}

describe('DnsResolver', () => {
  it('answers the cluster zone itself, authoritatively, echoing id and RD', async () => {
    const upstream = new FakeUpstream();
    const r = packet.decode(
      (await new DnsResolver(zone, upstream).handle(query('web.default.svc.cluster.local'), 'udp'))!,
    );
    expect(r).toMatchObject({ id: 99, flag_aa: true, flag_rd: true, rcode: 'NOERROR' });
    expect(r.answers).toMatchObject([{ type: 'A', data: '10.96.0.20' }]);
    expect(upstream.seen).toEqual([]);
  });

  it('forwards other names over the transport the client used, and SERVFAILs when the upstream fails', async () => {
    const upstream = new FakeUpstream();
    const r = packet.decode(
      (await new DnsResolver(zone, upstream).handle(query('example.org', 'A', 7), 'tcp'))!,
    );
    expect(r).toMatchObject({ id: 7, answers: [{ name: 'example.org', data: '192.0.2.1' }] });
    expect(upstream.seen).toEqual([{ name: 'example.org', transport: 'tcp' }]);
    const troubles: string[] = [];
    const failing = new DnsResolver(zone, new FakeUpstream(true), {
      onTrouble: (what) => troubles.push(what),
    });
    expect(packet.decode((await failing.handle(query('example.org'), 'udp'))!)).toMatchObject({
      id: 99,
      rcode: 'SERVFAIL',
    });
    expect(troubles).toEqual(['forwarding example.org A']);
  });

  it('chases an ExternalName target upstream, or inside the zone', async () => {
    const upstream = new FakeUpstream();
    const resolver = new DnsResolver(zone, upstream);
    const ext = packet.decode((await resolver.handle(query('ext.default.svc.cluster.local'), 'udp'))!);
    expect(ext.answers!.map((a) => [a.name, a.type, 'data' in a ? a.data : undefined])).toEqual([
      ['ext.default.svc.cluster.local', 'CNAME', 'upstream.example'],
      ['upstream.example', 'A', '192.0.2.1'],
    ]);
    const alias = packet.decode((await resolver.handle(query('alias.default.svc.cluster.local'), 'udp'))!);
    expect(alias.answers!.map((a) => [a.name, a.type, 'data' in a ? a.data : undefined])).toEqual([
      ['alias.default.svc.cluster.local', 'CNAME', 'web.default.svc.cluster.local'],
      ['web.default.svc.cluster.local', 'A', '10.96.0.20'],
    ]);
    expect(upstream.seen).toEqual([{ name: 'upstream.example', transport: 'udp' }]);
  });

  it('keeps the CNAME alone when the target cannot be resolved', async () => {
    const r = packet.decode(
      (await new DnsResolver(zone, new FakeUpstream(true)).handle(
        query('ext.default.svc.cluster.local'),
        'udp',
      ))!,
    );
    expect(r).toMatchObject({ rcode: 'NOERROR', answers: [{ type: 'CNAME', data: 'upstream.example' }] });
  });

  it('answers FORMERR to garbage with an id, nothing to less, and NOTIMP to other opcodes', async () => {
    const resolver = new DnsResolver(zone, new FakeUpstream(), { onTrouble: () => undefined });
    const formerr = await resolver.handle(Buffer.from([0x12, 0x34, 0xff]), 'udp');
    expect(packet.decode(formerr!)).toMatchObject({ id: 0x1234, rcode: 'FORMERR' });
    expect(await resolver.handle(Buffer.from([1]), 'udp')).toBeUndefined();
    const update = query('web.default.svc.cluster.local');
    update[2] |= 5 << 3; // opcode UPDATE
    expect(packet.decode((await resolver.handle(update, 'udp'))!)).toMatchObject({ rcode: 'NOTIMP' });
  });

  it('answers SERVFAIL when an answer cannot be written, and reports every answer', async () => {
    const troubles: string[] = [];
    const answered: unknown[] = [];
    const resolver = new DnsResolver(zone, new FakeUpstream(), {
      onTrouble: (what) => troubles.push(what),
      onAnswered: (...a) => answered.push(a),
    });
    const r = packet.decode((await resolver.handle(query('bad.default.svc.cluster.local', 'CNAME'), 'udp'))!);
    expect(r).toMatchObject({ id: 99, rcode: 'SERVFAIL', answers: [] });
    expect(troubles).toEqual(['answering bad.default.svc.cluster.local']);
    await resolver.handle(query('web.default.svc.cluster.local'), 'tcp');
    await resolver.handle(query('example.org'), 'udp');
    expect(answered).toEqual([
      ['CNAME', 2, false, 'udp'],
      ['A', 0, false, 'tcp'],
      ['A', 0, true, 'udp'],
    ]);
  });
});
