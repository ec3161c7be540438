/* global process, console */
// Docker healthcheck for Wake's components: exits 0 when GET <url> answers 200, 1 otherwise.
// usage: node healthcheck.mjs <url> [ca-file]   (an https URL is verified against ca-file when given)
import { readFileSync } from 'node:fs';
import { get as httpGet } from 'node:http';
import { get as httpsGet } from 'node:https';

const [url, caFile] = process.argv.slice(2);
if (!url) {
  console.error('usage: healthcheck.mjs <url> [ca-file]');
  process.exit(2);
}
const get = url.startsWith('https:') ? httpsGet : httpGet;
const options = caFile ? { ca: readFileSync(caFile), timeout: 3000 } : { timeout: 3000 };
const req = get(url, options, (res) => {
  res.resume();
  process.exit(res.statusCode === 200 ? 0 : 1);
});
req.on('timeout', () => req.destroy(new Error('timed out')));
req.on('error', (e) => {
  console.error(`${url}: ${e.message}`);
  process.exit(1);
});
