import { StatusError } from '../errors/index.js';
import { BUILTIN_TYPES } from './builtin-types.js';
import { type ResourceType } from './resource-type.js';

/** A group and the versions it serves, preferred first. */
export interface ServedGroup {
  name: string;
  versions: string[];
}

/** Every kind the API serves, looked up the ways requests address them. */
export class ResourceRegistry {
  private readonly byPath = new Map<string, ResourceType>();

  constructor(readonly types: ResourceType[] = BUILTIN_TYPES) {
    for (const t of types) {
      const id = pathId(t.group, t.version, t.plural);
      if (this.byPath.has(id)) throw new Error(`resource ${id} registered twice`);
      this.byPath.set(id, t);
    }
  }

  /** The kind served at `/apis/<group>/<version>/<plural>` (or `/api/v1/<plural>`). */
  find(group: string, version: string, plural: string): ResourceType | undefined {
    return this.byPath.get(pathId(group, version, plural));
  }

  /** Like `find`, but a 404 Status naming what was asked for when there is no such kind. */
  get(group: string, version: string, plural: string): ResourceType {
    const t = this.find(group, version, plural);
    if (!t) {
      throw new StatusError('NotFound', 'the server could not find the requested resource', {
        kind: plural,
        ...(group ? { group } : {}),
      });
    }
    return t;
  }

  /** The kind with `kind` in `group`/`version` (for objects that name their apiVersion and kind). */
  byKind(group: string, version: string, kind: string): ResourceType | undefined {
    return this.types.find((t) => t.group === group && t.version === version && t.kind === kind);
  }

  /** The named groups, in registration order (the core group is served under /api). */
  groups(): ServedGroup[] {
    const out = new Map<string, ServedGroup>();
    for (const t of this.types) {
      if (!t.group) continue;
      const g = out.get(t.group) ?? { name: t.group, versions: [] };
      if (!g.versions.includes(t.version)) g.versions.push(t.version);
      out.set(t.group, g);
    }
    return [...out.values()];
  }

  /** The kinds of one group-version. */
  inVersion(group: string, version: string): ResourceType[] {
    return this.types.filter((t) => t.group === group && t.version === version);
  }
}

function pathId(group: string, version: string, plural: string): string {
  return `${group}/${version}/${plural}`;
}
