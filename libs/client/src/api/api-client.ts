import { type StoredObject } from '@app/event-store';

import { Http2Transport } from './http2-transport.js';

/** Where the API server is and who we are to it: what a kubeconfig's current context says. */
export interface ApiConnection {
  server: string;
  caCert: string;
  token: string;
}

/** Wake's own request headers (defined by the API server): the seq a write reacts to, and the leader's fence. */
export const CAUSE_HEADER = 'wake-cause';
export const FENCE_HEADER = 'wake-leader-fence';

/** A non-2xx answer: the Kubernetes Status the server sent, with its code and reason. */
export class ApiError extends Error {
  override name = 'ApiError';

  constructor(
    readonly code: number,
    readonly reason: string,
    message: string,
    readonly status: unknown,
  ) {
    super(message);
  }

  static isNotFound(e: unknown): boolean {
    return e instanceof ApiError && e.code === 404;
  }

  static isConflict(e: unknown): boolean {
    return e instanceof ApiError && e.code === 409;
  }
}

export interface WriteOptions {
  /** The event seq this write reacts to (its audit cause). */
  cause?: number;
  contentType?: string;
}

export interface ObjectList<T> {
  items: T[];
  resourceVersion: string;
}

/** `/api/v1/...` or `/apis/<group>/<version>/...` for a kind, optionally one object and a subresource. */
export function resourcePath(r: {
  group: string;
  version: string;
  plural: string;
  namespace?: string;
  name?: string;
  subresource?: string;
}): string {
  const base = r.group ? `/apis/${r.group}/${r.version}` : `/api/${r.version}`;
  const ns = r.namespace ? `/namespaces/${encodeURIComponent(r.namespace)}` : '';
  const name = r.name !== undefined ? `/${encodeURIComponent(r.name)}` : '';
  const sub = r.subresource ? `/${r.subresource}` : '';
  return `${base}${ns}/${r.plural}${name}${sub}`;
}

/** A write a replica that does not lead tried to make; it was not sent. */
export class NotLeaderError extends Error {
  override readonly name = 'NotLeaderError';
}

/**
 * The HTTPS client Wake's components (scheduler, controllers, node agents) use to read and
 * write through the API server: one HTTP/2 connection, JSON, Status errors as ApiError, and
 * on every write the cause and, while this process leads, the leader fence.
 */
export class ApiClient {
  private readonly transport: Http2Transport;

  constructor(
    private readonly connection: ApiConnection,
    private readonly o: {
      userAgent: string;
      /**
       * The leader fence each write carries: a string while leading; `null` when this replica
       * elects a leader and does not lead now, so a write is refused here and never sent (an
       * unfenced write would pass the API server's check); undefined when it elects none.
       */
      fence?: () => string | null | undefined;
      /** Requests in flight at once (the rest wait their turn). Default 16. */
      maxInFlight?: number;
      /** A request with no answer for this long fails (a half-open connection must not hang a caller). Default 30 s. */
      timeoutMs?: number;
    },
  ) {
    this.transport = new Http2Transport({
      server: connection.server,
      caCert: connection.caCert,
      timeoutMs: o.timeoutMs ?? 30_000,
      maxInFlight: o.maxInFlight ?? 16,
    });
  }

  close(): void {
    this.transport.close();
  }

  get<T extends StoredObject>(path: string): Promise<T> {
    return this.call<T>('GET', path);
  }

  /** The object at `path`, or undefined when there is none (404). */
  async getIfExists<T extends StoredObject>(path: string): Promise<T | undefined> {
    try {
      return await this.get<T>(path);
    } catch (e) {
      if (ApiError.isNotFound(e)) return undefined;
      throw e;
    }
  }

  /** Every object at `path`, page by page, and the resourceVersion the list is consistent at. */
  async list<T extends StoredObject>(
    path: string,
    query: Record<string, string> = {},
    pageSize = 500,
  ): Promise<ObjectList<T>> {
    const items: T[] = [];
    let resourceVersion = '';
    let next: string | undefined;
    do {
      const q = new URLSearchParams({
        ...query,
        limit: String(pageSize),
        ...(next ? { continue: next } : {}),
      });
      const page = await this.call<{ items: T[]; metadata: { resourceVersion: string; continue?: string } }>(
        'GET',
        `${path}?${q.toString()}`,
      );
      items.push(...page.items);
      // Every page of one list is at the first page's resourceVersion.
      resourceVersion ||= page.metadata.resourceVersion;
      next = page.metadata.continue || undefined;
    } while (next);
    return { items, resourceVersion };
  }

  create<T extends StoredObject>(path: string, body: unknown, o: WriteOptions = {}): Promise<T> {
    return this.call<T>('POST', path, body, o);
  }

  update<T extends StoredObject>(path: string, body: unknown, o: WriteOptions = {}): Promise<T> {
    return this.call<T>('PUT', path, body, o);
  }

  patch<T extends StoredObject>(path: string, body: unknown, o: WriteOptions = {}): Promise<T> {
    return this.call<T>('PATCH', path, body, { contentType: 'application/merge-patch+json', ...o });
  }

  delete(path: string, body: unknown = undefined, o: WriteOptions = {}): Promise<unknown> {
    return this.call('DELETE', path, body, o);
  }

  call<T>(method: string, path: string, body?: unknown, o: WriteOptions = {}): Promise<T> {
    const payload = body === undefined ? undefined : JSON.stringify(body);
    const fence = method === 'GET' ? undefined : this.o.fence?.();
    if (fence === null)
      return Promise.reject(
        new NotLeaderError(`${method} ${path} not sent: this replica does not hold its leader lease`),
      );
    const headers: Record<string, string | number> = {
      accept: 'application/json',
      authorization: `Bearer ${this.connection.token}`,
      'user-agent': this.o.userAgent,
      ...(payload !== undefined
        ? {
            'content-type': o.contentType ?? 'application/json',
            'content-length': Buffer.byteLength(payload),
          }
        : {}),
      ...(o.cause !== undefined ? { [CAUSE_HEADER]: String(o.cause) } : {}),
      ...(fence ? { [FENCE_HEADER]: fence } : {}),
    };
    return this.transport.send(method, path, headers, payload).then(
      ({ status, text }) => {
        let parsed: unknown;
        try {
          parsed = text ? JSON.parse(text) : undefined;
        } catch (e) {
          throw new Error(
            `${method} ${path}: ${status} with a body that is not JSON: ${(e as Error).message}`,
            { cause: e },
          );
        }
        if (status >= 200 && status < 300) return parsed as T;
        const s = (parsed ?? {}) as { reason?: string; message?: string };
        throw new ApiError(
          status,
          s.reason ?? 'Unknown',
          `${method} ${path}: ${status} ${s.message ?? text}`,
          parsed,
        );
      },
      (e: Error) => {
        throw new Error(`${method} ${path}: ${e.message}`, { cause: e });
      },
    );
  }
}
