import { type EventStreamOptions } from '@app/bus';

import { type ListCacheOptions } from './cache/list-cache.js';

export interface ApiServerConfig {
  databaseUrl: string;
  natsUrl: string;
  /** Address to listen on (default 127.0.0.1) and port (0: any free port). */
  host?: string;
  port?: number;
  /** Where the CA, serving certificate and token file live (created on first start). */
  pkiDir: string;
  /** Write an admin kubeconfig here once listening (its server: the URL the server listens on). */
  kubeconfigPath?: string;
  /**
   * Also write an admin kubeconfig naming `server` instead, for clients that reach the server by
   * another address (a port published to the host by docker compose, a load balancer). The
   * serving certificate is made to cover that address's host as well.
   */
  externalKubeconfig?: { path: string; server: string };
  /** Write a kubeconfig for each component that has a user of its own here (see COMPONENT_USERS). */
  componentKubeconfigDir?: string;
  /** The event stream watches read (tests use their own). */
  stream?: EventStreamOptions;
  /** Run the relay in this process too (a standalone server; `wake up` runs it as its own process). */
  relay?: boolean;
  /** Longest watch before the server ends it (clients re-watch). Default 30 min, randomised up to 2×. */
  watchTimeoutMs?: number;
  /** Recent events the watch hub keeps in memory (older starts read the log). Default 10,000. */
  watchCacheSize?: number;
  /** Events a watch may have waiting (its client not reading) before it is cut off. Default 10,000. */
  watchMaxQueue?: number;
  /**
   * Least time between two hand-overs of new events to the watches (WatchHubOptions.dispatchIntervalMs):
   * under a steady stream a watch gets its events in one write per interval. Default WATCH_DISPATCH_INTERVAL_MS.
   */
  watchDispatchIntervalMs?: number;
  /** Which kinds whole lists are served from memory for, and how long a list waits for it (default: all, 3 s). */
  listCache?: ListCacheOptions;
  /** How often a watch that asked for bookmarks gets one. Default 60 s. */
  bookmarkIntervalMs?: number;
  /** Service ClusterIPs come from here (default 10.96.0.0/16; the first is the `kubernetes` Service's). */
  serviceCidr?: string;
  /** NodePorts come from here (default 30000-32767). */
  nodePortRange?: [number, number];
  /** Most bytes a request body may have, after inflating a gzip or deflate body (upstream: 3 MiB). */
  bodyLimit?: number;
  /** How long a client may take to send a request's headers before it is cut off (slowloris). */
  headersTimeoutMs?: number;
  /** How long a client may take to send a whole request, body included (watches are not affected: their request is short). */
  requestTimeoutMs?: number;
  /** How long a connection (HTTP/1.1) or HTTP/2 session with no request in progress stays open. Default IDLE_CONNECTION_TIMEOUT_MS. */
  idleTimeoutMs?: number;
  /** Service-account tokens: issuer (`--service-account-issuer`; default https://kubernetes.default.svc.cluster.local). */
  serviceAccountIssuer?: string;
  /** The audiences tokens must be for (`--api-audiences`; default the issuer). */
  apiAudiences?: string[];
  /** Longest token a TokenRequest gets (`--service-account-max-token-expiration`; default none). */
  serviceAccountMaxTokenExpirationSeconds?: number;
  /** Extend the kubelet's pod-bound 3607 s tokens to a year (`--service-account-extend-token-expiration`; default true). */
  serviceAccountExtendTokenExpiration?: boolean;
  /** How long the token authenticator reuses a service account or pod lookup (default 5 s). */
  serviceAccountLookupCacheMs?: number;
  /** More IP addresses the serving certificate names, e.g. a node's Docker bridge gateway that pods reach it at. */
  servingIps?: string[];
  /**
   * Accept TLS 1.2 clients that send no signature_algorithms extension, such as busybox
   * wget's built-in TLS: RFC 5246 then means SHA-1 handshake signatures, which OpenSSL 3 only
   * makes at security level 0 (Go's TLS, so upstream's API server, accepted them until Go 1.25).
   * Node's default cipher list is kept. Default false.
   */
  allowSha1TlsSignatures?: boolean;
}

export const API_SERVER_CONFIG = Symbol('ApiServerConfig');

/** Upstream's limit on a request body (apiserver MaxRequestBodyBytes). */
export const MAX_BODY_BYTES = 3 * 1024 * 1024;

/** Upstream's ReadHeaderTimeout (32 s): headers sent a byte at a time do not hold a connection for long. */
export const HEADERS_TIMEOUT_MS = 32_000;

/** Longest a whole request may take to arrive (upstream sets no such bound; Node's default is 300 s). */
export const REQUEST_TIMEOUT_MS = 60_000;

/**
 * Under a steady stream, watches get new events at most every 10 ms: one wake-up and one socket
 * write per watch per 10 ms instead of per event, for at most 10 ms of added latency. In the api
 * bench's fan-out of 1,000 events/s to 100 watches, 10 ms took the API server's CPU per delivery
 * from 5.3 µs (a hand-over per event loop turn) to 3.2 µs; 25 ms took it to 2.2 µs but raised the
 * median delivery from 12 to 19 ms.
 */
export const WATCH_DISPATCH_INTERVAL_MS = 10;

/** Upstream's IdleTimeout (90 s, http.DefaultTransport's keep-alive): an idle connection or HTTP/2 session is then closed. */
export const IDLE_CONNECTION_TIMEOUT_MS = 90_000;
