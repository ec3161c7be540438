import { type StoredEvent } from '@app/event-store';

/** Every event's subject starts with this token; the event stream captures `ev.>`. */
export const EVENT_SUBJECT_ROOT = 'ev';

/**
 * A subject token for a name, group or namespace. NATS tokens cannot hold `.`, `*`, `>` or
 * whitespace, and Kubernetes names contain dots (`kube-system.v1`, `a.b.example.com`): escape
 * each such character (and the escape character itself) as `~XXXX`, its UTF-16 code in four
 * hex digits — a fixed width, so that `~002eb` cannot be read as code 0x2eb — so that the
 * mapping is reversible and two names never share a token.
 */
export function encodeToken(value: string): string {
  if (value === '') return '_';
  return value.replace(/[~.*>\s_]/g, (c) => `~${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

export function decodeToken(token: string): string {
  if (token === '_') return '';
  return token.replace(/~([0-9a-f]{4})/g, (_, hex: string) => String.fromCharCode(parseInt(hex, 16)));
}

/** The node a pod event is routed to: its spec.nodeName, `_` while unscheduled. */
function podNode(event: Pick<StoredEvent, 'object'>): string {
  const spec = event.object?.spec as { nodeName?: unknown } | undefined;
  return typeof spec?.nodeName === 'string' ? spec.nodeName : '';
}

/**
 * `ev.<resource>.<group|core>.<namespace|_>.<name>`, and for pods a sixth token, the node,
 * so that a node agent subscribes to `ev.pods.core.*.*.<node>` and receives its pods only.
 */
export function eventSubject(
  event: Pick<StoredEvent, 'resource' | 'group' | 'namespace' | 'name' | 'object'>,
): string {
  return subjectOf(event, podNode(event));
}

/** The subject of an event given its key and (for pods) its node. */
export function subjectOf(
  key: Pick<StoredEvent, 'resource' | 'group' | 'namespace' | 'name'>,
  node: string,
): string {
  const tokens = [
    EVENT_SUBJECT_ROOT,
    encodeToken(key.resource),
    key.group === '' ? 'core' : encodeToken(key.group),
    encodeToken(key.namespace),
    encodeToken(key.name),
  ];
  if (key.resource === 'pods' && key.group === '') tokens.push(encodeToken(node));
  return tokens.join('.');
}

export interface SubjectScope {
  resource?: string;
  /** '' for the core group. */
  group?: string;
  namespace?: string;
  name?: string;
}

/** The subject filter for events of one kind, optionally one namespace and one name. */
export function eventFilter(scope: SubjectScope = {}): string {
  if (scope.resource === undefined) return `${EVENT_SUBJECT_ROOT}.>`;
  const group = scope.group === undefined ? '*' : scope.group === '' ? 'core' : encodeToken(scope.group);
  const ns = scope.namespace === undefined ? '*' : encodeToken(scope.namespace);
  const name = scope.name === undefined ? '*' : encodeToken(scope.name);
  const base = `${EVENT_SUBJECT_ROOT}.${encodeToken(scope.resource)}.${group}.${ns}.${name}`;
  // Pod subjects carry one more token (the node): match it whatever it is.
  return scope.resource === 'pods' ? `${base}.*` : base;
}

/** Pod events routed to one node. */
export function podsOnNode(node: string): string {
  return `${EVENT_SUBJECT_ROOT}.pods.core.*.*.${encodeToken(node)}`;
}

/** NATS subject matching: `*` matches one token, a final `>` one or more. */
export function subjectMatches(filter: string, subject: string): boolean {
  return tokensMatch(filter.split('.'), subject.split('.'));
}

/**
 * `subjectMatches` over subjects and filters split into tokens already: a process matching
 * each event against dozens of filters splits each once.
 */
export function tokensMatch(filter: readonly string[], subject: readonly string[]): boolean {
  for (let i = 0; i < filter.length; i++) {
    if (filter[i] === '>') return i === filter.length - 1 && subject.length > i;
    if (i >= subject.length) return false;
    if (filter[i] !== '*' && filter[i] !== subject[i]) return false;
  }
  return filter.length === subject.length;
}
