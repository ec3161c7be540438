import packet from 'dns-packet';

import {
  decodeQuery,
  EDNS_UDP_SIZE,
  encodeResponse,
  errorResponse,
  FormatError,
  peekId,
  type Query,
  type Question,
  RCODE,
  type ResourceRecord,
  type Response,
  UDP_LIMIT,
} from './codec.js';
import { type ClusterZone } from './records.js';
import { type Forwarder, type Transport } from './upstream.js';

/** How many ExternalName CNAMEs are followed before giving up (CoreDNS' `maxCnameChaseDepth` is 10). */
const MAX_CNAME_CHASE = 8;

export interface ResolverHooks {
  /** Told of each failure a client sees as SERVFAIL or FORMERR (logged by the server). */
  onTrouble?: (what: string, e: Error) => void;
  /** Told each answered query: its type, rcode, whether the upstream answered it, and how it came (metrics). */
  onAnswered?: (type: string, rcode: number, forwarded: boolean, transport: Transport) => void;
}

/**
 * One query in, one response out: the cluster zone answers what is its own, the upstream
 * resolvers the rest (CoreDNS' default Corefile: `kubernetes cluster.local in-addr.arpa
 * ip6.arpa { fallthrough in-addr.arpa ip6.arpa }` then `forward . /etc/resolv.conf`).
 */
export class DnsResolver {
  constructor(
    private readonly zone: () => ClusterZone,
    private readonly upstream: Forwarder,
    private readonly hooks: ResolverHooks = {},
  ) {}

  async handle(raw: Buffer, transport: Transport): Promise<Buffer | undefined> {
    let query: Query;
    try {
      query = decodeQuery(raw);
    } catch (e) {
      this.hooks.onTrouble?.('undecodable query', e as Error);
      const id = peekId(raw);
      // Nothing to answer to without even an id (RFC 1035 leaves garbage unanswered).
      if (id === undefined || !(e instanceof FormatError)) return undefined;
      return encodeResponse(errorResponse({ id, flags: 0, questions: [] }, RCODE.FORMERR));
    }
    const limit = transport === 'tcp' ? undefined : Math.min(query.ednsUdpSize ?? UDP_LIMIT, EDNS_UDP_SIZE);
    const type = query.questions[0]?.type ?? '';
    try {
      const response = await this.respond(query, raw, transport);
      if (Buffer.isBuffer(response)) return response;
      const encoded = encodeResponse(
        query.ednsUdpSize !== undefined ? { ...response, ednsUdpSize: EDNS_UDP_SIZE } : response,
        limit,
      );
      this.hooks.onAnswered?.(type, response.rcode, false, transport);
      return encoded;
    } catch (e) {
      // An answer that cannot be written (an ExternalName with an over-long label...) is the server's failure.
      this.hooks.onTrouble?.(`answering ${query.questions[0]?.name ?? '(no question)'}`, e as Error);
      this.hooks.onAnswered?.(type, RCODE.SERVFAIL, false, transport);
      return encodeResponse(errorResponse(query, RCODE.SERVFAIL));
    }
  }

  private async respond(query: Query, raw: Buffer, transport: Transport): Promise<Response | Buffer> {
    if (query.opcode !== 'QUERY') return errorResponse(query, RCODE.NOTIMP);
    // Every resolver in use sends one question; more is unanswerable in one rcode (RFC 9619).
    if (query.questions.length !== 1) return errorResponse(query, RCODE.FORMERR);
    const [question] = query.questions;
    const zone = this.zone();
    const resolution = zone.resolve(question);
    if (resolution.kind === 'forward') {
      try {
        const answer = await this.upstream.forward(raw, transport);
        this.hooks.onAnswered?.(question.type, answer.length >= 4 ? answer[3] & 0xf : 0, true, transport);
        return answer;
      } catch (e) {
        this.hooks.onTrouble?.(`forwarding ${question.name} ${question.type}`, e as Error);
        return errorResponse(query, RCODE.SERVFAIL);
      }
    }
    const base: Response = {
      id: query.id,
      authoritative: true,
      recursionDesired: (query.flags & packet.RECURSION_DESIRED) !== 0,
      rcode: resolution.rcode,
      questions: query.questions,
      answers: resolution.answers,
      authorities: resolution.authorities,
      additionals: resolution.additionals,
    };
    if (resolution.chase === undefined) return base;
    const chased = await this.chase(zone, resolution.chase, question, transport, 1);
    return {
      ...base,
      rcode: chased.rcode,
      answers: [...base.answers, ...chased.answers],
      authorities: chased.answers.length ? [] : chased.authorities,
    };
  }

  /**
   * An ExternalName's target, resolved for the question's type: in the zone by the zone itself,
   * elsewhere by the upstream (CoreDNS resolves it through its `upstream` lookups). A target that
   * cannot be resolved leaves the CNAME alone in the answer, which the client then follows itself.
   */
  private async chase(
    zone: ClusterZone,
    target: string,
    original: Question,
    transport: Transport,
    depth: number,
  ): Promise<{ rcode: number; answers: ResourceRecord[]; authorities: ResourceRecord[] }> {
    const question: Question = { ...original, name: target };
    const resolution = zone.resolve(question);
    if (resolution.kind === 'answer') {
      if (resolution.chase !== undefined && depth < MAX_CNAME_CHASE) {
        const next = await this.chase(zone, resolution.chase, original, transport, depth + 1);
        return { ...next, answers: [...resolution.answers, ...next.answers] };
      }
      return resolution;
    }
    try {
      const id = Math.floor(Math.random() * 0x10000);
      const raw = packet.encode({
        type: 'query',
        id,
        flags: packet.RECURSION_DESIRED,
        questions: [{ name: target, type: original.type as packet.RecordType, class: 'IN' }],
      });
      const answer = packet.decode(await this.upstream.forward(raw, transport));
      const records = (answer.answers ?? []).flatMap((a) => upstreamRecord(a));
      return { rcode: RCODE.NOERROR, answers: records, authorities: [] };
    } catch (e) {
      this.hooks.onTrouble?.(`resolving the ExternalName target ${target}`, e as Error);
      return { rcode: RCODE.NOERROR, answers: [], authorities: [] };
    }
  }
}

/** The upstream's records this server can pass on (the address and alias types a CNAME chase yields). */
function upstreamRecord(a: packet.Answer): ResourceRecord[] {
  const ttl = 'ttl' in a && typeof a.ttl === 'number' ? a.ttl : 0;
  switch (a.type) {
    case 'A':
    case 'AAAA':
    case 'CNAME':
      return [{ name: a.name, type: a.type, ttl, data: a.data }];
    default:
      return [];
  }
}
