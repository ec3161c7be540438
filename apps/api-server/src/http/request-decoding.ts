import {
  decodeProtobufObject,
  duplicateFields,
  FieldValidation,
  isObject,
  parseFieldValidation,
  type StatusCause,
  StatusError,
} from '@app/api';
import { CAUSE_HEADER, FENCE_HEADER } from '@app/client';
import { type Actor, type LeaderFence } from '@app/event-store';
import { type FastifyRequest } from 'fastify';
import yaml from 'js-yaml';

import { type DeleteOptions, type PatchType } from '../objects/object-service.js';
import { type RequestContext } from '../objects/request-context.js';
import { bodyFormat } from './negotiation.js';

/** Each write request's field validation, for its warnings once the reply goes out. */
const texts = new WeakMap<FastifyRequest, string>();
const fieldValidations = new WeakMap<FastifyRequest, FieldValidation>();

/**
 * A response's warnings stop at about this many bytes (upstream truncates past 4Ki runes), so
 * a body with thousands of unknown fields cannot overflow a client's header limit (Node's is 16 KiB).
 */
const MAX_WARNINGS_BYTES = 4 * 1024;

/**
 * The request's `Warning` header values: `299 - "<text>"` per finding of Warn-mode field
 * validation, within the size bound, non-ASCII escaped (field names come from the client, and
 * a header may only carry Latin-1).
 */
export function warningHeaders(req: FastifyRequest): string[] {
  const out: string[] = [];
  let total = 0;
  for (const w of fieldValidations.get(req)?.warnings() ?? []) {
    const value = `299 - ${JSON.stringify(w).replace(/[\u007f-\uffff]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`)}`;
    total += value.length;
    if (total > MAX_WARNINGS_BYTES) break;
    out.push(value);
  }
  return out;
}

type Query = Record<string, string | undefined>;

/** Request bodies decoded by their Content-Type, within the size limit: objects, patches, DeleteOptions. */
export class RequestDecoder {
  /** An object to create or replace: JSON (also without a Content-Type), YAML or Kubernetes protobuf. */
  object(req: FastifyRequest): unknown {
    const format = bodyFormat(req.headers['content-type']);
    // kubectl ≥ 1.32 sends its generated objects as protobuf; they continue as the JSON Go would write.
    if (format?.kind === 'protobuf') return decodeProtobufObject(this.bytes(req));
    if (!format || (format.kind !== 'json' && format.kind !== 'yaml'))
      throw unsupportedMedia(req.headers['content-type']);
    return decode(this.text(req), format.kind === 'yaml');
  }

  /** A patch, or an apply configuration (`application/apply-patch+yaml`: YAML, of which JSON is a case). */
  patch(req: FastifyRequest): [PatchType | 'apply', unknown] {
    const format = bodyFormat(req.headers['content-type']);
    if (format?.kind === 'apply') return ['apply', decode(this.text(req), true)];
    if (!format || format.kind !== 'patch') throw unsupportedMedia(req.headers['content-type']);
    return [format.type, decode(this.text(req), false)];
  }

  /**
   * The write's `fieldValidation` mode (400 for an unknown one) with the duplicate keys of its
   * JSON body; YAML bodies with duplicate keys do not decode at all.
   */
  fieldValidation(req: FastifyRequest): FieldValidation {
    const mode = parseFieldValidation((req.query as Query).fieldValidation);
    const format = bodyFormat(req.headers['content-type']);
    const json = format?.kind === 'json' || format?.kind === 'patch';
    const validation = new FieldValidation(
      mode,
      mode !== 'Ignore' && json ? duplicateFields(this.text(req)) : [],
    );
    fieldValidations.set(req, validation);
    return validation;
  }

  /** DeleteOptions from the body (kubectl sends one) and the query, which wins. */
  deleteOptions(req: FastifyRequest): DeleteOptions {
    const q = req.query as Query;
    const text = this.text(req);
    const raw = text.trim() ? decode(text, false) : {};
    const options = isObject(raw) ? toDeleteOptions(raw) : {};
    if (q.gracePeriodSeconds !== undefined) options.gracePeriodSeconds = Number(q.gracePeriodSeconds);
    if (q.propagationPolicy !== undefined)
      options.propagationPolicy = q.propagationPolicy as DeleteOptions['propagationPolicy'];
    if (
      options.propagationPolicy &&
      !['Orphan', 'Background', 'Foreground'].includes(options.propagationPolicy)
    )
      throw StatusError.badRequest(
        `propagationPolicy: Unsupported value: ${JSON.stringify(options.propagationPolicy)}: supported values: "Foreground", "Background", "Orphan"`,
      );
    return options;
  }

  /** The body as text; invalid UTF-8 is refused, never silently replaced. */
  /** The body as text, decoded once per request (field validation and the decoder both read it). */
  private text(req: FastifyRequest): string {
    let text = texts.get(req);
    if (text === undefined) texts.set(req, (text = utf8(this.bytes(req))));
    return text;
  }

  /** The body as read within the limit (body-reading.ts refuses anything longer before this). */
  private bytes(req: FastifyRequest): Buffer {
    return req.body instanceof Buffer ? req.body : Buffer.alloc(0);
  }
}

/**
 * Who asks and why, from the authenticated actor and the request's headers. Read when a write
 * needs it, not for every request: reads never pay for the header parsing. The request id is
 * the one its log records carry (the caller's X-Request-Id, or one made on receipt).
 */
export function requestContext(req: FastifyRequest, actor: Actor): (verb: string) => RequestContext {
  let ctx: RequestContext | undefined;
  return () => {
    if (ctx) return ctx;
    const cause = req.headers[CAUSE_HEADER];
    const causeSeq = typeof cause === 'string' && /^\d+$/.test(cause) ? Number(cause) : undefined;
    const fence = parseFence(req.headers[FENCE_HEADER]);
    ctx = {
      actor,
      requestId: req.id,
      userAgent: req.headers['user-agent'],
      sourceIp: req.ip,
      ...(causeSeq !== undefined ? { cause: causeSeq } : {}),
      ...(fence ? { fence } : {}),
    };
    return ctx;
  };
}

/** `<namespace>/<lease name>@<leaseTransitions>`: the Lease whose term the write belongs to. */
export function parseFence(value: string | string[] | undefined): LeaderFence | undefined {
  if (value === undefined) return undefined;
  const m = typeof value === 'string' ? /^([a-z0-9.-]+)\/([a-z0-9.-]+)@(\d+)$/.exec(value.trim()) : null;
  if (!m)
    throw StatusError.badRequest(
      `invalid ${FENCE_HEADER} header ${JSON.stringify(value)}: want <namespace>/<lease>@<leaseTransitions>`,
    );
  return {
    lease: { group: 'coordination.k8s.io', resource: 'leases', namespace: m[1], name: m[2] },
    transitions: Number(m[3]),
  };
}

export function toDeleteOptions(raw: Record<string, unknown>): DeleteOptions {
  const o: DeleteOptions = {};
  if (typeof raw.gracePeriodSeconds === 'number') o.gracePeriodSeconds = raw.gracePeriodSeconds;
  if (typeof raw.propagationPolicy === 'string')
    o.propagationPolicy = raw.propagationPolicy as DeleteOptions['propagationPolicy'];
  if (raw.orphanDependents === true && !o.propagationPolicy) o.propagationPolicy = 'Orphan';
  if (isObject(raw.preconditions)) {
    const p = raw.preconditions;
    o.preconditions = {
      ...(typeof p.uid === 'string' ? { uid: p.uid } : {}),
      ...(typeof p.resourceVersion === 'string' ? { resourceVersion: p.resourceVersion } : {}),
    };
  }
  return o;
}

/** Longest fieldManager upstream accepts. */
const FIELD_MANAGER_MAX = 128;
/** Go's unicode.IsPrint: letters, marks, numbers, punctuation, symbols and the ASCII space. */
const PRINTABLE = /[\p{L}\p{M}\p{N}\p{P}\p{S} ]/u;

/**
 * The field manager a write is recorded under: the `fieldManager` parameter or, when absent,
 * the User-Agent's program name (upstream's prefixFromUserAgent). Apply requires one and alone
 * takes `force`; a bad one is an Invalid *Options, as upstream answers.
 */
export function parseFieldManager(
  q: Query,
  userAgent: string | undefined,
  verb: 'create' | 'update' | 'patch' | 'apply',
): { fieldManager: string; force?: boolean } {
  const options = verb === 'create' ? 'CreateOptions' : verb === 'update' ? 'UpdateOptions' : 'PatchOptions';
  const invalid = (field: string, reason: StatusCause['reason'], message: string) =>
    StatusError.invalid({ kind: options, group: 'meta.k8s.io', resource: options, name: '' }, [
      { reason, message, field },
    ]);
  const given = q.fieldManager ?? '';
  if (verb === 'apply' && given === '')
    throw invalid('fieldManager', 'FieldValueRequired', 'Required value: is required for apply patch');
  if (verb !== 'apply' && q.force !== undefined)
    throw invalid('force', 'FieldValueForbidden', 'Forbidden: may not be specified for non-apply patch');
  if (Buffer.byteLength(given) > FIELD_MANAGER_MAX)
    throw invalid(
      'fieldManager',
      'FieldValueTooLong',
      `Too long: may not be more than ${FIELD_MANAGER_MAX} bytes`,
    );
  const bad = [...given].findIndex((ch) => !PRINTABLE.test(ch));
  if (bad >= 0)
    throw invalid(
      'fieldManager',
      'FieldValueInvalid',
      `Invalid value: ${JSON.stringify(given)}: invalid character (at position ${bad})`,
    );
  let force: boolean | undefined;
  if (verb === 'apply' && q.force !== undefined && q.force !== '') {
    if (q.force !== 'true' && q.force !== 'false')
      throw StatusError.badRequest(`force: invalid value ${JSON.stringify(q.force)}: must be true or false`);
    force = q.force === 'true';
  }
  const fieldManager =
    given ||
    [...(userAgent ?? '').split('/')[0]]
      .filter((ch) => PRINTABLE.test(ch))
      .join('')
      .slice(0, FIELD_MANAGER_MAX);
  return { fieldManager, ...(force !== undefined ? { force } : {}) };
}

export function parseDryRun(value: string | undefined): boolean {
  if (value === undefined || value === '') return false;
  if (value === 'All') return true;
  throw StatusError.badRequest(
    `dryRun: Unsupported value: ${JSON.stringify(value)}: supported values: "All"`,
  );
}

/**
 * Deepest nesting a body may have: far beyond any Kubernetes object (about 20 levels), far below
 * where the recursive code that later touches the value (structuredClone, JSON.stringify, the
 * patches, validation) would run out of stack.
 */
export const MAX_NESTING_DEPTH = 256;

const STRICT_UTF8 = new TextDecoder('utf-8', { fatal: true });

/**
 * The body as text. Invalid UTF-8 (a stray continuation byte, an overlong encoding) is a 400, not
 * silently replaced by U+FFFD: what was stored must be what was sent.
 */
export function utf8(body: Buffer): string {
  try {
    return STRICT_UTF8.decode(body);
  } catch {
    throw StatusError.badRequest('the body of the request could not be decoded: it is not valid UTF-8');
  }
}

// js-yaml 4.1+ exports its types and takes maxDepth; @types/js-yaml has neither.
const jsYaml = yaml as typeof yaml & { types: { merge: yaml.Type } };

/**
 * YAML as upstream reads it (sigs.k8s.io/yaml): the core schema (timestamps stay strings, no
 * binary or sets) plus merge keys. Aliases are kept as shared references by js-yaml; their
 * expansion is bounded by checkDecoded.
 */
const YAML_SCHEMA = yaml.CORE_SCHEMA.extend([jsYaml.types.merge]);
const YAML_OPTIONS = { schema: YAML_SCHEMA, maxDepth: MAX_NESTING_DEPTH } as yaml.LoadOptions;

function decode(raw: string, isYaml: boolean): unknown {
  if (raw.trim() === '') throw StatusError.badRequest('the request body is empty');
  let value: unknown;
  try {
    if (!isYaml) checkJsonNesting(raw);
    value = isYaml ? yaml.load(raw, YAML_OPTIONS) : JSON.parse(raw);
  } catch (e) {
    if (e instanceof StatusError) throw e;
    throw StatusError.badRequest(
      `the body of the request could not be decoded: ${(e as Error).message.split('\n')[0]}`,
    );
  }
  checkDecoded(value, raw.length);
  return value;
}

/** Refuses JSON nested deeper than MAX_NESTING_DEPTH from its text, before anything is built. */
function checkJsonNesting(raw: string): void {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < raw.length; i++) {
    const c = raw.charCodeAt(i);
    if (inString) {
      if (c === 0x5c) i++;
      else if (c === 0x22) inString = false;
    } else if (c === 0x22) inString = true;
    else if (c === 0x5b || c === 0x7b) {
      if (++depth > MAX_NESTING_DEPTH) throw tooDeep();
    } else if (c === 0x5d || c === 0x7d) depth--;
  }
}

function tooDeep(): StatusError {
  return StatusError.badRequest(
    `the body of the request could not be decoded: it is nested more than ${MAX_NESTING_DEPTH} levels deep`,
  );
}

interface Visit {
  value: unknown;
  depth: number;
  parent?: Visit;
  key?: string | number;
}

function pathOf(v: Visit): string {
  const parts: string[] = [];
  for (let at: Visit | undefined = v; at?.parent; at = at.parent)
    parts.push(typeof at.key === 'number' ? `[${at.key}]` : `.${at.key}`);
  return parts.reverse().join('').replace(/^\./, '');
}

/** A string Postgres can store as sent and JSON can carry: no NUL, no lone surrogate. */
export function storableString(s: string): boolean {
  return !/[\0]|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/.test(s);
}

/**
 * Walks the decoded value once, without recursion: its depth (aliases can nest YAML deeper than
 * its text does), its size as a tree (a YAML alias bomb or cycle is small as text and huge or
 * endless once walked; nothing without aliases has more nodes than its text has characters),
 * strings that cannot be stored (NUL, lone surrogates: 400), and numbers that JSON cannot carry
 * faithfully (1e400 is Infinity, integers past 2^53 have lost precision, -0 reads back as 0): 422.
 */
function checkDecoded(value: unknown, textLength: number): void {
  let budget = textLength + 1000;
  const badNumbers: StatusCause[] = [];
  const stack: Visit[] = [{ value, depth: 0 }];
  while (stack.length) {
    const v = stack.pop() as Visit;
    if (--budget < 0)
      throw StatusError.badRequest(
        'the body of the request could not be decoded: its aliases expand beyond the size of the document',
      );
    if (v.depth > MAX_NESTING_DEPTH) throw tooDeep();
    const x = v.value;
    if (typeof x === 'string') {
      if (!storableString(x)) throw unstorable(pathOf(v));
    } else if (typeof x === 'number') {
      const why = numberProblem(x);
      if (why && badNumbers.length < 20)
        badNumbers.push({
          reason: 'FieldValueInvalid',
          message: `Invalid value: ${String(x)}: ${why}`,
          field: pathOf(v),
        });
    } else if (Array.isArray(x)) {
      for (let i = x.length - 1; i >= 0; i--)
        stack.push({ value: x[i], depth: v.depth + 1, parent: v, key: i });
    } else if (typeof x === 'object' && x !== null) {
      for (const [k, child] of Object.entries(x)) {
        if (!storableString(k)) throw unstorable(pathOf(v));
        stack.push({ value: child, depth: v.depth + 1, parent: v, key: k });
      }
    }
  }
  if (badNumbers.length)
    throw new StatusError(
      'Invalid',
      `the request is invalid: ${badNumbers.map((c) => `${c.field}: ${c.message}`).join(', ')}`,
      { causes: badNumbers },
    );
}

function numberProblem(n: number): string | undefined {
  if (!Number.isFinite(n)) return 'must be a finite number';
  if (Object.is(n, -0)) return 'must not be negative zero';
  if (Number.isInteger(n) && !Number.isSafeInteger(n))
    return 'integers must be between -(2^53-1) and 2^53-1 to keep their precision';
  return undefined;
}

function unstorable(path: string): StatusError {
  return StatusError.badRequest(
    `the body of the request could not be decoded: a string${path ? ` at ${path}` : ''} contains a NUL character or an unpaired UTF-16 surrogate`,
  );
}

function unsupportedMedia(contentType: string | undefined): StatusError {
  return new StatusError(
    'UnsupportedMediaType',
    `the body of the request was in an unknown format - accepted media types include: application/json, application/yaml, application/json-patch+json, application/merge-patch+json, application/strategic-merge-patch+json, application/apply-patch+yaml (got ${contentType ?? 'none'})`,
  );
}
