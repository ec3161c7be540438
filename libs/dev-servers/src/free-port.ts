import { createServer } from 'node:net';

/** Asks the kernel for an unused loopback TCP port. */
export function freePort(host = '127.0.0.1'): Promise<number> {
  return listenOnce(host, 0).then((port) => {
    if (!port) throw new Error('kernel returned no port');
    return port;
  });
}

/** `preferred` when it can be listened on at `host` now, else a free port. */
export async function preferredPort(preferred: number, host = '127.0.0.1'): Promise<number> {
  return listenOnce(host, preferred).catch(() => freePort(host));
}

/** Listens on host:port and closes again; resolves the port bound. */
function listenOnce(host: string, port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.once('error', reject);
    server.listen(port, host, () => {
      const address = server.address();
      const bound = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(bound));
    });
  });
}
