import { type Writable } from 'node:stream';

/**
 * Resolves when `stream` can take more (drain) or is gone (close), leaving no listener behind:
 * a long watch waits for drain many times, and one listener left per wait would pile up.
 */
export function drained(stream: Writable): Promise<void> {
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
