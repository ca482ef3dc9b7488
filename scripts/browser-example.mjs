// SPDX-License-Identifier: Apache-2.0
// examples/browser: bundle the page and serve it.
//   node scripts/browser-example.mjs build [--minify]   bundles examples/browser/src/main.ts (and the solo-ts packages
//                                                      it imports, from their TypeScript sources) into
//                                                      examples/browser/dist/main.js with esbuild, and copies
//                                                      onnxruntime-web's WebAssembly files to examples/browser/dist/ort/
//   node scripts/browser-example.mjs serve [--port 8080] [--mount /files=DIR ...]
//                                                      serves examples/browser with the cross-origin isolation headers
//                                                      (COOP / COEP) that WebAssembly threads need
// The browser test (test/browser) imports `buildPage` and `serve`.
import { build } from 'esbuild';
import { copyFileSync, createReadStream, mkdirSync, readdirSync, statSync } from 'node:fs';
import { createServer } from 'node:http';
import { createRequire } from 'node:module';
import { dirname, extname, join, normalize, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

const PAGE = resolve(dirname(fileURLToPath(import.meta.url)), '..', 'examples', 'browser');
const require = createRequire(import.meta.url);

// Node-only modules reachable from package entry points (file and worker I/O of @solo-ts/datasets) that the
// page never calls: replaced by a module whose every export throws when used.
const nodeOnly = {
  name: 'node-only',
  setup(b) {
    b.onResolve({ filter: /^(node:.*|sharp|fs|path|os|url|module|worker_threads|crypto)$/ }, (a) => ({ path: a.path, namespace: 'node-only' }));
    b.onLoad({ filter: /.*/, namespace: 'node-only' }, (a) => ({
      contents: `const fail = () => { throw new Error(${JSON.stringify(`${a.path} is not available in the browser`)}); };
module.exports = new Proxy(fail, { get: (_t, k) => (k === '__esModule' ? false : k === 'default' ? module.exports : fail) });`,
      loader: 'js',
    }));
  },
};

export async function buildPage({ minify = false } = {}) {
  const out = join(PAGE, 'dist');
  await build({
    entryPoints: [join(PAGE, 'src', 'main.ts')],
    bundle: true,
    format: 'esm',
    platform: 'browser',
    target: 'es2022',
    conditions: ['source'],
    outfile: join(out, 'main.js'),
    sourcemap: true,
    minify,
    logLevel: 'warning',
    plugins: [nodeOnly],
  });
  const ortDist = dirname(require.resolve('onnxruntime-web/ort-wasm-simd-threaded.wasm'));
  mkdirSync(join(out, 'ort'), { recursive: true });
  for (const f of readdirSync(ortDist)) if (/^ort-wasm-simd-threaded\.jsep\.(wasm|mjs)$/.test(f)) copyFileSync(join(ortDist, f), join(out, 'ort', f));
  return out;
}

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
export function serve({ root = PAGE, port = 0, host = '127.0.0.1', mounts = {} } = {}) {
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

if (process.argv[1] && fileURLToPath(import.meta.url) === resolve(process.argv[1])) {
  const [cmd, ...rest] = process.argv.slice(2);
  if (cmd === 'build') {
    console.log(`built ${await buildPage({ minify: rest.includes('--minify') })}`);
  } else if (cmd === 'serve') {
    const mounts = {};
    let port = 8080;
    for (let i = 0; i < rest.length; i++) {
      if (rest[i] === '--mount') {
        const [prefix, dir] = rest[++i].split('=');
        mounts[prefix] = dir;
      } else if (rest[i] === '--port') port = Number(rest[++i]);
    }
    const server = await serve({ port, mounts });
    const a = server.address();
    console.log(`serving examples/browser on http://${a.address}:${a.port}/ (cross-origin isolated)`);
  } else {
    console.error('usage: node scripts/browser-example.mjs build [--minify] | serve [--port N] [--mount /prefix=DIR ...]');
    process.exitCode = 2;
  }
}
