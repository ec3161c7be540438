import { componentRegistry, Counter, Gauge, Histogram, REQUEST_BUCKETS, TallyHistogram } from '@app/metrics';

/** The labels of one API request in its metrics (upstream's). */
export interface RequestLabels {
  verb: string;
  resource: string;
  [label: string]: string;
}

/** The labels of one long-running request (a watch) in `apiserver_longrunning_requests`. */
export interface LongRunningLabels {
  group: string;
  version: string;
  resource: string;
  scope: 'namespace' | 'cluster';
  [label: string]: string;
}

/** The API server's metrics, as upstream names them where there is an upstream name. */
export class ApiMetrics {
  readonly registry = componentRegistry();
  /** Receipt of the request to the last byte of the response; watches excluded (upstream's SLI). */
  private readonly requestDuration = new Histogram({
    name: 'apiserver_request_duration_seconds',
    help: 'Response latency distribution in seconds for each verb, dry run value, group, version, resource, subresource, scope and component.',
    buckets: REQUEST_BUCKETS,
    labelNames: ['verb', 'group', 'version', 'resource', 'subresource', 'scope', 'component', 'dry_run'],
    registers: [this.registry],
  });
  private readonly requests = new Counter({
    name: 'apiserver_request_total',
    help: 'Counter of apiserver requests broken out for each verb, dry run value, group, version, resource, scope, component, and HTTP response code.',
    labelNames: [
      'verb',
      'group',
      'version',
      'resource',
      'subresource',
      'scope',
      'component',
      'dry_run',
      'code',
    ],
    registers: [this.registry],
  });
  /** Commit of an event (its log time) to its line being ready to send to a watcher. */
  private readonly watchDelivery = new TallyHistogram(
    'wake_watch_delivery_seconds',
    'Time from an event being committed to it being ready to send to a watcher, per delivery.',
    REQUEST_BUCKETS,
    this.registry,
  );

  /** Watches being served now (upstream counts every long-running request here; Wake's are watches). */
  private readonly longRunning = new Gauge({
    name: 'apiserver_longrunning_requests',
    help: 'Gauge of all active long-running apiserver requests broken out by verb, group, version, resource, scope and component. Not all requests are tracked this way.',
    labelNames: ['verb', 'group', 'version', 'resource', 'subresource', 'scope', 'component'],
    registers: [this.registry],
  });

  private readonly portForwardSessions = new Counter({
    name: 'wake_port_forward_sessions_total',
    help: 'kubectl port-forward sessions opened, by transport: SPDY on the upgraded connection, or tunnelled in a WebSocket.',
    labelNames: ['transport'],
    registers: [this.registry],
  });
  private readonly portForwardConnections = new Counter({
    name: 'wake_port_forward_connections_total',
    help: 'Connections forwarded to pods, by result: ended by either side, or failed (told to the client on its error stream).',
    labelNames: ['result'],
    registers: [this.registry],
  });

  /** One request answered: its latency (watches excluded by the caller) and its count by code. */
  requestDone(labels: RequestLabels, seconds: number, code: number): void {
    this.requestDuration.observe(labels, seconds);
    this.requests.inc({ ...labels, code: String(code) });
  }

  /** A watch began; the function returned ends it. */
  watchStarted(labels: LongRunningLabels): () => void {
    const series = { ...labels, verb: 'WATCH', subresource: '', component: 'apiserver' };
    this.longRunning.inc(series);
    return () => this.longRunning.dec(series);
  }

  portForwardSession(transport: 'spdy' | 'websocket'): void {
    this.portForwardSessions.inc({ transport });
  }

  portForwardConnection(result: 'ended' | 'failed'): void {
    this.portForwardConnections.inc({ result });
  }

  watchDelivered(seconds: number): void {
    this.watchDelivery.observe(seconds);
  }

  render(): Promise<string> {
    return this.registry.metrics();
  }

  get contentType(): string {
    return this.registry.contentType;
  }
}
