// SPDX-License-Identifier: Apache-2.0
// A static file server for the page with the cross-origin isolation headers (COOP / COEP) that WebAssembly
// threads need. Usage: node examples/browser/serve.mjs [--port 8080] [--root DIR]  (default root: examples/browser)
// Extra files (a model, an image) can be served from other directories: --mount /files=/path/to/dir.
import { createReadStream, statSync } from 'node:fs';
import { createServer } from 'node:http';
import { dirname, extname, join, normalize, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

const TYPES = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.map': 'application/json',
  '.wasm': 'application/wasm',
  '.onnx': 'application/octet-stream',
  '.png': 'image/png',
  '.jpg': 'image/jpeg',
  '.jpeg': 'image/jpeg',
  '.json': 'application/json',
};

/** Start the server; `mounts` maps URL prefixes (`/files`) to directories. Resolves to the listening server. */
export function serve({ root = dirname(fileURLToPath(import.meta.url)), port = 0, host = '127.0.0.1', mounts = {} } = {}) {
  const server = createServer((req, res) => {
    const url = decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname);
    let base = resolve(root);
    let rel = url;
    for (const [prefix, dir] of Object.entries(mounts)) {
      if (url.startsWith(`${prefix}/`)) {
        base = resolve(dir);
        rel = url.slice(prefix.length);
      }
    }
    const file = normalize(join(base, rel.endsWith('/') ? `${rel}index.html` : rel));
    const headers = { 'Cross-Origin-Opener-Policy': 'same-origin', 'Cross-Origin-Embedder-Policy': 'require-corp', 'Cross-Origin-Resource-Policy': 'same-origin', 'Cache-Control': 'no-store' };
    let ok = file === base || file.startsWith(base + sep);
    try {
      ok &&= statSync(file).isFile();
    } catch {
      ok = false;
    }
    if (!ok) {
      res.writeHead(404, headers).end('not found');
      return;
    }
    res.writeHead(200, { ...headers, 'Content-Type': TYPES[extname(file)] ?? 'application/octet-stream' });
    createReadStream(file).pipe(res);
  });
  return new Promise((ok) => server.listen(port, host, () => ok(server)));
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const arg = (name) => {
    const i = process.argv.indexOf(name);
    return i > 0 ? process.argv[i + 1] : undefined;
  };
  const mounts = {};
  for (let i = 0; i < process.argv.length; i++) {
    if (process.argv[i] === '--mount') {
      const [prefix, dir] = process.argv[i + 1].split('=');
      mounts[prefix] = dir;
    }
  }
  const server = await serve({ port: Number(arg('--port') ?? 8080), root: arg('--root'), mounts });
  const a = server.address();
  console.log(`serving on http://${a.address}:${a.port}/ (cross-origin isolated)`);
}
