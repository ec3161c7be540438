import fastJsonPatch, { type Operation } from 'fast-json-patch';

import { StatusError } from '../errors/index.js';

/** Upstream's limit on operations in one JSON patch (apiserver maxJSONPatchOperations). */
export const MAX_JSON_PATCH_OPERATIONS = 10_000;

/**
 * Upstream's JSONPatchMaxCopyBytes (3 MiB): what `copy` operations may duplicate in total, so a
 * patch of a few `copy` operations cannot double a field until memory runs out.
 */
export const MAX_JSON_PATCH_COPY_BYTES = 3 * 1024 * 1024;

/**
 * RFC 6902 JSON patch. A malformed patch is a 400; one that cannot apply (a failed `test`, a
 * missing path, a malformed pointer) is a 422, as the apiserver answers; more than 10,000
 * operations, or copies of more than 3 MiB in all, is a 413.
 *
 * Pointers address own properties only: `/constructor` or `/toString` on an object that has no
 * such key is a missing path, never the inherited function, and `__proto__` is refused.
 */
export function applyJsonPatch(target: unknown, patch: unknown): unknown {
  if (!Array.isArray(patch))
    throw StatusError.badRequest('json: cannot unmarshal object into Go value of type jsonpatch.Patch');
  if (patch.length > MAX_JSON_PATCH_OPERATIONS) {
    throw new StatusError(
      'RequestEntityTooLarge',
      `Request entity too large: The allowed maximum operations in a JSON patch is ${MAX_JSON_PATCH_OPERATIONS}, got ${patch.length}`,
    );
  }
  const invalidShape = fastJsonPatch.validate(patch as Operation[]);
  if (invalidShape)
    throw StatusError.badRequest(`invalid JSON patch: ${invalidShape.message.split('\n')[0]}`);
  let document = structuredClone(target);
  let copiedBytes = 0;
  (patch as Operation[]).forEach((op, index) => {
    const from = 'from' in op ? resolveOwn(document, op.from, true) : undefined;
    // RFC 6902 §4.4: a value cannot be moved into itself (the document would contain itself).
    if (op.op === 'move' && op.path !== op.from && (op.from === '' || op.path.startsWith(`${op.from}/`)))
      throw unprocessable(
        `cannot move ${JSON.stringify(op.from)} into its own child ${JSON.stringify(op.path)}`,
      );
    // add, copy and move may name a new key as their target; the others need it to exist.
    resolveOwn(document, op.path, op.op !== 'add' && op.op !== 'copy' && op.op !== 'move');
    if (op.op === 'copy') {
      copiedBytes += JSON.stringify(from ?? null).length;
      if (copiedBytes > MAX_JSON_PATCH_COPY_BYTES)
        throw new StatusError(
          'RequestEntityTooLarge',
          `Request entity too large: the copy operations of the JSON patch would copy more than ${MAX_JSON_PATCH_COPY_BYTES} bytes`,
        );
    }
    try {
      document = fastJsonPatch.applyOperation(document, op, true, true, true, index).newDocument;
    } catch (e) {
      throw unprocessable((e as Error).message.split('\n')[0]);
    }
  });
  return document;
}

function unprocessable(message: string): StatusError {
  return new StatusError('Invalid', message, undefined, 422);
}

/**
 * The value `pointer` names in `doc`, walking own properties and array indexes only. The last
 * token must exist when `whole` (every operation's `from`, and `path` but for `add`).
 */
function resolveOwn(doc: unknown, pointer: string, whole: boolean): unknown {
  if (pointer === '') return doc;
  if (!pointer.startsWith('/')) throw unprocessable(`invalid JSON pointer ${JSON.stringify(pointer)}`);
  const tokens = pointer.slice(1).split('/');
  let at = doc;
  for (let i = 0; i < tokens.length; i++) {
    if (/~(?![01])/.test(tokens[i]))
      throw unprocessable(`invalid JSON pointer ${JSON.stringify(pointer)}: '~' must be followed by 0 or 1`);
    const token = tokens[i].replaceAll('~1', '/').replaceAll('~0', '~');
    if (token === '__proto__')
      throw unprocessable(`invalid JSON pointer ${JSON.stringify(pointer)}: __proto__ may not be addressed`);
    const last = i === tokens.length - 1;
    if (last && !whole) return undefined;
    if (Array.isArray(at)) {
      if (!/^(0|[1-9]\d*)$/.test(token) || Number(token) >= at.length)
        throw unprocessable(`doc is missing path: ${pointer}`);
      at = at[Number(token)];
    } else if (typeof at === 'object' && at !== null && Object.hasOwn(at, token)) {
      at = (at as Record<string, unknown>)[token];
    } else {
      throw unprocessable(`doc is missing path: ${pointer}`);
    }
  }
  return at;
}
