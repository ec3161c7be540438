import { createRequire } from 'node:module';
import { isIPv4, isIPv6 } from 'node:net';

import packet from 'dns-packet';

/**
 * The DNS wire format, pure: queries are decoded by dns-packet; responses are encoded here
 * because dns-packet writes every name in full, and a server's answers repeat the question's
 * name in every record (RFC 1035 §4.1.4 compression keeps a headless Service's answer small
 * enough for 512-byte UDP). Only the message layout is written here: the type table and the
 * address bytes are dns-packet's.
 */

export interface SrvData {
  priority: number;
  weight: number;
  port: number;
  target: string;
}

export interface SoaData {
  mname: string;
  rname: string;
  serial: number;
  refresh: number;
  retry: number;
  expire: number;
  minimum: number;
}

export type ResourceRecord =
  | { name: string; type: 'A' | 'AAAA' | 'CNAME' | 'PTR' | 'NS'; ttl: number; data: string }
  | { name: string; type: 'SRV'; ttl: number; data: SrvData }
  | { name: string; type: 'TXT'; ttl: number; data: string[] }
  | { name: string; type: 'SOA'; ttl: number; data: SoaData };

export interface Question {
  name: string;
  /** The type's mnemonic as dns-packet names it (`A`, `SRV`, `UNKNOWN_65`, ...). */
  type: string;
  class: string;
}

/** What the server reads from a query. */
export interface Query {
  id: number;
  /** The raw header flags (RD and CD are echoed back). */
  flags: number;
  opcode: string;
  questions: Question[];
  /** The EDNS0 OPT record's advertised UDP payload size, when the query carries one. */
  ednsUdpSize?: number;
}

export const RCODE = { NOERROR: 0, FORMERR: 1, SERVFAIL: 2, NXDOMAIN: 3, NOTIMP: 4, REFUSED: 5 } as const;

export interface Response {
  id: number;
  /** Authoritative for the cluster zone; not for forwarded or synthesized answers. */
  authoritative: boolean;
  recursionDesired: boolean;
  rcode: number;
  questions: Question[];
  answers: ResourceRecord[];
  authorities: ResourceRecord[];
  additionals: ResourceRecord[];
  /** Echo an OPT record (the query had one) advertising this payload size. */
  ednsUdpSize?: number;
}

/** Plain DNS over UDP without EDNS0 (RFC 1035 §4.2.1). */
export const UDP_LIMIT = 512;
/** What this server advertises and accepts at most over UDP with EDNS0 (the DNS flag day 2020 value). */
export const EDNS_UDP_SIZE = 1232;

const CLASS_IN = 1;
const TYPE_OPT = 41;

export class FormatError extends Error {
  override name = 'FormatError';
}

/** Decodes a query; a packet that is not one is a FormatError (the server answers FORMERR if it can). */
export function decodeQuery(buf: Buffer): Query {
  let decoded: packet.DecodedPacket;
  try {
    decoded = packet.decode(buf);
  } catch (e) {
    throw new FormatError(`undecodable DNS message of ${buf.length} bytes: ${(e as Error).message}`, {
      cause: e,
    });
  }
  if (decoded.type !== 'query') throw new FormatError('a response where a query was expected');
  const opt = decoded.additionals?.find((a): a is packet.OptAnswer => a.type === 'OPT');
  const opcode = (decoded as unknown as { opcode?: string }).opcode ?? 'QUERY';
  return {
    id: decoded.id ?? 0,
    flags: decoded.flags ?? 0,
    opcode,
    questions: (decoded.questions ?? []).map((q) => ({
      name: q.name,
      type: q.type,
      class: q.class ?? 'IN',
    })),
    ...(opt ? { ednsUdpSize: Math.max(UDP_LIMIT, opt.udpPayloadSize) } : {}),
  };
}

/** The query's id, when even that much can be read (to answer FORMERR). */
export function peekId(buf: Buffer): number | undefined {
  return buf.length >= 2 ? buf.readUInt16BE(0) : undefined;
}

/** A bare error answer to a query (FORMERR, SERVFAIL, NOTIMP...), echoing its question. */
export function errorResponse(query: Pick<Query, 'id' | 'flags' | 'questions'>, rcode: number): Response {
  return {
    id: query.id,
    authoritative: false,
    recursionDesired: (query.flags & packet.RECURSION_DESIRED) !== 0,
    rcode,
    questions: query.questions,
    answers: [],
    authorities: [],
    additionals: [],
  };
}

/** Prefixes a message with its two-byte length, as DNS over TCP frames them (RFC 1035 §4.2.2). */
export function frameForTcp(message: Buffer): Buffer {
  const out = Buffer.allocUnsafe(message.length + 2);
  out.writeUInt16BE(message.length, 0);
  message.copy(out, 2);
  return out;
}

/** Splits complete length-prefixed messages off the front of a TCP stream's buffer. */
export function splitTcpFrames(buf: Buffer): { messages: Buffer[]; rest: Buffer } {
  const messages: Buffer[] = [];
  let offset = 0;
  while (buf.length - offset >= 2) {
    const length = buf.readUInt16BE(offset);
    if (buf.length - offset - 2 < length) break;
    messages.push(buf.subarray(offset + 2, offset + 2 + length));
    offset += 2 + length;
  }
  return { messages, rest: buf.subarray(offset) };
}

class Writer {
  private buf = Buffer.alloc(4096);
  offset = 0;
  /** Lower-cased name suffix → where it was first written (a pointer target below 0x4000). */
  private readonly names = new Map<string, number>();

  bytes(): Buffer {
    return this.buf.subarray(0, this.offset);
  }

  private room(n: number): void {
    if (this.offset + n <= this.buf.length) return;
    const bigger = Buffer.alloc(Math.max(this.buf.length * 2, this.offset + n));
    this.buf.copy(bigger);
    this.buf = bigger;
  }

  u8(v: number): void {
    this.room(1);
    this.buf.writeUInt8(v, this.offset);
    this.offset += 1;
  }

  u16(v: number): void {
    this.room(2);
    this.buf.writeUInt16BE(v, this.offset);
    this.offset += 2;
  }

  u32(v: number): void {
    this.room(4);
    this.buf.writeUInt32BE(v >>> 0, this.offset);
    this.offset += 4;
  }

  raw(b: Buffer): void {
    this.room(b.length);
    b.copy(this.buf, this.offset);
    this.offset += b.length;
  }

  setU16(at: number, v: number): void {
    this.buf.writeUInt16BE(v, at);
  }

  getU16(at: number): number {
    return this.buf.readUInt16BE(at);
  }

  /** A domain name; suffixes written before become pointers unless `compress` is false (SRV targets). */
  name(name: string, compress = true): void {
    const labels = splitName(name);
    for (let i = 0; i < labels.length; i++) {
      const suffix = labels.slice(i).join('.').toLowerCase();
      const at = this.names.get(suffix);
      if (compress && at !== undefined) {
        this.u16(0xc000 | at);
        return;
      }
      if (this.offset < 0x4000) this.names.set(suffix, this.offset);
      const label = Buffer.from(labels[i], 'utf8');
      if (label.length === 0 || label.length > 63)
        throw new RangeError(`DNS label ${JSON.stringify(labels[i])} of ${name}: 1 to 63 bytes`);
      this.u8(label.length);
      this.raw(label);
    }
    this.u8(0);
  }
}

function splitName(name: string): string[] {
  const trimmed = name.endsWith('.') ? name.slice(0, -1) : name;
  return trimmed === '' ? [] : trimmed.split('.');
}

/** The OPT pseudo-record's size: the root name, type, class, TTL and an empty rdata. */
const OPT_SIZE = 11;

/**
 * Encodes a response, compressing names. With `limit` (UDP), the records that do not fit are
 * left off the end and TC is set, so the client retries over TCP (RFC 2181 §9; CoreDNS
 * truncates the same way in its `Scrub`).
 */
export function encodeResponse(r: Response, limit?: number): Buffer {
  const w = new Writer();
  w.u16(r.id);
  const flagsAt = w.offset;
  w.u16(
    0x8000 | // QR: a response
      (r.authoritative ? packet.AUTHORITATIVE_ANSWER : 0) |
      (r.recursionDesired ? packet.RECURSION_DESIRED : 0) |
      packet.RECURSION_AVAILABLE |
      (r.rcode & 0xf),
  );
  w.u16(r.questions.length);
  const countsAt = w.offset;
  const opt = r.ednsUdpSize !== undefined ? 1 : 0;
  w.u16(r.answers.length);
  w.u16(r.authorities.length);
  w.u16(r.additionals.length + opt);
  for (const q of r.questions) {
    w.name(q.name);
    w.u16(typeCodes.toType(q.type));
    w.u16(q.class === 'IN' ? CLASS_IN : classCode(q.class));
  }
  const ends = [w.offset];
  for (const rr of [...r.answers, ...r.authorities, ...r.additionals]) {
    writeRecord(w, rr);
    ends.push(w.offset);
  }
  const optSize = opt * OPT_SIZE;
  if (limit !== undefined && w.offset + optSize > limit) {
    // Compression only points backwards, so the first records of the message are encoded the
    // same whatever follows: keep the most that fit, in one pass.
    let kept = ends.length - 1;
    while (kept > 0 && ends[kept] + optSize > limit) kept--;
    w.offset = ends[kept];
    const answers = Math.min(kept, r.answers.length);
    const authorities = Math.min(kept - answers, r.authorities.length);
    w.setU16(flagsAt, w.getU16(flagsAt) | packet.TRUNCATED_RESPONSE);
    w.setU16(countsAt, answers);
    w.setU16(countsAt + 2, authorities);
    w.setU16(countsAt + 4, kept - answers - authorities + opt);
  }
  if (opt) {
    w.u8(0); // the root name
    w.u16(TYPE_OPT);
    w.u16(r.ednsUdpSize!); // the class field carries the payload size
    w.u32(0); // extended rcode, version 0, no flags
    w.u16(0); // no options
  }
  return Buffer.from(w.bytes());
}

function writeRecord(w: Writer, rr: ResourceRecord): void {
  w.name(rr.name);
  w.u16(typeCodes.toType(rr.type));
  w.u16(CLASS_IN);
  w.u32(rr.ttl);
  const lengthAt = w.offset;
  w.u16(0);
  const start = w.offset;
  switch (rr.type) {
    case 'A':
    case 'AAAA':
      w.raw(ipBytes(rr.data));
      break;
    case 'CNAME':
    case 'PTR':
    case 'NS':
      w.name(rr.data);
      break;
    case 'SRV':
      w.u16(rr.data.priority);
      w.u16(rr.data.weight);
      w.u16(rr.data.port);
      // RFC 2782: "name compression is not to be used for this field".
      w.name(rr.data.target, false);
      break;
    case 'TXT':
      for (const text of rr.data) {
        const bytes = Buffer.from(text, 'utf8');
        if (bytes.length > 255) throw new RangeError(`TXT string of ${bytes.length} bytes: at most 255`);
        w.u8(bytes.length);
        w.raw(bytes);
      }
      break;
    case 'SOA':
      w.name(rr.data.mname);
      w.name(rr.data.rname);
      w.u32(rr.data.serial);
      w.u32(rr.data.refresh);
      w.u32(rr.data.retry);
      w.u32(rr.data.expire);
      w.u32(rr.data.minimum);
      break;
  }
  w.setU16(lengthAt, w.offset - start);
}

/**
 * An address's network-order bytes: 4 for IPv4, 16 for IPv6. dns-packet's A and AAAA encoders
 * write them (after a two-byte rdlength); they write any string without complaint, so it is
 * checked to be an address first.
 */
export function ipBytes(ip: string): Buffer {
  const type = isIPv4(ip) ? 'A' : isIPv6(ip) ? 'AAAA' : undefined;
  if (type === undefined) throw new RangeError(`${JSON.stringify(ip)} is not an IP address`);
  return rdataCodecs.record(type).encode(ip).subarray(2);
}

function classCode(klass: string): number {
  const unknown = /^UNKNOWN_(\d+)$/.exec(klass);
  if (unknown) return Number(unknown[1]);
  return { IN: 1, CS: 2, CH: 3, HS: 4, ANY: 255 }[klass] ?? CLASS_IN;
}

/**
 * dns-packet's type table, which also reads back the `UNKNOWN_<n>` names it decodes types it
 * does not know as (it ships with the package but not in its type declarations).
 */
const typeCodes = createRequire(import.meta.url)('dns-packet/types.js') as { toType(name: string): number };

/** dns-packet's per-type record data encoders (exported by the package, missing from its type declarations). */
const rdataCodecs = packet as unknown as { record(type: 'A' | 'AAAA'): { encode(data: string): Buffer } };
