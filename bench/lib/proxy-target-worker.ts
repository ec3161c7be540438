// The proxy bench's backends (forked by proxy-targets.ts), in their own process so that serving
// does not share an event loop with the bench's clients. On every address given, three TCP ports
// (the same numbers on each address, as a Service's targetPort needs):
//   bulk — streams zeros to every connection until the client goes (download throughput);
//   echo — sends back whatever arrives (request/response round trips);
//   who  — writes the address it was reached on, then closes (which endpoint a probe landed on).
// argv: the addresses (127.0.0.x). Tells the parent {bulk, echo, who} once every port listens.
import { createServer, type Server, type Socket } from 'node:net';

const hosts = process.argv.slice(2);
const CHUNK = Buffer.alloc(256 * 1024);

/** A client that hangs up mid-stream (the bench ends a measurement that way) is not a failure. */
function expectedHangUp(e: NodeJS.ErrnoException): boolean {
  return e.code === 'ECONNRESET' || e.code === 'EPIPE';
}

function onSocketError(kind: string) {
  return (e: NodeJS.ErrnoException) => {
    if (!expectedHangUp(e)) process.stderr.write(`proxy bench target (${kind}): ${e.message}\n`);
  };
}

function bulk(socket: Socket): void {
  socket.on('error', onSocketError('bulk'));
  const pump = () => {
    while (!socket.destroyed && socket.write(CHUNK));
  };
  socket.on('drain', pump);
  // The client never sends; its end (or reset) stops the stream.
  socket.on('end', () => socket.destroy());
  pump();
}

function echo(socket: Socket): void {
  socket.setNoDelay(true);
  socket.on('error', onSocketError('echo'));
  socket.pipe(socket);
}

function who(host: string) {
  return (socket: Socket) => {
    socket.on('error', onSocketError('who'));
    socket.end(`${host}\n`);
  };
}

function listen(server: Server, host: string, port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen({ host, port, exclusive: true }, () => {
      server.off('error', reject);
      resolve((server.address() as { port: number }).port);
    });
  });
}

const servers: Server[] = [];

/** One port number free on every host: the first host picks it, the others must take the same. */
async function listenEverywhere(make: (host: string) => Server): Promise<number> {
  for (let attempt = 0; attempt < 20; attempt++) {
    const opened: Server[] = [];
    try {
      const first = make(hosts[0]);
      opened.push(first);
      const port = await listen(first, hosts[0], 0);
      for (const host of hosts.slice(1)) {
        const s = make(host);
        opened.push(s);
        await listen(s, host, port);
      }
      servers.push(...opened);
      return port;
    } catch (e) {
      for (const s of opened) s.close();
      if ((e as NodeJS.ErrnoException).code !== 'EADDRINUSE') throw e;
    }
  }
  throw new Error(`no port free on all of ${hosts.join(', ')} after 20 tries`);
}

async function main(): Promise<void> {
  const ports = {
    bulk: await listenEverywhere(() => createServer({ noDelay: true }, bulk)),
    echo: await listenEverywhere(() => createServer({ noDelay: true }, echo)),
    who: await listenEverywhere((host) => createServer(who(host))),
  };
  process.send?.(ports);
  // The parent going away (a crashed bench) must not leave these ports open.
  process.on('disconnect', () => process.exit(0));
  process.on('SIGTERM', () => {
    for (const s of servers) s.close();
    process.exit(0);
  });
}

main().catch((e: unknown) => {
  process.stderr.write(`proxy bench targets: ${String(e)}\n`);
  process.exit(1);
});
