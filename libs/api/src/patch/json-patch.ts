import fastJsonPatch, { type Operation } from 'fast-json-patch';

import { StatusError } from '../errors/index.js';

/** Upstream's limit on operations in one JSON patch (apiserver maxJSONPatchOperations). */
export const MAX_JSON_PATCH_OPERATIONS = 10_000;

/**
 * RFC 6902 JSON patch. A malformed patch is a 400; one that cannot apply (a failed `test`, a
 * missing path) is a 422, as the apiserver answers; more than 10,000 operations is a 413.
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
  const document = structuredClone(target);
  const invalidShape = fastJsonPatch.validate(patch as Operation[]);
  if (invalidShape)
    throw StatusError.badRequest(`invalid JSON patch: ${invalidShape.message.split('\n')[0]}`);
  try {
    return fastJsonPatch.applyPatch(document, patch as Operation[], true, true, true).newDocument;
  } catch (e) {
    const message = (e as Error).message.split('\n')[0];
    throw new StatusError('Invalid', message, undefined, 422);
  }
}
