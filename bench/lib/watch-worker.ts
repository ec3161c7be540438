// A process of watchers for the API fan-out bench (forked by watch-workers.ts): opens its share
// of watches, and for every line records now − the write's start time stamped in the object
// (epoch milliseconds, comparable across processes), until told to report.
import { readFileSync } from 'node:fs';
import { request } from 'node:https';

const [url, caFile, token, path, countText, expectedText] = process.argv.slice(2);
const ca = readFileSync(caFile, 'utf8');
const expected = Number(expectedText);
const samples = new Float64Array(expected);
let received = 0;
const requests: ReturnType<typeof request>[] = [];
const now = () => performance.timeOrigin + performance.now();
const STAMP = Buffer.from('"bench-sent":"');
const QUOTE = 0x22;
const NEWLINE = 0x0a;

function open(): Promise<void> {
  return new Promise((resolve, reject) => {
    const req = request(
      new URL(path, url),
      { ca, headers: { authorization: `Bearer ${token}` }, agent: false },
      (res) => {
        // Bytes, not text: the stamp is found with a native search, without decoding every
        // line (this process reads hundreds of thousands of lines a second beside the server).
        let partial: Buffer | undefined;
        res.on('data', (data: Buffer) => {
          const t = now();
          const chunk = partial ? Buffer.concat([partial, data]) : data;
          const end = chunk.lastIndexOf(NEWLINE);
          partial = end === chunk.length - 1 ? undefined : chunk.subarray(end + 1);
          for (let at = chunk.indexOf(STAMP); at !== -1 && at < end; at = chunk.indexOf(STAMP, at)) {
            at += STAMP.length;
            const close = chunk.indexOf(QUOTE, at);
            if (received < expected) samples[received++] = t - Number(chunk.toString('latin1', at, close));
          }
        });
        resolve();
      },
    );
    req.on('error', (e) => ((e as NodeJS.ErrnoException).code === 'ECONNRESET' ? undefined : reject(e)));
    req.end();
    requests.push(req);
  });
}

process.on('message', (m: string) => {
  if (m === 'count') return void process.send?.({ count: received });
  if (m !== 'report') return;
  for (const r of requests) r.destroy();
  process.send?.({ received, samples: samples.subarray(0, received) }, () => process.exit(0));
});

void (async () => {
  for (let i = 0; i < Number(countText); i++) await open();
  process.send?.('ready');
})();
