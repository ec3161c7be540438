import { Histogram } from '@app/metrics';

/** The API server's metrics, as upstream names them where there is an upstream name. */
export class ApiMetrics {
  /** Receipt of the request to the last byte of the response; watches excluded (upstream's SLI). */
  readonly requestDuration = new Histogram(
    'apiserver_request_duration_seconds',
    'Response latency distribution in seconds for each verb and resource.',
  );
  /** Commit of an event (its log time) to its line being ready to send to a watcher. */
  readonly watchDelivery = new Histogram(
    'wake_watch_delivery_seconds',
    'Time from an event being committed to it being ready to send to a watcher, per delivery.',
  );

  render(): string {
    return this.requestDuration.render() + this.watchDelivery.render();
  }
}
