import { StatusError } from '../errors/index.js';
import { type FromJsonOptions, messageFromJson } from './from-json.js';
import { kubernetesSchema, type ProtobufSchema } from './schema.js';
import { type Decoded } from './special-types.js';
import { messageToJson } from './to-json.js';

/** Every Kubernetes protobuf body starts with these four bytes, then a runtime.Unknown. */
export const PROTOBUF_MAGIC = Buffer.from('k8s\0', 'latin1');

const UNKNOWN = 'k8s.io.apimachinery.pkg.runtime.Unknown';

/**
 * The JSON object for a `application/vnd.kubernetes.protobuf` request body: the envelope's
 * apiVersion and kind plus the decoded object, as Go's JSON encoding would render it. A body that
 * is not a Kubernetes protobuf envelope is a 400; a kind the schema lacks is a 415, as clients
 * may then send JSON.
 */
export function decodeProtobufObject(
  body: Uint8Array,
  schema: ProtobufSchema = kubernetesSchema(),
): Record<string, unknown> {
  const envelope = decodeEnvelope(body, schema);
  const typeMeta = (envelope.typeMeta ?? {}) as Decoded;
  const apiVersion = typeof typeMeta.apiVersion === 'string' ? typeMeta.apiVersion : '';
  const kind = typeof typeMeta.kind === 'string' ? typeMeta.kind : '';
  if (typeof envelope.contentEncoding === 'string' && envelope.contentEncoding !== '')
    throw StatusError.badRequest(
      `the body of the request could not be decoded: unsupported content encoding ${JSON.stringify(envelope.contentEncoding)}`,
    );
  const shape = schema.messageForKind(apiVersion, kind);
  if (!shape)
    throw new StatusError(
      'UnsupportedMediaType',
      `the body of the request was in an unknown format - no protobuf schema for ${JSON.stringify(
        apiVersion ? `${apiVersion}, Kind=${kind}` : kind,
      )}; send it as application/json or application/yaml instead`,
    );
  try {
    const raw = envelope.raw instanceof Uint8Array ? envelope.raw : new Uint8Array();
    const decoded = shape.type.decode(raw) as unknown as Decoded;
    return { apiVersion, kind, ...messageToJson(schema, shape, decoded) };
  } catch (e) {
    throw undecodable(`${apiVersion}, Kind=${kind}: ${(e as Error).message}`);
  }
}

/** The protobuf body a Go client would send for this JSON object (apiVersion and kind included). */
export function encodeProtobufObject(
  object: Record<string, unknown>,
  options: FromJsonOptions = { goZeros: true },
  schema: ProtobufSchema = kubernetesSchema(),
): Buffer {
  const apiVersion = String(object.apiVersion);
  const kind = String(object.kind);
  const shape = schema.messageForKind(apiVersion, kind);
  if (!shape) throw new Error(`no protobuf schema for ${apiVersion}, Kind=${kind}`);
  const message = shape.type.fromObject(messageFromJson(schema, shape, object, options));
  const unknown = schema.message(UNKNOWN).type;
  const envelope = unknown.encode(
    unknown.fromObject({
      typeMeta: { apiVersion, kind },
      raw: shape.type.encode(message).finish(),
      // Go writes the unused envelope strings too.
      contentEncoding: '',
      contentType: '',
    }),
  );
  return Buffer.concat([PROTOBUF_MAGIC, envelope.finish()]);
}

function decodeEnvelope(body: Uint8Array, schema: ProtobufSchema): Decoded {
  if (body.length < PROTOBUF_MAGIC.length || !PROTOBUF_MAGIC.equals(body.subarray(0, PROTOBUF_MAGIC.length)))
    throw undecodable('it does not start with the Kubernetes protobuf prefix "k8s\\x00"');
  try {
    return schema.message(UNKNOWN).type.decode(body.subarray(PROTOBUF_MAGIC.length)) as unknown as Decoded;
  } catch (e) {
    throw undecodable(`runtime.Unknown: ${(e as Error).message}`);
  }
}

function undecodable(why: string): StatusError {
  return StatusError.badRequest(`the body of the request could not be decoded as protobuf: ${why}`);
}
