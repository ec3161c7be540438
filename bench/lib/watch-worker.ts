// A process of watchers for the API fan-out bench (forked by watch-workers.ts): opens its share
// of watches, and for every line records now − the write's start time stamped in the object
// (epoch milliseconds, comparable across processes), until told to report. Lines of writes
// started before the time it is told to measure from are counted but not timed.
//
// Each watch is a TLS connection carrying one HTTP/1.1 request written by hand, its response
// read as bytes (WatchBodyReader) without Node's HTTP client: the watchers share the machine's
// two cores with the server they measure, so they must cost as little as a client can. The
// server cannot tell them from any other client; what they skip is client-side work only.
import { readFileSync } from 'node:fs';
import { connect, type TLSSocket } from 'node:tls';

import { WatchLineTimer } from './watch-line-timer.js';

const [url, caFile, token, path, countText, expectedText] = process.argv.slice(2);
const ca = readFileSync(caFile, 'utf8');
const target = new URL(path, url);
const timer = new WatchLineTimer(new Float64Array(Number(expectedText)));
const sockets: TLSSocket[] = [];
const now = () => performance.timeOrigin + performance.now();
const REQUEST =
  `GET ${target.pathname}${target.search} HTTP/1.1\r\nHost: ${target.host}\r\n` +
  `Authorization: Bearer ${token}\r\nAccept: application/json\r\nUser-Agent: wake-bench-watcher\r\n\r\n`;

function open(): Promise<void> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: target.hostname, port: Number(target.port), ca });
    sockets.push(socket);
    const reader = timer.reader();
    socket.once('secureConnect', () => socket.write(REQUEST));
    socket.on('data', (data: Buffer) => {
      const status = reader.feed(data, now());
      if (status === undefined) return;
      if (/^HTTP\/1\.1 200 /.test(status)) resolve();
      else reject(new Error(`watch refused: ${status}`));
    });
    socket.on('error', (e) => ((e as NodeJS.ErrnoException).code === 'ECONNRESET' ? undefined : reject(e)));
  });
}

process.on('message', (m: string | { measureFrom: number }) => {
  if (typeof m === 'object') {
    timer.measureFrom = m.measureFrom;
    return void process.send?.('measuring');
  }
  if (m === 'count') return void process.send?.({ count: timer.received });
  if (m !== 'report') return;
  for (const s of sockets) s.destroy();
  const { received, measured, samples, sentAt } = timer;
  process.send?.(
    { received, samples: samples.subarray(0, measured), sentAt: sentAt.subarray(0, measured) },
    () => process.exit(0),
  );
});

void (async () => {
  for (let i = 0; i < Number(countText); i++) await open();
  process.send?.('ready');
})();
