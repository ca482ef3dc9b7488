// SPDX-License-Identifier: Apache-2.0
// Bundles the page (src/main.ts and the solo-ts packages it imports, from their TypeScript sources) into
// dist/main.js with esbuild, and copies onnxruntime-web's WebAssembly files to dist/ort/.
// Usage: node examples/browser/build.mjs [--minify]
import { build } from 'esbuild';
import { copyFileSync, mkdirSync, readdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
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
  const out = join(here, 'dist');
  await build({
    entryPoints: [join(here, 'src', 'main.ts')],
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
  for (const f of readdirSync(ortDist)) if (/^ort-wasm.*\.(wasm|mjs)$/.test(f)) copyFileSync(join(ortDist, f), join(out, 'ort', f));
  return out;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const out = await buildPage({ minify: process.argv.includes('--minify') });
  console.log(`built ${out}`);
}
