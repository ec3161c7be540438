import { BUILTIN_TYPES, type ResourceType, storageOf } from '@app/api';

/** A kind named on the command line, and where its objects are stored. */
export interface ResolvedResource {
  type: ResourceType;
  /** The store's group and resource (events.k8s.io Events live with core Events). */
  group: string;
  resource: string;
}

/** An object named on the command line: `deploy/web`, or `deploy web`. */
export interface ObjectTarget {
  resource: ResolvedResource;
  name?: string;
}

/**
 * Resolves a resource as kubectl does: plural, singular, short name or kind, case-insensitive,
 * optionally qualified as `resource.group` or `resource.version.group` (cli-runtime's
 * `ResourceBuilder` and `schema.ParseResourceArg`). When several groups serve the name, the
 * core group wins, then the earlier registered group: kubectl's priority RESTMapper puts the
 * legacy group first.
 */
export function resolveResource(arg: string, types: ResourceType[] = BUILTIN_TYPES): ResolvedResource {
  const text = arg.trim().toLowerCase();
  const matchesName = (t: ResourceType, name: string) =>
    t.plural === name || t.singular === name || t.kind.toLowerCase() === name || t.shortNames.includes(name);
  const [name, ...rest] = text.split('.');
  const qualified = rest.length
    ? [
        // `resource.version.group` first, then `resource.group`, as ParseResourceArg tries them.
        ...(rest.length >= 2
          ? types.filter(
              (t) => matchesName(t, name) && t.version === rest[0] && t.group === rest.slice(1).join('.'),
            )
          : []),
        ...types.filter((t) => matchesName(t, name) && t.group === rest.join('.')),
      ]
    : [];
  const candidates = qualified.length ? qualified : types.filter((t) => matchesName(t, text));
  const type = candidates.find((t) => t.group === '') ?? candidates[0];
  if (!type || !text) throw new Error(`the server doesn't have a resource type "${arg}"`);
  return { type, ...storageOf(type) };
}

/**
 * The object (or kind) the positional arguments name, in kubectl's two spellings:
 * `TYPE/NAME` or `TYPE [NAME]`.
 */
export function parseTarget(positionals: string[], types?: ResourceType[]): ObjectTarget {
  const [first, second, ...extra] = positionals;
  if (!first) throw new Error('you must specify the type of resource, e.g. deploy/web');
  const slash = first.indexOf('/');
  if (slash >= 0) {
    if (second !== undefined)
      throw new Error(
        `there is no need to specify a resource type as a separate argument when passing arguments in resource/name form`,
      );
    const name = first.slice(slash + 1);
    if (!name) throw new Error(`arguments in resource/name form must have a single resource and name`);
    return { resource: resolveResource(first.slice(0, slash), types), name };
  }
  if (extra.length) throw new Error(`one object at a time: got ${positionals.length - 1} names`);
  return { resource: resolveResource(first, types), ...(second !== undefined ? { name: second } : {}) };
}

/** `deployment.apps/web`, `pod/web`: an object as `kubectl get -o name` prints it. */
export function objectName(type: Pick<ResourceType, 'singular' | 'group'>, name: string): string {
  return `${type.group ? `${type.singular}.${type.group}` : type.singular}/${name}`;
}

/** The registered kind stored at `group`/`resource`, preferring the one served from that very group. */
export function typeOfStored(
  group: string,
  resource: string,
  types: ResourceType[] = BUILTIN_TYPES,
): ResourceType | undefined {
  const stored = types.filter((t) => {
    const s = storageOf(t);
    return s.group === group && s.resource === resource;
  });
  return stored.find((t) => t.group === group) ?? stored[0];
}
