// Builds the dashboard (packages/web) with Vite into packages/web/dist, then writes .br and .gz
// copies of every text asset so the hub can serve them pre-compressed.
import { readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { brotliCompressSync, constants, gzipSync } from 'node:zlib';

const root = new URL('..', import.meta.url).pathname;
const webRoot = join(root, 'packages/web');
const distDir = join(webRoot, 'dist');
const compressible = /\.(js|mjs|css|html|svg|json|webmanifest|txt|map)$/;

export async function buildWeb() {
  const { build } = await import('vite');
  await build({ root: webRoot, configFile: join(webRoot, 'vite.config.ts'), logLevel: 'warn' });
  compressAll(distDir);
  return firstLoad(distDir);
}

function compressAll(dir) {
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) compressAll(path);
    else if (compressible.test(name)) compress(path);
  }
}

function compress(path) {
  const bytes = readFileSync(path);
  const br = brotliCompressSync(bytes, {
    params: {
      [constants.BROTLI_PARAM_QUALITY]: 11,
      [constants.BROTLI_PARAM_SIZE_HINT]: bytes.length,
    },
  });
  const gz = gzipSync(bytes, { level: 9 });
  // A copy no smaller than the original is of no use to anyone.
  if (br.length < bytes.length) writeFileSync(`${path}.br`, br);
  if (gz.length < bytes.length) writeFileSync(`${path}.gz`, gz);
}

/** The scripts index.html loads at once (entry + modulepreloads), raw and compressed, in bytes. */
export function firstLoad(dir = distDir) {
  const html = readFileSync(join(dir, 'index.html'), 'utf8');
  const files = [
    ...html.matchAll(/<(?:script[^>]*\ssrc|link[^>]*rel="modulepreload"[^>]*\shref)="\/([^"]+)"/g),
  ].map((m) => m[1]);
  const size = (file) => statSync(join(dir, file)).size;
  const sizeOr = (file, fallback) => {
    try {
      return size(file);
    } catch {
      return size(fallback);
    }
  };
  return {
    files,
    raw: files.reduce((n, f) => n + size(f), 0),
    gzip: files.reduce((n, f) => n + sizeOr(`${f}.gz`, f), 0),
    brotli: files.reduce((n, f) => n + sizeOr(`${f}.br`, f), 0),
  };
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const load = await buildWeb();
  console.log(
    `web: first load ${load.files.length} scripts, ${kb(load.raw)} raw, ${kb(load.gzip)} gzip, ${kb(load.brotli)} brotli`,
  );
}

function kb(bytes) {
  return `${(bytes / 1024).toFixed(1)} KB`;
}
