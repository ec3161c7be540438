// The proxy bench's reference proxy (forked by pipe-proxy.ts): the least a Node userspace proxy
// can do — accept, dial the next backend round robin, pipe both ways — with nothing else (no
// balancer state, no retries, no metrics). Its figure next to the real proxy's shows how much
// of the cost is Node's copying through user space and how much is the proxy's own.
// argv: host:port of each backend. Tells the parent its port once listening.
import { connect, createServer } from 'node:net';

const backends = process.argv.slice(2).map((a) => {
  const at = a.lastIndexOf(':');
  return { host: a.slice(0, at), port: Number(a.slice(at + 1)) };
});
let next = 0;
const server = createServer({ noDelay: true }, (client) => {
  const to = backends[next++ % backends.length];
  const backend = connect({ host: to.host, port: to.port, noDelay: true });
  // Either side failing ends the pair; the bench counts failures on its own sockets.
  client.on('error', () => backend.destroy());
  backend.on('error', () => client.destroy());
  client.pipe(backend);
  backend.pipe(client);
});
server.listen(0, '127.0.0.1', () => process.send?.((server.address() as { port: number }).port));
process.on('disconnect', () => process.exit(0));
process.on('SIGTERM', () => process.exit(0));
