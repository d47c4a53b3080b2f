// Fails the build when the JavaScript the first page load needs is over budget:
// the entry script and the chunks index.html preloads, gzip-compressed.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';

const LIMIT = 150 * 1024;
const dist = new URL('../dist/', import.meta.url).pathname;
const html = readFileSync(join(dist, 'index.html'), 'utf8');
const scripts = [
  ...html.matchAll(/<script[^>]+src="([^"]+\.js)"/g),
  ...html.matchAll(/<link[^>]+rel="modulepreload"[^>]+href="([^"]+\.js)"/g),
].map((m) => m[1]);
let total = 0;
for (const src of new Set(scripts)) {
  const size = gzipSync(readFileSync(join(dist, src.replace(/^\//, '')))).length;
  total += size;
  console.log(`${src}: ${(size / 1024).toFixed(1)} KB gzip`);
}
const verdict = total <= LIMIT ? 'within' : 'OVER';
console.log(
  `initial JavaScript: ${(total / 1024).toFixed(1)} KB gzip (${verdict} the ${LIMIT / 1024} KB budget)`,
);
if (scripts.length === 0 || total > LIMIT) process.exit(1);
