import { type ResourceType, StatusError } from '@app/api';
import { openPortForward, type OpenPortForwardOptions } from '@app/bus';
import { type NatsConnection } from '@nats-io/transport-node';
import { type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import { type Duplex } from 'node:stream';
import { createWebSocketStream, WebSocketServer } from 'ws';

import { selectProtocol } from '../exec/channel-protocol.js';
import { takeUpgrade } from '../exec/upgrade-routing.js';
import { podNodeName } from '../http/pod-streams.js';
import { type ApiMetrics } from '../metrics/api-metrics.js';
import { type ObjectService } from '../objects/object-service.js';
import { SpdyServerSession } from '../spdy/spdy-session.js';
import { acceptSpdyUpgrade, negotiateStreamProtocol } from '../spdy/spdy-upgrade.js';
import { type StreamPairOptions, StreamPairs } from './stream-pairs.js';

/** The one port-forward protocol (k8s.io/apimachinery/pkg/util/httpstream portforward.k8s.io). */
export const PORT_FORWARD_PROTOCOL = 'portforward.k8s.io';
/** kubectl ≥ 1.31 tunnels the SPDY session in a WebSocket with this subprotocol. */
export const PORT_FORWARD_TUNNEL_PROTOCOL = `SPDY/3.1+${PORT_FORWARD_PROTOCOL}`;

export interface PodPortForwardOptions {
  nats: NatsConnection;
  objects: ObjectService;
  /** Timings of the NATS links with the node agent (tests shorten them). */
  link?: OpenPortForwardOptions;
  /** How long the second stream of a pair may take. Default 30 s (the kubelet's). */
  pairTimeoutMs?: number;
  metrics?: Pick<ApiMetrics, 'portForwardSession' | 'portForwardConnection'>;
}

/**
 * `pods/portforward` — `kubectl port-forward`: a SPDY/3.1 session, on the upgraded connection
 * (kubectl ≤ 1.30, and newer ones falling back) or in a WebSocket's binary messages (kubectl ≥
 * 1.31), whose stream pairs become connections the node agent running the pod makes to its port
 * (@app/bus node-portforward). The kubelet ends the session upstream; here the API server does,
 * since the agent is reached over NATS.
 */
export class PodPortForwardEndpoint {
  private readonly wss = new WebSocketServer({
    noServer: true,
    handleProtocols: (offered) =>
      offered.has(PORT_FORWARD_TUNNEL_PROTOCOL) ? PORT_FORWARD_TUNNEL_PROTOCOL : false,
  });
  private readonly open = new Set<SpdyServerSession>();

  constructor(private readonly o: PodPortForwardOptions) {}

  /** Ends open sessions before the server closes (KubeApi routes the upgrades to `serve`). */
  register(app: FastifyInstance): void {
    app.addHook('preClose', async () => {
      for (const session of this.open) session.close();
    });
  }

  async serve(
    t: ResourceType,
    ns: string,
    name: string,
    req: FastifyRequest,
    reply: FastifyReply,
  ): Promise<unknown> {
    const pod = await this.o.objects.get(t, ns, name);
    // pkg/registry/core/pod/strategy.go PortForwardLocation.
    const nodeName = podNodeName(pod);
    const uid = String(pod.metadata.uid ?? '');
    const upgrade = (req.headers.upgrade ?? '').toLowerCase();
    const tunnel = upgrade === 'websocket';
    if (tunnel) {
      if (!selectProtocol(req.headers['sec-websocket-protocol'], [PORT_FORWARD_TUNNEL_PROTOCOL]))
        throw StatusError.badRequest(
          `none of the offered WebSocket subprotocols is supported (supported: ${PORT_FORWARD_TUNNEL_PROTOCOL})`,
        );
    } else if (upgrade !== 'spdy/3.1') throw StatusError.badRequest('Upgrade request required');
    else negotiateStreamProtocol(req.headers['x-stream-protocol-version'], [PORT_FORWARD_PROTOCOL]);
    const raw = takeUpgrade(req.raw);
    if (!raw) throw StatusError.badRequest('Upgrade request required');
    reply.hijack();
    this.o.metrics?.portForwardSession(tunnel ? 'websocket' : 'spdy');
    const start = (io: Duplex) =>
      this.run(io, {
        pod: `${name}_${ns}`,
        uid,
        // A refusal's words (a refused connection, no such pod) go on the error stream, as the kubelet's would.
        connect: (port) =>
          openPortForward(this.o.nats, nodeName, { namespace: ns, pod: name, uid, port }, this.o.link),
      });
    if (tunnel) {
      this.wss.handleUpgrade(req.raw, raw.socket, raw.head, (ws) => start(createWebSocketStream(ws)));
      return reply;
    }
    start(acceptSpdyUpgrade(raw, PORT_FORWARD_PROTOCOL));
    return reply;
  }

  private run(io: Duplex, target: Pick<StreamPairOptions, 'pod' | 'uid' | 'connect'>): void {
    const pairs = new StreamPairs({
      ...target,
      pairTimeoutMs: this.o.pairTimeoutMs ?? 30_000,
      onFinished: (error) => this.o.metrics?.portForwardConnection(error ? 'failed' : 'ended'),
    });
    const session = new SpdyServerSession(io, (stream) => pairs.add(stream));
    this.open.add(session);
    void session.done.then(() => {
      this.open.delete(session);
      pairs.close();
    });
  }
}
