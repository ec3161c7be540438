import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { request } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { type ApiConnection } from '@app/client';
import { httpsCall, NatsServer, waitFor } from '@app/dev-servers';
import { parseScrape, type Scrape } from '@app/metrics';

import { type ApiServerConfig } from '../../apps/api-server/src/config.js';
import { type RunningApiServer, startApiServer } from '../../apps/api-server/src/api-server.js';
import {
  COMPONENT_USERS,
  type ComponentWithUser,
  componentKubeconfigPath,
} from '../../apps/api-server/src/auth/component-users.js';
import { RbacCaches } from '../../apps/api-server/src/authz/rbac-caches.js';
import { SYSTEM_NAMESPACES } from '../../apps/api-server/src/bootstrap/system-namespaces.js';

import {
  type RunningControllerManager,
  startControllerManager,
} from '../../apps/controller-manager/src/run-controller-manager.js';
import { kubectlBinary } from './kubectl.js';
import { testDatabase, type TestDatabase } from './test-database.js';

export { kubectlBinary } from './kubectl.js';

export interface KubectlResult {
  code: number;
  stdout: string;
  stderr: string;
}

export interface ApiResponse<T = unknown> {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: T;
  text: string;
}

/** A running API server on the harness's Postgres, with its own nats-server and relay. */
export interface ApiCluster {
  server: RunningApiServer;
  kubeconfig: string;
  dir: string;
  /** The suite's own nats-server (node agents and test responders connect here). */
  natsUrl: string;
  /** The in-process controller manager keeping the default ServiceAccounts and kube-root-ca.crt (none when turned off). */
  controllerManager?: RunningControllerManager;
  /** The admin's connection, for in-process clients (informers, controllers). */
  connection: ApiConnection;
  /** A component's own connection and kubeconfig file, as `wake up` runs it (see COMPONENT_USERS). */
  componentConnection(component: ComponentWithUser): ApiConnection;
  componentKubeconfig(component: ComponentWithUser): string;
  /** Runs the real kubectl of `minor` (the versioned binaries of the kubectl package) with the admin kubeconfig. */
  kubectl(
    minor: number,
    args: string[],
    options?: { input?: string; timeoutMs?: number; env?: Record<string, string> },
  ): Promise<KubectlResult>;
  /** Starts kubectl without waiting for it (watches); the caller kills it. */
  spawnKubectl(minor: number, args: string[]): ChildProcess;
  /** One HTTPS request as the admin (or with `token`), the body JSON-decoded when it parses. */
  api<T = unknown>(
    method: string,
    path: string,
    body?: unknown,
    headers?: Record<string, string>,
  ): Promise<ApiResponse<T>>;
  /** `api` for a request that must succeed: the decoded body, or an error naming the request and the answer (status ≥ 300). */
  ok<T = unknown>(method: string, path: string, body?: unknown, headers?: Record<string, string>): Promise<T>;
  /** The API server's /metrics, parsed. */
  scrape(): Promise<Scrape>;
  /** A PATCH with `application/merge-patch+json` (RFC 7386) that must succeed; the patched object. */
  mergePatch<T = unknown>(path: string, body: unknown): Promise<T>;
  /** Opens a streaming GET (a watch); lines arrive in `lines` as they come. */
  stream(path: string, headers?: Record<string, string>): Promise<ApiStream>;
  /**
   * RBAC: a Role `name` of `rules` in `namespace`, bound to the namespace's service accounts
   * `serviceAccounts`; returns once the server authorizes with it.
   */
  grant(namespace: string, name: string, rules: GrantRule[], serviceAccounts: string[]): Promise<void>;
  close(): Promise<void>;
}

export interface GrantRule {
  verbs: string[];
  apiGroups: string[];
  resources: string[];
  resourceNames?: string[];
}

export interface ApiStream {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  lines: string[];
  /** Resolves when the server ends the stream. */
  ended: Promise<void>;
  /** Calls `handler` with each line, those already in `lines` first, then each as it arrives. */
  onLine(handler: (line: string) => void): void;
  close(): void;
}

/**
 * The controllers a test cluster runs beside its API server unless told otherwise: what every
 * real cluster has and pods rely on (their token volume names the `default` ServiceAccount
 * and kube-root-ca.crt).
 */
export const DEFAULT_CLUSTER_CONTROLLERS = ['serviceaccount', 'root-ca-cert-publisher'];

export interface ApiClusterOptions extends Partial<ApiServerConfig> {
  /** The controller manager's `--controllers` (leader election off); `[]`: no controller manager. */
  controllers?: string[];
}

export async function startApiCluster(o: ApiClusterOptions = {}): Promise<ApiCluster> {
  const { controllers = DEFAULT_CLUSTER_CONTROLLERS, ...options } = o;
  const dir = await mkdtemp(join(tmpdir(), 'wake-api-'));
  let db: TestDatabase | undefined;
  let nats: NatsServer | undefined;
  let server: RunningApiServer | undefined;
  let controllerManager: RunningControllerManager | undefined;
  try {
    db = await testDatabase('api');
    nats = await NatsServer.temporary('wake-api-nats-');
    const kubeconfig = join(dir, 'kubeconfig');
    const components = options.componentKubeconfigDir ?? join(dir, 'components');
    const running = await startApiServer({
      databaseUrl: db.url,
      natsUrl: nats.url,
      pkiDir: join(dir, 'pki'),
      port: 0,
      kubeconfigPath: kubeconfig,
      componentKubeconfigDir: components,
      relay: true,
      bookmarkIntervalMs: 1000,
      ...options,
    });
    server = running;
    const token = running.tokens.tokenOf('admin');
    const componentConnection = (component: ComponentWithUser): ApiConnection => ({
      server: running.url,
      caCert: running.caCert,
      token: running.tokens.tokenOf(COMPONENT_USERS[component]),
    });
    if (controllers.length) {
      controllerManager = await startControllerManager({
        // As `wake up` runs it: as its own user, which the log then names for its writes.
        connection: componentConnection('controller-manager'),
        natsUrl: nats.url,
        stream: options.stream,
        leaderElect: false,
        controllers,
      });
      if (controllers.includes('serviceaccount') && controllers.includes('root-ca-cert-publisher'))
        await waitForNamespaceDefaults(running, token);
    }
    const opened = { db, nats, controllerManager };
    const api = <T>(method: string, path: string, body?: unknown, headers: Record<string, string> = {}) =>
      httpsJson<T>(running, method, path, body, { authorization: `Bearer ${token}`, ...headers });
    const ok = async <T>(method: string, path: string, body?: unknown, headers?: Record<string, string>) => {
      const r = await api<T>(method, path, body, headers);
      if (r.status >= 300) throw new Error(`${method} ${path}: ${r.status} ${r.text}`);
      return r.body;
    };
    return {
      server: running,
      kubeconfig,
      dir,
      natsUrl: nats.url,
      controllerManager,
      connection: { server: running.url, caCert: running.caCert, token },
      componentConnection,
      componentKubeconfig: (component) => componentKubeconfigPath(components, component),
      kubectl: (minor, args, o = {}) =>
        new Promise((resolve, reject) => {
          const child = execFile(
            kubectlBinary(minor),
            args,
            // Each version its own HOME: kubectl caches discovery under ~/.kube/cache.
            {
              env: { ...process.env, HOME: join(dir, `home-${minor}`), KUBECONFIG: kubeconfig, ...o.env },
              timeout: o.timeoutMs ?? 60_000,
            },
            (error, stdout, stderr) => {
              // A kubectl that could not run at all is the test's failure, not kubectl's answer.
              if (error && typeof error.code !== 'number' && !error.killed) return reject(error);
              resolve({
                code: error ? (typeof error.code === 'number' ? error.code : 1) : 0,
                stdout,
                stderr,
              });
            },
          );
          if (o.input !== undefined) child.stdin?.end(o.input);
        }),
      spawnKubectl: (minor, args) =>
        spawn(kubectlBinary(minor), args, {
          env: { ...process.env, HOME: join(dir, `home-${minor}`), KUBECONFIG: kubeconfig },
        }),
      api,
      ok,
      scrape: async () => parseScrape((await api<string>('GET', '/metrics')).text),
      mergePatch: (path, body) => ok('PATCH', path, body, { 'content-type': 'application/merge-patch+json' }),
      stream: (path, headers = {}) =>
        httpsStream(running, path, { authorization: `Bearer ${token}`, ...headers }),
      grant: async (namespace, name, rules, serviceAccounts) => {
        const rbac = `/apis/rbac.authorization.k8s.io/v1/namespaces/${namespace}`;
        await ok('POST', `${rbac}/roles`, { metadata: { name }, rules });
        const binding = await ok<{ metadata: { resourceVersion: string } }>('POST', `${rbac}/rolebindings`, {
          metadata: { name },
          roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name },
          subjects: serviceAccounts.map((sa) => ({ kind: 'ServiceAccount', name: sa, namespace })),
        });
        const rv = Number(binding.metadata.resourceVersion);
        if (!(await running.app.get(RbacCaches).sync(rv, 10_000)))
          throw new Error(`RBAC caches did not reach the binding ${namespace}/${name} (${rv}) in 10 s`);
      },
      close: async () => {
        // Its controllers first, so they do not write to a server going away; a failure there still closes the rest.
        await Promise.allSettled([namedStep('the controller manager', opened.controllerManager?.close())]);
        await namedStep('the API server', running.close());
        await namedStep('nats-server', opened.nats.destroy());
        await namedStep("the suite's database", opened.db.drop());
        await rm(dir, { recursive: true, force: true });
      },
    };
  } catch (e) {
    await controllerManager?.close();
    await server?.close();
    await nats?.destroy();
    await db?.drop();
    await rm(dir, { recursive: true, force: true });
    throw e;
  }
}

/**
 * A step of closing the cluster, named on stderr when it is still running after 30 s: a hook
 * that times out then says which step it waited on, not only that it waited.
 */
async function namedStep<T>(name: string, step: Promise<T> | undefined): Promise<T | undefined> {
  const started = Date.now();
  const warning = setInterval(
    () =>
      process.stderr.write(
        `api cluster close: ${name} still running after ${Math.round((Date.now() - started) / 1000)} s\n`,
      ),
    30_000,
  );
  warning.unref();
  try {
    return await step;
  } finally {
    clearInterval(warning);
  }
}

/** Tests may create pods in a system namespace right away: their ServiceAccount and CA map are there first. */
async function waitForNamespaceDefaults(server: RunningApiServer, token: string): Promise<void> {
  const headers = { authorization: `Bearer ${token}` };
  for (const ns of SYSTEM_NAMESPACES)
    for (const path of [`serviceaccounts/default`, `configmaps/kube-root-ca.crt`])
      await waitFor(
        `${path} in ${ns}`,
        async () =>
          (await httpsJson(server, 'GET', `/api/v1/namespaces/${ns}/${path}`, undefined, headers)).status ===
            200 || undefined,
        { timeoutMs: 30_000 },
      );
}

async function httpsJson<T>(
  server: RunningApiServer,
  method: string,
  path: string,
  body: unknown,
  headers: Record<string, string>,
): Promise<ApiResponse<T>> {
  const contentType: Record<string, string> =
    typeof body === 'string' ? { 'content-type': 'application/json' } : {};
  const reply = await httpsCall({
    method,
    url: new URL(path, server.url),
    ca: server.caCert,
    body,
    headers: { ...contentType, ...headers },
  });
  let parsed: unknown = reply.text;
  try {
    parsed = JSON.parse(reply.text);
  } catch {
    // not JSON (text/plain probes): keep the text
  }
  return { ...reply, body: parsed as T };
}

function httpsStream(
  server: RunningApiServer,
  path: string,
  headers: Record<string, string>,
): Promise<ApiStream> {
  return new Promise((resolve, reject) => {
    const req = request(
      new URL(path, server.url),
      { method: 'GET', ca: server.caCert, headers: { accept: 'application/json', ...headers } },
      (res) => {
        const lines: string[] = [];
        const handlers: ((line: string) => void)[] = [];
        let partial = '';
        const ended = new Promise<void>((done) => {
          res.on('end', done);
          res.on('close', done);
        });
        res.on('data', (c: Buffer) => {
          const parts = (partial + c.toString('utf8')).split('\n');
          partial = parts.pop() ?? '';
          for (const line of parts.filter(Boolean)) {
            lines.push(line);
            for (const h of handlers) h(line);
          }
        });
        resolve({
          status: res.statusCode ?? 0,
          headers: res.headers,
          lines,
          ended,
          onLine: (handler) => {
            for (const line of lines) handler(line);
            handlers.push(handler);
          },
          close: () => req.destroy(),
        });
      },
    );
    req.on('error', (e) => {
      if ((e as NodeJS.ErrnoException).code !== 'ECONNRESET') reject(e);
    });
    req.end();
  });
}
