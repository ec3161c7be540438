import { type PortForwardConnection } from '@app/bus';

import { RstStatus } from '../spdy/spdy-frames.js';
import { type SpdyStream } from '../spdy/spdy-session.js';

/**
 * kubectl's port-forward protocol (portforward.k8s.io) over one SPDY session, as the kubelet
 * serves it (pkg/kubelet/cri/streaming/portforward/httpstream.go): for every connection made to
 * a forwarded local port, kubectl opens an error stream, then a data stream, both with headers
 * `streamType`, `port` and `requestID`; the pair's data stream carries the connection's bytes,
 * and its error stream, which kubectl only reads, whatever went wrong. Both end (FIN) once the
 * pod's side of the connection is done.
 */
export interface StreamPairOptions {
  /** Connects to the pod's port (the node agent's connection); throws with why it could not. */
  connect(port: number): Promise<PortForwardConnection>;
  /** The pod as the kubelet names it in errors. */
  pod: string;
  uid: string;
  /** How long the second stream of a pair may take (the kubelet's stream creation timeout). */
  pairTimeoutMs: number;
  /** How long the pod may go on once the client closed its end. Default 1 s. */
  closeGraceMs?: number;
  /** A forwarded connection is over: `error` when it could not be made or broke (the client reads it on its error stream too). */
  onFinished?: (error?: string) => void;
}

interface Pair {
  port: number;
  data?: SpdyStream;
  error?: SpdyStream;
  timer: NodeJS.Timeout;
  /** Hands the data stream its connection once made (undefined: it could not be). */
  connected?: (connection: PortForwardConnection | undefined) => void;
  /** The client closed its end and the pod had its grace period to close its own: no error when it is cut. */
  closedByClient?: boolean;
}

type WholePair = Required<Pair>;

export class StreamPairs {
  private readonly pairs = new Map<string, Pair>();
  /** Forwarded connections under way: cancelled when the session ends. */
  private readonly connections = new Set<PortForwardConnection>();

  constructor(private readonly o: StreamPairOptions) {}

  /** A stream the client opened: checked as the kubelet's httpStreamReceived does, then paired. */
  add(stream: SpdyStream): void {
    const portHeader = stream.header('port') ?? '';
    const port = /^\d+$/.test(portHeader) ? Number(portHeader) : NaN;
    const type = stream.header('streamtype');
    // The kubelet refuses such a stream by resetting it.
    if (!(port >= 1 && port <= 65535) || (type !== 'data' && type !== 'error'))
      return stream.reset(RstStatus.protocolError);
    // Clients before request ids (kubectl < 1.5) opened a pair as error stream n, data stream n + 2.
    const id = stream.header('requestid') ?? String(type === 'error' ? stream.id : stream.id - 2);
    let pair = this.pairs.get(id);
    if (!pair) {
      pair = { port, timer: setTimeout(() => this.timedOut(id), this.o.pairTimeoutMs) };
      this.pairs.set(id, pair);
    }
    if (pair[type] || pair.port !== port) return stream.reset(RstStatus.protocolError);
    pair[type] = stream;
    void stream.reply();
    if (type === 'data') pair.connected = this.hold(stream, pair);
    if (pair.data && pair.error) void this.forward(id, pair as WholePair);
  }

  /**
   * The client writes as soon as its data stream is answered: those bytes wait (and, the session
   * reading one frame at a time, so does the client) until the pod's side is there.
   */
  private hold(stream: SpdyStream, pair: Pair): (connection: PortForwardConnection | undefined) => void {
    let resolve!: (connection: PortForwardConnection | undefined) => void;
    const connection = new Promise<PortForwardConnection | undefined>((r) => (resolve = r));
    stream.onData = async (data) => {
      // A failed write means the connection broke: run() says why, on the error stream.
      await (await connection)?.write(data).catch(() => undefined);
    };
    // The client closed its end: the pod's gets closed too, and has a grace period to finish
    // before the connection is cut (containerd's port forward waits one second). kubectl up to
    // 1.27 never reads a stream again once its local connection closed; a pod still sending
    // would otherwise keep that stream, and kubectl's SPDY workers, busy for good.
    stream.onEnd = () =>
      void connection.then((c) => {
        if (!c) return;
        c.closeWrite().catch(() => undefined);
        setTimeout(() => {
          pair.closedByClient = true;
          c.cancel();
        }, this.o.closeGraceMs ?? 1_000).unref();
      });
    stream.onGone = () => void connection.then((c) => c?.cancel());
    return resolve;
  }

  /** The session ended: every forwarded connection goes. */
  close(): void {
    for (const pair of this.pairs.values()) clearTimeout(pair.timer);
    this.pairs.clear();
    for (const c of this.connections) c.cancel();
  }

  /** Forwards a whole pair; it stays known until done, so a third stream of its id is refused. */
  private async forward(id: string, pair: WholePair): Promise<void> {
    clearTimeout(pair.timer);
    try {
      await this.connectAndCopy(pair);
    } finally {
      this.pairs.delete(id);
    }
  }

  private async connectAndCopy(pair: WholePair): Promise<void> {
    let connection: PortForwardConnection;
    try {
      connection = await this.o.connect(pair.port);
    } catch (e) {
      pair.connected(undefined);
      return this.finish(pair, e as Error);
    }
    this.connections.add(connection);
    pair.connected(connection);
    pair.error.onGone = () => connection.cancel();
    try {
      await connection.run((data) => pair.data.write(data));
      await this.finish(pair);
    } catch (e) {
      await this.finish(pair, e as Error);
    } finally {
      this.connections.delete(connection);
    }
  }

  private async finish(pair: WholePair, error?: Error): Promise<void> {
    // The client reset a stream of the pair (its local connection closed): the connection was
    // cancelled for it, which is no error to tell — a message on the error stream would make
    // kubectl drop the whole session.
    if (pair.data.isGone || pair.error.isGone || pair.closedByClient) error = undefined;
    const message =
      error && `error forwarding port ${pair.port} to pod ${this.o.pod}, uid ${this.o.uid}: ${error.message}`;
    this.o.onFinished?.(message);
    if (message) await pair.error.write(Buffer.from(message));
    await pair.data.end();
    await pair.error.end();
  }

  private timedOut(id: string): void {
    const pair = this.pairs.get(id);
    if (!pair) return;
    this.pairs.delete(id);
    // httpstream.go monitorStreamPair: the error stream (if any) says so; the pair is dropped.
    const { error, data } = pair;
    if (error) void error.write(Buffer.from('timed out waiting for streams')).then(() => error.end());
    data?.reset();
    pair.connected?.(undefined);
  }
}
