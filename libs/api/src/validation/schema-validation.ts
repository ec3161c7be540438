import { toServed } from '../conversion/index.js';
import { type CauseType, type StatusCause } from '../errors/index.js';
import { type ResourceType } from '../registry/resource-type.js';

/** What kubernetes-models' compiled (ajv, allErrors) validators report. */
interface SchemaError {
  instancePath: string;
  keyword: string;
  params: { missingProperty?: string; allowedValues?: unknown[]; type?: string; format?: string };
}
type Validate = ((data: unknown) => boolean) & { errors?: SchemaError[] | null };

const validators = new Map<string, Promise<Validate | undefined>>();

/**
 * kubernetes-models' validator of a kind, loaded the first time that kind is written (each pulls
 * in the validators of everything it references; loading them all up front would cost every
 * process that imports this library).
 */
function validatorOf(t: ResourceType): Promise<Validate | undefined> {
  const group = t.group ? t.group.split('.')[0] : 'core';
  const name = ['Io', 'K8s', 'Api', group, t.version, t.kind]
    .map((w) => `${w[0].toUpperCase()}${w.slice(1)}`)
    .join('');
  let found = validators.get(name);
  if (!found) {
    found = import(`kubernetes-models/_schemas/${name}`).then(
      (m: { validate: Validate }) => m.validate,
      () => undefined,
    );
    validators.set(name, found);
  }
  return found;
}

/**
 * The type, required-field and enum violations of `obj` (in the shape `t` stores it) against
 * upstream's schema, as Status causes with Kubernetes field paths. `null` is never a violation:
 * Go's decoder reads it as the field's zero value (kubectl sends `creationTimestamp: null`).
 */
export async function validateSchema(t: ResourceType, obj: Record<string, unknown>): Promise<StatusCause[]> {
  const validate = await validatorOf(t);
  const served = toServed(t, obj);
  if (!validate || validate(served)) return [];
  const errors = validate.errors ?? [];
  // A oneOf (IntOrString, Quantity) failure stands for the failures of its branches.
  const oneOfAt = new Set(errors.filter((e) => e.keyword === 'oneOf').map((e) => e.instancePath));
  const causes: StatusCause[] = [];
  const seen = new Set<string>();
  for (const e of errors) {
    const value = valueAt(served, e.instancePath);
    if (value.found && value.value === null) continue;
    if (oneOfAt.has(e.instancePath) && e.keyword !== 'oneOf') continue;
    // Secret values never appear in an error (upstream writes "<value omitted>").
    const secret = t.group === '' && t.plural === 'secrets' && /^(data|stringData)(\.|$)/.test(value.field);
    const cause = toCause(e, value.field, secret ? '<value omitted>' : value.value);
    if (!cause) continue;
    const key = `${cause.field} ${cause.reason}`;
    if (seen.has(key)) continue;
    seen.add(key);
    causes.push(cause);
  }
  return causes;
}

function toCause(e: SchemaError, field: string, value: unknown): StatusCause | undefined {
  const make = (reason: CauseType, message: string, at = field): StatusCause => ({
    reason,
    message,
    field: at,
  });
  switch (e.keyword) {
    case 'required':
      return make('FieldValueRequired', 'Required value', join(field, e.params.missingProperty ?? ''));
    case 'enum':
      return make(
        'FieldValueNotSupported',
        `Unsupported value: ${JSON.stringify(value)}: supported values: ${(e.params.allowedValues ?? []).map((v) => JSON.stringify(v)).join(', ')}`,
      );
    case 'type':
      return make('FieldValueInvalid', `Invalid value: ${shown(value)}: must be of type ${e.params.type}`);
    case 'oneOf':
      return make('FieldValueInvalid', `Invalid value: ${shown(value)}: must be an integer or a string`);
    case 'format':
      return make(
        'FieldValueInvalid',
        `Invalid value: ${shown(value)}: must be of format ${e.params.format}`,
      );
    default:
      return undefined;
  }
}

/** A value in a message: itself when short and scalar, its type otherwise (as upstream's schema errors). */
function shown(value: unknown): string {
  if (Array.isArray(value)) return '"array"';
  if (value !== null && typeof value === 'object') return '"object"';
  const text = JSON.stringify(value) ?? 'null';
  return text.length > 100 ? `${text.slice(0, 100)}..."` : text;
}

function join(path: string, key: string): string {
  return path ? `${path}.${key}` : key;
}

/** The value at a JSON pointer, and the pointer as a Kubernetes field path (`spec.containers[0].name`). */
function valueAt(root: unknown, pointer: string): { value: unknown; found: boolean; field: string } {
  let value = root;
  let field = '';
  let found = true;
  for (const raw of pointer.split('/').slice(1)) {
    const segment = raw.replaceAll('~1', '/').replaceAll('~0', '~');
    if (Array.isArray(value)) {
      field += `[${segment}]`;
      value = value[Number(segment)];
    } else {
      field = join(field, segment);
      value =
        value !== null && typeof value === 'object' && Object.hasOwn(value, segment)
          ? (value as Record<string, unknown>)[segment]
          : undefined;
    }
    if (value === undefined) found = false;
  }
  return { value, found, field };
}

/**
 * A field path with map keys and properties written alike (`data[k]` and `data.k`), so that
 * causes from the semantic rules and from the schema about one field are recognised as one.
 */
export function fieldIdentity(field: string): string {
  return field.replace(/\[([^\]]*)\]/g, '.$1');
}
