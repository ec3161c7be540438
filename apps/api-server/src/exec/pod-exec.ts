import { type ResourceType, StatusError } from '@app/api';
import { type ExecParams, type ExecSession, openExec, type OpenExecOptions } from '@app/bus';
import { type NatsConnection } from '@nats-io/transport-node';
import { type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import { type WebSocket, WebSocketServer } from 'ws';

import { podStreamLocation, withNodeRefusals } from '../http/pod-streams.js';
import { type ObjectService } from '../objects/object-service.js';
import {
  CHANNEL,
  decodeClientMessage,
  encodeFrame,
  exitStatus,
  internalErrorStatus,
  selectProtocol,
  SUPPORTED_PROTOCOLS,
} from './channel-protocol.js';
import { takeUpgrade } from './upgrade-routing.js';
import { bridgeSpdyExec, SPDY_EXEC_PROTOCOL } from './spdy-exec.js';
import { type SpdyServerSession } from '../spdy/spdy-session.js';
import { acceptSpdyUpgrade, negotiateStreamProtocol } from '../spdy/spdy-upgrade.js';

type Query = Record<string, string | string[] | undefined>;

export interface PodExecOptions {
  nats: NatsConnection;
  objects: ObjectService;
  /** Timings of the NATS session with the node agent (tests shorten them). */
  session?: OpenExecOptions;
  /** How long a SPDY client may take to open its streams. Default 30 s (the kubelet's). */
  streamTimeoutMs?: number;
}

/**
 * `pods/exec` and `pods/attach`: the WebSocket streaming protocol kubectl ≥ 1.30 speaks (v5, and v4 for older
 * clients), and the SPDY/3.1 one (v4) of older kubectls, bridged to the node agent running the
 * pod over NATS (@app/bus node-exec). Every refusal comes before the upgrade, as a Status.
 */
export class PodExecEndpoint {
  private readonly wss = new WebSocketServer({
    noServer: true,
    // Negotiated before the upgrade (a client offering none of these is refused with a Status).
    handleProtocols: (offered) => SUPPORTED_PROTOCOLS.find((p) => offered.has(p)) ?? false,
  });
  private readonly open = new Set<WebSocket>();
  private readonly spdySessions = new Set<SpdyServerSession>();

  constructor(private readonly o: PodExecOptions) {}

  /** Ends open sessions before the server closes (KubeApi routes the upgrades to `serve`). */
  register(app: FastifyInstance): void {
    // Open sessions would hold the server's close up: end them first.
    app.addHook('preClose', async () => {
      for (const ws of this.open) ws.terminate();
      for (const spdy of this.spdySessions) spdy.close();
    });
  }

  /** `pods/exec`, or with `attach` `pods/attach` (the container's own process, no command). */
  async serve(
    t: ResourceType,
    ns: string,
    name: string,
    req: FastifyRequest,
    reply: FastifyReply,
    { attach = false }: { attach?: boolean } = {},
  ): Promise<unknown> {
    const q = req.query as Query;
    const pod = await this.o.objects.get(t, ns, name);
    const { container, nodeName } = podStreamLocation(pod, first(q.container));
    const tty = flag(q.tty);
    const params: ExecParams = {
      namespace: ns,
      pod: name,
      uid: pod.metadata.uid,
      container,
      command: attach ? [] : all(q.command),
      attach,
      stdin: flag(q.stdin),
      stdout: flag(q.stdout),
      // pkg/kubelet/cri/streaming/remotecommand/httpstream.go NewOptions: no stderr with a TTY.
      stderr: flag(q.stderr) && !tty,
      tty,
    };
    if (!params.stdin && !params.stdout && !params.stderr)
      throw StatusError.badRequest('you must specify at least 1 of stdin, stdout, stderr');

    const upgrade = (req.headers.upgrade ?? '').toLowerCase();
    if (!upgrade) throw StatusError.badRequest('Upgrade request required');
    if (upgrade !== 'websocket') return this.serveSpdy(req, reply, params, nodeName);
    const protocol = selectProtocol(req.headers['sec-websocket-protocol'] as string | undefined);
    if (!protocol)
      throw StatusError.badRequest(
        `none of the offered WebSocket subprotocols is supported (supported: ${SUPPORTED_PROTOCOLS.join(', ')})`,
      );
    const raw = takeUpgrade(req.raw);
    if (!raw) throw StatusError.badRequest('Upgrade request required');
    const session = await withNodeRefusals(attach ? 'attach' : 'exec', name, () =>
      openExec(this.o.nats, nodeName, params, this.o.session),
    );
    reply.hijack();
    let bridged = false;
    // A handshake ws refuses (a bad key) closes the socket without a WebSocket: stop the command.
    raw.socket.once('close', () => bridged || session.cancel());
    this.wss.handleUpgrade(req.raw, raw.socket, raw.head, (ws) => {
      bridged = true;
      this.bridge(ws, protocol, params, session);
    });
    return reply;
  }

  /** The same over SPDY/3.1 (kubectl ≤ 1.29, and newer ones when WebSockets fail): refusals before the upgrade, as Statuses. */
  private async serveSpdy(
    req: FastifyRequest,
    reply: FastifyReply,
    params: ExecParams,
    nodeName: string,
  ): Promise<unknown> {
    if (req.headers.upgrade?.toLowerCase() !== 'spdy/3.1')
      throw StatusError.badRequest('Upgrade request required');
    const protocol = negotiateStreamProtocol(req.headers['x-stream-protocol-version'], [SPDY_EXEC_PROTOCOL]);
    const raw = takeUpgrade(req.raw);
    if (!raw) throw StatusError.badRequest('Upgrade request required');
    const session = await withNodeRefusals(params.attach ? 'attach' : 'exec', params.pod, () =>
      openExec(this.o.nats, nodeName, params, this.o.session),
    );
    reply.hijack();
    const spdy = bridgeSpdyExec(acceptSpdyUpgrade(raw, protocol), params, session, {
      streamTimeoutMs: this.o.streamTimeoutMs ?? 30_000,
    });
    this.spdySessions.add(spdy);
    void spdy.done.then(() => this.spdySessions.delete(spdy));
    return reply;
  }

  /** Carries one exec between the client's WebSocket and the agent's NATS session. */
  private bridge(ws: WebSocket, protocol: string, params: ExecParams, session: ExecSession): void {
    this.open.add(ws);
    let finished = false;
    // Resolves once the frame was handed to the socket: output waits for a slow client.
    const send = (channel: number, data?: Uint8Array | string) =>
      new Promise<void>((resolve) => {
        if (ws.readyState !== ws.OPEN) return resolve();
        ws.send(encodeFrame(channel, data), { binary: true }, () => resolve());
      });
    // As the kubelet's websocket streams: an empty frame on the lowest writable channel tells
    // the client the streams are up.
    void send(params.stdout ? CHANNEL.stdout : params.stderr ? CHANNEL.stderr : CHANNEL.error);

    // Stdin waits for the agent's credit; meanwhile the client is not read (TCP holds it back).
    let waiting = 0;
    const forward = (write: Promise<void>) => {
      waiting++;
      ws.pause();
      write
        // A write fails only when the session broke: session.run rejects with why, and the
        // client gets that on the error channel below.
        .catch(() => undefined)
        .finally(() => {
          if (--waiting === 0 && ws.readyState === ws.OPEN) ws.resume();
        });
    };
    ws.on('message', (message: Buffer) => {
      let m;
      try {
        m = decodeClientMessage(message, protocol);
      } catch {
        ws.close(1002, 'protocol error');
        return;
      }
      if (m.type === 'stdin' && params.stdin) forward(session.writeStdin(m.data));
      else if (m.type === 'close' && m.channel === CHANNEL.stdin && params.stdin)
        forward(session.closeStdin());
      else if (m.type === 'resize' && params.tty) forward(session.resize(m.size));
    });
    ws.on('close', () => {
      this.open.delete(ws);
      if (!finished) session.cancel();
    });
    ws.on('error', () => ws.terminate());

    void session
      // A stream the client did not ask for has no channel (with a TTY, stderr is never opened).
      .run(async (stream, data) => {
        if (stream === 'stdout' ? params.stdout : params.stderr)
          await send(stream === 'stdout' ? CHANNEL.stdout : CHANNEL.stderr, data);
      })
      .then(exitStatus, (e: Error) => internalErrorStatus(e.message))
      .then(async (status) => {
        finished = true;
        await send(CHANNEL.error, JSON.stringify(status));
        ws.close(1000);
      });
  }
}

/** Upstream's query booleans (runtime.Convert_Slice_string_To_bool): present and not "0"/"false". */
function flag(v: string | string[] | undefined): boolean {
  const s = first(v);
  return s !== undefined && s !== '0' && s.toLowerCase() !== 'false';
}

function first(v: string | string[] | undefined): string | undefined {
  return Array.isArray(v) ? v[0] : v;
}

function all(v: string | string[] | undefined): string[] {
  return v === undefined ? [] : Array.isArray(v) ? v : [v];
}
