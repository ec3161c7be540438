import { randomUUID } from 'node:crypto';
import { lookup } from 'node:dns/promises';
import { existsSync, readFileSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { type IncomingMessage, type ServerResponse } from 'node:http';
import { isIP } from 'node:net';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

import { type INestApplication } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import { LogController, type RawServerDefault } from 'fastify';

import { writeKubeconfig } from '@app/client';
import { createLogger, NestPinoLogger } from '@app/logging';

import { ApiServerModule, ClusterBootstrap } from './api-server.module.js';
import { ensureServingCertificate } from './auth/pki.js';
import { ensureServiceAccountKey } from './auth/service-account-key.js';
import { COMPONENT_USERS, type ComponentWithUser, componentKubeconfigPath } from './auth/component-users.js';
import { TokenFile } from './auth/token-file.js';
import {
  type ApiServerConfig,
  HEADERS_TIMEOUT_MS,
  IDLE_CONNECTION_TIMEOUT_MS,
  REQUEST_TIMEOUT_MS,
} from './config.js';
import { clientErrorHandler, frameworkErrorReply } from './http/framework-errors.js';
import { createApiHttpServer, type RequestHandler } from './http/serving.js';
import { parseCidr } from './services/ip-range.js';
import { apiServiceIp, DEFAULT_SERVICE_CIDR } from './services/service-allocator.js';

export interface RunningApiServer {
  app: INestApplication;
  /** https://host:port */
  url: string;
  caCert: string;
  tokens: TokenFile;
  close(): Promise<void>;
}

/** Wake's own version, from the nearest package.json above this file (source or dist layout). */
function packageVersion(): string {
  for (let dir = dirname(fileURLToPath(import.meta.url)); dir !== dirname(dir); dir = dirname(dir)) {
    const file = join(dir, 'package.json');
    if (!existsSync(file)) continue;
    const pkg = JSON.parse(readFileSync(file, 'utf8')) as { name?: string; version?: string };
    if (pkg.name === 'wake') return pkg.version ?? '0.0.0';
  }
  return '0.0.0';
}

/**
 * Nest installs its exception handler as Fastify's error handler; it knows nothing of Status
 * and there are no Nest routes for it to serve (KubeApi registers them all), so the Status one
 * takes its place: errors before a handler runs (reading the body) become Status replies.
 */
class KubeFastifyAdapter extends FastifyAdapter {
  override setErrorHandler(): ReturnType<FastifyAdapter['setErrorHandler']> {
    return super.setErrorHandler(frameworkErrorReply);
  }
}

/**
 * Starts the API server: TLS material and tokens (made on first start), the event store, the
 * bus and the watch hub, then HTTPS on `host:port`; writes the admin kubeconfig when asked.
 */
export async function startApiServer(config: ApiServerConfig): Promise<RunningApiServer> {
  const host = config.host ?? '127.0.0.1';
  const pki = await ensureServingCertificate(config.pkiDir, [
    ...servingNames(host, config.externalKubeconfig?.server),
    ...(config.servingIps ?? []),
    // Pods reach the server at the `kubernetes` Service's ClusterIP through the service proxy
    // (the TLS passes through untouched): the range's first address, whatever the range.
    apiServiceIp(parseCidr(config.serviceCidr ?? DEFAULT_SERVICE_CIDR)),
  ]);
  const serviceAccountKey = await ensureServiceAccountKey(config.pkiDir);
  const tokens = await TokenFile.ensure(join(config.pkiDir, 'tokens.csv'));
  const headersTimeout = config.headersTimeoutMs ?? HEADERS_TIMEOUT_MS;
  const logger = createLogger('api-server');
  const adapter = new KubeFastifyAdapter({
    serverFactory: (handler: (req: IncomingMessage, res: ServerResponse) => void) =>
      createApiHttpServer(
        {
          tls: { key: pki.key, cert: pki.cert },
          allowSha1TlsSignatures: config.allowSha1TlsSignatures,
          // Slow clients (slowloris): Node cuts off a request whose headers, or whole body, take too long.
          headersTimeoutMs: headersTimeout,
          requestTimeoutMs: config.requestTimeoutMs ?? REQUEST_TIMEOUT_MS,
          idleTimeoutMs: config.idleTimeoutMs ?? IDLE_CONNECTION_TIMEOUT_MS,
        },
        // Fastify's handler takes HTTP/2's compatibility objects as it takes HTTP/1.1's.
        handler as RequestHandler,
      ) as unknown as RawServerDefault, // Fastify's types name HTTP/1.1's server; it serves HTTP/2's compatibility API alike.
    // The factory makes the TLS server; this only tells Fastify so (its "listening at" line).
    https: { allowHTTP1: true },
    // What Node's parser refuses (bad framing, huge or slow headers) gets a Status body too.
    clientErrorHandler,
    // A malformed URL (a broken %-escape) is refused by the router itself.
    frameworkErrors: frameworkErrorReply,
    // Idle keep-alive connections must not hold a shutdown up.
    forceCloseConnections: 'idle',
    // Structured records (pino) for what goes wrong, each with its request's id; no line per
    // request (at a thousand requests a second that is the log), the audit log has those.
    loggerInstance: logger,
    logController: new LogController({ disableRequestLogging: true }),
    // The caller's X-Request-Id when it sent one, so its logs, ours and the audit log agree.
    requestIdHeader: 'x-request-id',
    genReqId: () => randomUUID(),
  });
  // The port is only known after listen; discovery's serverAddress is filled in then.
  const secrets = {
    tokens,
    serviceAccountKey,
    caCert: pki.caCert,
    serverAddress: `${host}:${config.port ?? 0}`,
    version: packageVersion(),
  };
  const app = await NestFactory.create<NestFastifyApplication>(
    ApiServerModule.forRoot(config, secrets),
    adapter,
    {
      logger: new NestPinoLogger(logger),
    },
  );
  await app.listen(config.port ?? 0, host);
  const address = app.getHttpServer().address() as { port: number };
  secrets.serverAddress = `${host}:${address.port}`;
  // The address pods reach us at: the listen address, unless that is "any"; a host name (a
  // compose service's) is resolved, as Endpoints hold IP addresses.
  const advertise =
    host === '0.0.0.0' || host === '::' ? '127.0.0.1' : isIP(host) ? host : (await lookup(host, 4)).address;
  await app.get(ClusterBootstrap).publishApiEndpoint(advertise, address.port);
  const url = `https://${host.includes(':') ? `[${host}]` : host}:${address.port}`;
  await writeClientKubeconfigs(config, url, pki.caCert, tokens);
  return { app, url, caCert: pki.caCert, tokens, close: () => app.close() };
}

/**
 * The kubeconfigs this server hands out once it listens: the admin's (also naming the external
 * server, when there is one) and one per component that runs as its own user.
 */
async function writeClientKubeconfigs(
  config: ApiServerConfig,
  url: string,
  caCert: string,
  tokens: TokenFile,
): Promise<void> {
  const admin = tokens.tokenOf('admin');
  if (config.kubeconfigPath)
    await writeKubeconfig(config.kubeconfigPath, { server: url, caCert, token: admin });
  if (config.externalKubeconfig)
    await writeKubeconfig(config.externalKubeconfig.path, {
      server: config.externalKubeconfig.server,
      caCert,
      token: admin,
    });
  const dir = config.componentKubeconfigDir;
  if (!dir) return;
  await mkdir(dir, { recursive: true, mode: 0o700 });
  for (const component of Object.keys(COMPONENT_USERS) as ComponentWithUser[]) {
    const user = COMPONENT_USERS[component];
    await writeKubeconfig(componentKubeconfigPath(dir, component), {
      server: url,
      caCert,
      token: tokens.tokenOf(user),
      user,
    });
  }
}

/** Names beyond loopback the serving certificate must cover: a named listen host, the external URL's host. */
function servingNames(host: string, externalServer?: string): string[] {
  const names = [host];
  if (externalServer) names.push(new URL(externalServer).hostname.replace(/^\[(.*)\]$/, '$1'));
  return names.filter((n) => n !== '0.0.0.0' && n !== '::');
}
