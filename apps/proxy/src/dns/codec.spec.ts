import { describe, expect, it } from '@jest/globals';
import packet from 'dns-packet';

import {
  decodeQuery,
  encodeResponse,
  FormatError,
  frameForTcp,
  ipBytes,
  RCODE,
  type ResourceRecord,
  type Response,
  splitTcpFrames,
} from './codec.js';

const q = { name: 'web.default.svc.cluster.local', type: 'A' as const, class: 'IN' as const };

function response(over: Partial<Response> = {}): Response {
  return {
    id: 4321,
    authoritative: true,
    recursionDesired: true,
    rcode: RCODE.NOERROR,
    questions: [q],
    answers: [],
    authorities: [],
    additionals: [],
    ...over,
  };
}

const soa: ResourceRecord = {
  name: 'cluster.local',
  type: 'SOA',
  ttl: 5,
  data: {
    mname: 'ns.dns.cluster.local',
    rname: 'hostmaster.cluster.local',
    serial: 1700000000,
    refresh: 7200,
    retry: 1800,
    expire: 86400,
    minimum: 5,
  },
};

describe('DNS codec', () => {
  it('decodes a query with its id, flags, question and EDNS payload size', () => {
    const raw = packet.encode({
      type: 'query',
      id: 77,
      flags: packet.RECURSION_DESIRED,
      questions: [{ name: 'Web.Default.svc.cluster.local', type: 'SRV', class: 'IN' }],
      additionals: [
        {
          type: 'OPT',
          name: '.',
          udpPayloadSize: 4096,
          extendedRcode: 0,
          ednsVersion: 0,
          flags: 0,
          flag_do: false,
          options: [],
        },
      ],
    });
    expect(decodeQuery(raw)).toEqual({
      id: 77,
      flags: packet.RECURSION_DESIRED,
      opcode: 'QUERY',
      questions: [{ name: 'Web.Default.svc.cluster.local', type: 'SRV', class: 'IN' }],
      ednsUdpSize: 4096,
    });
  });

  it('refuses garbage and responses as a FormatError', () => {
    expect(() => decodeQuery(Buffer.from([1, 2, 3]))).toThrow(FormatError);
    const answer = packet.encode({ type: 'response', id: 1, questions: [q] });
    expect(() => decodeQuery(answer)).toThrow(FormatError);
  });

  it('round-trips every record type it writes, as dns-packet reads them back', () => {
    const answers: ResourceRecord[] = [
      { name: q.name, type: 'A', ttl: 5, data: '10.96.0.12' },
      { name: q.name, type: 'AAAA', ttl: 5, data: 'fd00::1:2' },
      { name: q.name, type: 'CNAME', ttl: 5, data: 'example.com' },
      { name: '12.0.96.10.in-addr.arpa', type: 'PTR', ttl: 5, data: 'web.default.svc.cluster.local' },
      {
        name: `_http._tcp.${q.name}`,
        type: 'SRV',
        ttl: 5,
        data: { priority: 0, weight: 100, port: 80, target: q.name },
      },
      { name: 'dns-version.cluster.local', type: 'TXT', ttl: 5, data: ['1.1.0'] },
    ];
    const decoded = packet.decode(encodeResponse(response({ answers, authorities: [soa] })));
    expect(decoded).toMatchObject({
      id: 4321,
      type: 'response',
      flag_aa: true,
      flag_rd: true,
      flag_ra: true,
      flag_tc: false,
      rcode: 'NOERROR',
      questions: [q],
    });
    expect(decoded.answers!.map((a) => [a.name, a.type, 'data' in a ? a.data : undefined])).toEqual([
      [q.name, 'A', '10.96.0.12'],
      [q.name, 'AAAA', 'fd00::1:2'],
      [q.name, 'CNAME', 'example.com'],
      ['12.0.96.10.in-addr.arpa', 'PTR', 'web.default.svc.cluster.local'],
      [`_http._tcp.${q.name}`, 'SRV', { priority: 0, weight: 100, port: 80, target: q.name }],
      ['dns-version.cluster.local', 'TXT', [Buffer.from('1.1.0')]],
    ]);
    expect(decoded.answers!.every((a) => (a as { ttl: number }).ttl === 5)).toBe(true);
    expect(decoded.authorities).toMatchObject([{ name: 'cluster.local', type: 'SOA', data: soa.data }]);
  });

  it('sets the rcode and compresses repeated names with pointers', () => {
    const nx = packet.decode(encodeResponse(response({ rcode: RCODE.NXDOMAIN, authorities: [soa] })));
    expect((nx as unknown as { rcode: string }).rcode).toBe('NXDOMAIN');
    const answers: ResourceRecord[] = Array.from({ length: 10 }, (_, i) => ({
      name: q.name,
      type: 'A',
      ttl: 5,
      data: `172.17.0.${i + 2}`,
    }));
    const compressed = encodeResponse(response({ answers }));
    const plain = packet.encode({
      type: 'response',
      id: 4321,
      questions: [q],
      answers: answers.map((a) => ({ ...a, type: 'A' as const, data: a.data as string })),
    });
    // Each answer's owner name is a 2-byte pointer instead of the 31 bytes of the name.
    expect(compressed.length).toBe(plain.length - 10 * (q.name.length + 2 - 2));
    expect(packet.decode(compressed).answers!.map((a) => a.name)).toEqual(Array(10).fill(q.name));
  });

  it('truncates over the UDP limit, setting TC and keeping what fits', () => {
    const answers: ResourceRecord[] = Array.from({ length: 60 }, (_, i) => ({
      name: q.name,
      type: 'A',
      ttl: 5,
      data: `172.17.${Math.floor(i / 200)}.${(i % 200) + 2}`,
    }));
    const full = encodeResponse(response({ answers }));
    expect(full.length).toBeGreaterThan(512);
    const udp = encodeResponse(response({ answers }), 512);
    expect(udp.length).toBeLessThanOrEqual(512);
    const decoded = packet.decode(udp);
    expect(decoded.flag_tc).toBe(true);
    expect(decoded.answers!.length).toBeGreaterThan(0);
    expect(decoded.answers!.length).toBeLessThan(60);
    // What it keeps is the longest run of answers that fits, as they come.
    const kept = decoded.answers!.length;
    expect(decoded.answers!.map((a) => (a as packet.StringAnswer).data)).toEqual(
      answers.slice(0, kept).map((a) => a.data),
    );
    expect(encodeResponse(response({ answers: answers.slice(0, kept + 1) })).length).toBeGreaterThan(512);
    // With EDNS0 the OPT record stays, and the answers make room for it.
    const edns = packet.decode(encodeResponse(response({ answers, ednsUdpSize: 1232 }), 512));
    expect(edns.flag_tc).toBe(true);
    expect(edns.additionals).toMatchObject([{ type: 'OPT', udpPayloadSize: 1232 }]);
    expect(edns.answers!.length).toBeLessThan(kept);
    expect(packet.decode(encodeResponse(response({ answers }), 4096)).flag_tc).toBe(false);
  });

  it('echoes an OPT record when asked to', () => {
    const decoded = packet.decode(encodeResponse(response({ ednsUdpSize: 1232 })));
    expect(decoded.additionals).toMatchObject([{ type: 'OPT', name: '.', udpPayloadSize: 1232 }]);
  });

  it('frames TCP messages with a length prefix and splits a stream back into them', () => {
    const a = Buffer.from('first');
    const b = Buffer.from('second message');
    const stream = Buffer.concat([frameForTcp(a), frameForTcp(b)]);
    expect(frameForTcp(a).readUInt16BE(0)).toBe(5);
    const partial = splitTcpFrames(stream.subarray(0, stream.length - 3));
    expect(partial.messages.map(String)).toEqual(['first']);
    expect(partial.rest.length).toBe(2 + b.length - 3);
    expect(splitTcpFrames(stream).messages.map(String)).toEqual(['first', 'second message']);
  });

  it('writes IPv4 and IPv6 addresses as network-order bytes', () => {
    expect([...ipBytes('10.96.0.10')]).toEqual([10, 96, 0, 10]);
    expect(ipBytes('fd00::a').toString('hex')).toBe('fd00' + '0'.repeat(24) + '000a');
    expect(ipBytes('::ffff:1.2.3.4').toString('hex')).toBe('0'.repeat(20) + 'ffff01020304');
    expect(() => ipBytes('nope')).toThrow(RangeError);
  });
});
