/** A writable of any kind: a socket, a stream, an HTTP/1.1 or HTTP/2 response. */
export interface Drainable {
  on(event: 'drain' | 'close', listener: () => void): unknown;
  off(event: 'drain' | 'close', listener: () => void): unknown;
}

/**
 * Resolves when `stream` can take more (drain) or is gone (close), leaving no listener behind:
 * a long watch waits for drain many times, and one listener left per wait would pile up.
 */
export function drained(stream: Drainable): Promise<void> {
  return new Promise<void>((resolve) => {
    const done = () => {
      stream.off('drain', done);
      stream.off('close', done);
      resolve();
    };
    stream.on('drain', done);
    stream.on('close', done);
  });
}
