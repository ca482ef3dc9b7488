// SPDX-License-Identifier: Apache-2.0
/**
 * Timing of Matrix NMS and of the SOLO post-processor (median of 5 runs after one warm-up).
 *
 *   npx tsx --conditions source packages/postprocess/scripts/bench.ts [cpu|wasm] [matmul] [tensors]
 *
 * - matrixNms, 500 candidates at 200×334 (H/4 of 800×1333 padded to 800×1344 / 4 = 200×336 → 200×334 here as
 *   in the brief), bit-packed CPU intersections: realistic masks (ellipses, 10 classes) and a worst case (500
 *   large overlapping masks of one class); from BitmapMasks and from a tensor (download included);
 * - the alternative: the n×n intersection matrix as a chunked tf.matMul over HW (what mmdet does with torch.mm);
 * - SOLOMaskPostProcessor.process: 500 candidates, 100 kept, resized to the padded size and to 800×1333.
 */
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import type { BitmapMasks } from '@solo-ts/core';
import { SOLOMaskPostProcessor, matrixNms } from '@solo-ts/postprocess';

const backend = (process.argv[2] ?? 'cpu') as 'cpu' | 'wasm';
if (backend === 'wasm') await import('@tensorflow/tfjs-backend-wasm');
await tf.setBackend(backend);
await tf.ready();

function lcg(seed: number): () => number {
  let s = seed >>> 0;
  return () => (s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 4294967296;
}

/** n ellipse masks of (h, w): radius between rMin and rMax pixels. */
function ellipses(n: number, h: number, w: number, rMin: number, rMax: number, seed: number): BitmapMasks {
  const rnd = lcg(seed);
  const data = new Uint8Array(n * h * w);
  for (let i = 0; i < n; i++) {
    const cy = rnd() * h;
    const cx = rnd() * w;
    const ry = rMin + rnd() * (rMax - rMin);
    const rx = rMin + rnd() * (rMax - rMin);
    const y0 = Math.max(0, Math.floor(cy - ry));
    const y1 = Math.min(h, Math.ceil(cy + ry));
    for (let y = y0; y < y1; y++) {
      const dy = (y - cy) / ry;
      const half = rx * Math.sqrt(Math.max(0, 1 - dy * dy));
      const x0 = Math.max(0, Math.floor(cx - half));
      const x1 = Math.min(w, Math.ceil(cx + half));
      data.fill(1, i * h * w + y * w + x0, i * h * w + y * w + x1);
    }
  }
  return { count: n, height: h, width: w, data };
}

async function median(label: string, f: () => Promise<unknown> | unknown, runs = 5): Promise<number> {
  await f();
  const t: number[] = [];
  for (let r = 0; r < runs; r++) {
    const s = performance.now();
    await f();
    t.push(performance.now() - s);
  }
  t.sort((a, b) => a - b);
  const med = t[Math.floor(runs / 2)];
  console.log(`${label}: median ${med.toFixed(1)} ms (runs ${t.map((v) => v.toFixed(0)).join(', ')})`);
  return med;
}

/** The n×n intersection matrix with chunked float matMuls over HW (columns in chunks of `chunk`). */
async function matmulIntersections(masks: tf.Tensor2D, chunk: number): Promise<Float32Array> {
  const [n, hw] = masks.shape;
  let acc = tf.zeros([n, n]);
  for (let s = 0; s < hw; s += chunk) {
    const next = tf.tidy(() => {
      const c = tf.slice(masks, [0, s], [n, Math.min(chunk, hw - s)]);
      return tf.add(acc, tf.matMul(c, c, false, true));
    });
    acc.dispose();
    acc = next;
  }
  const out = (await acc.data()) as Float32Array;
  acc.dispose();
  return out;
}

const N = 500;
const H = 200;
const W = 334;
const rnd = lcg(1);
const scores = Float32Array.from({ length: N }, () => 0.1 + 0.9 * rnd());
const labels10 = Int32Array.from({ length: N }, () => Math.floor(rnd() * 10));
const labels1 = new Int32Array(N);
const realistic = ellipses(N, H, W, 5, 60, 2);
const worst = ellipses(N, H, W, 80, 200, 3);
console.log(`backend ${tf.getBackend()}; ${N} masks of ${H}×${W}`);
const nmsOpts = { nmsPre: 500, maxNum: 100, kernel: 'gaussian' as const, sigma: 2, filterThr: 0.05 };
await median('matrixNms bitset, realistic (ellipses r 5-60, 10 classes), BitmapMasks', () => matrixNms(realistic, labels10, scores, nmsOpts));
await median('matrixNms bitset, realistic, one class, BitmapMasks', () => matrixNms(realistic, labels1, scores, nmsOpts));
await median('matrixNms bitset, worst case (r 80-200, one class), BitmapMasks', () => matrixNms(worst, labels1, scores, nmsOpts));
const tReal = tf.tensor3d(realistic.data, [N, H, W], 'bool');
await median('matrixNms bitset, realistic, one class, bool tensor input (download included)', () => matrixNms(tReal, labels1, scores, nmsOpts));
tReal.dispose();
if (process.argv.includes('matmul')) {
const flat = tf.tidy(() => tf.cast(tf.tensor2d(worst.data, [N, H * W], 'int32'), 'float32')) as tf.Tensor2D;
await median(`intersection matrix only, chunked tf.matMul over HW (chunk 8192), ${backend}`, () => matmulIntersections(flat, 8192), 3);
flat.dispose();
}

// full post-processor: 500 candidates (prob maps), 100 kept, output 800×1333
const probs = tf.tidy(() => {
  const m = tf.tensor3d(realistic.data, [N, H, W], 'int32');
  const noise = tf.randomUniform([N, H, W], 0, 0.3, 'float32', 7);
  return tf.add(tf.mul(tf.cast(m, 'float32'), 0.65), noise);
});
const strides = Float32Array.from({ length: N }, (_, i) => [8, 8, 16, 32, 32][i % 5]);
const hostCompute = process.argv.includes('tensors') ? 'off' : 'auto';
const pp = new SOLOMaskPostProcessor({ chunkSize: 8, hostCompute });
const meta = { imgId: 0, oriShape: [800, 1333] as [number, number], imgShape: [800, 1333] as [number, number], scaleFactor: [1, 1] as [number, number] };
const cfg = { nmsPre: 500, scoreThr: 0.1, maskThr: 0.5, filterThr: 0.05, kernel: 'gaussian' as const, sigma: 2.0, maxPerImg: 100 };
let kept = 0;
await median(`SOLOMaskPostProcessor.process host_compute=${hostCompute} (500 candidates at 200×334 → 100 masks at 800×1333)`, async () => {
  const r = await pp.process({ maskProbs: tf.clone(probs) as tf.Tensor3D, clsScores: scores, labels: labels10, strides }, meta, cfg);
  kept = r.masks?.count ?? 0;
});
console.log(`kept ${kept} masks; tensors alive after: ${tf.memory().numTensors}`);
probs.dispose();
// large masks (every kept mask covers a big part of the image): the windowed resize cannot skip much
const probsBig = tf.tidy(() => {
  const m = tf.tensor3d(worst.data, [N, H, W], 'int32');
  const noise = tf.randomUniform([N, H, W], 0, 0.3, 'float32', 8);
  return tf.add(tf.mul(tf.cast(m, 'float32'), 0.65), noise);
});
await median(`SOLOMaskPostProcessor.process host_compute=${hostCompute}, large masks (r 80-200)`, async () => {
  const r = await pp.process({ maskProbs: tf.clone(probsBig) as tf.Tensor3D, clsScores: scores, labels: labels10, strides }, meta, cfg);
  kept = r.masks?.count ?? 0;
});
console.log(`kept ${kept} masks`);
probsBig.dispose();
