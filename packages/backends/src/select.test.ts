// SPDX-License-Identifier: Apache-2.0
import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { isSoloError } from '@solo-ts/core';
import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { selectBackend } from './select.js';

const require = createRequire(import.meta.url);
function installed(pkg: string): boolean {
  try {
    require.resolve(`${pkg}/package.json`);
    return true;
  } catch {
    return false;
  }
}

/** A small conv forward + both gradients, as plain arrays. */
function convAndGrads(): number[][] {
  return tf.tidy(() => {
    const x = tf.tensor4d(Array.from({ length: 2 * 9 * 8 * 3 }, (_, i) => Math.sin(i)), [2, 9, 8, 3]);
    const w = tf.tensor4d(Array.from({ length: 3 * 3 * 3 * 4 }, (_, i) => Math.cos(i)), [3, 3, 3, 4]);
    const f = (a: tf.Tensor, b: tf.Tensor) => tf.sum(tf.square(tf.conv2d(a as tf.Tensor4D, b as tf.Tensor4D, 2, 'same')));
    const [dx, dw] = tf.grads(f)([x, w]);
    // matMul and its transposed gradients (the wasm BatchMatMul wrapper must work on a freshly initialised backend).
    const a = tf.tensor2d(Array.from({ length: 64 * 96 }, (_, i) => Math.sin(i * 0.37)), [64, 96]);
    const b = tf.tensor2d(Array.from({ length: 96 * 80 }, (_, i) => Math.cos(i * 0.11)), [96, 80]);
    const [da, db] = tf.grads((p: tf.Tensor, q: tf.Tensor) => tf.sum(tf.square(tf.matMul(p as tf.Tensor2D, q as tf.Tensor2D))))([a, b]);
    return [Array.from(f(x, w).dataSync()), Array.from(dx.dataSync()), Array.from(dw.dataSync()),
      Array.from(da.dataSync()), Array.from(db.dataSync())];
  });
}

function expectAllClose(a: number[][], b: number[][]): void {
  for (let k = 0; k < a.length; k++) {
    const scale = Math.max(1, ...b[k].map(Math.abs));
    a[k].forEach((v, i) => expect(Math.abs(v - b[k][i])).toBeLessThanOrEqual(1e-4 * scale));
  }
}

describe('selectBackend', () => {
  it('cpu: reference backend with gradients', async () => {
    const sel = await selectBackend('cpu', { quiet: true });
    expect(sel).toEqual({ name: 'cpu', detail: 'cpu (pure JavaScript reference, slow)' });
    expect(tf.getBackend()).toBe('cpu');
  });

  it('wasm with 1 and 2 threads gives the cpu results (threads work under Node)', async () => {
    await selectBackend('cpu', { quiet: true });
    const ref = convAndGrads();
    const one = await selectBackend('wasm', { threads: 1, quiet: true });
    expect(one.detail).toMatch(/^wasm \(XNNPACK, 1 thread, SIMD\)$/);
    expectAllClose(convAndGrads(), ref);
    const two = await selectBackend('wasm', { threads: 2, quiet: true });
    expect(two).toEqual({ name: 'wasm', detail: 'wasm (XNNPACK, 2 threads, SIMD)' });
    expect(tf.getBackend()).toBe('wasm');
    expectAllClose(convAndGrads(), ref);
    // Same configuration again: no re-initialisation, tensors stay valid.
    const t = tf.scalar(3);
    await selectBackend('wasm', { threads: 2, quiet: true });
    expect(t.dataSync()[0]).toBe(3);
    t.dispose();
  });

  it('falls back to the single-threaded build when the threaded loader cannot start', async () => {
    const saved = process.env['TMPDIR'];
    process.env['TMPDIR'] = '/nonexistent/solo-ts-test'; // the worker script cannot be written
    try {
      const sel = await selectBackend('wasm', { threads: 3, quiet: true });
      expect(sel.detail).toMatch(/^wasm \(XNNPACK, 1 thread, threads unavailable: .*ENOENT/);
      expect(tf.getBackend()).toBe('wasm');
    } finally {
      if (saved === undefined) delete process.env['TMPDIR'];
      else process.env['TMPDIR'] = saved;
    }
  });

  it('a process that used the threaded backend exits by itself', () => {
    const here = path.dirname(fileURLToPath(import.meta.url));
    const r = spawnSync(process.execPath, ['--import', 'tsx', '--conditions', 'source',
      path.join(here, '__fixtures__', 'threaded-exit.ts')], { encoding: 'utf8', timeout: 90_000 });
    expect(r.error, String(r.error)).toBeUndefined(); // a timeout would be an error here
    expect(r.stderr).not.toMatch(/Error/);
    expect(r.status).toBe(0);
    expect(r.stdout.trim()).toBe('wasm (XNNPACK, 2 threads, SIMD) 32'); // corner: 2x2 window x 8 channels
  });

  it('caps threads at 8 and reports it', async () => {
    const sel = await selectBackend('wasm', { threads: 12, quiet: true });
    expect(sel.detail).toMatch(/capped from 12/);
    await selectBackend('wasm', { threads: 1, quiet: true });
  });

  it.skipIf(installed('@tensorflow/tfjs-node') || installed('@tensorflow/tfjs-node-gpu'))(
    'tensorflow: a SoloError that says what to install when tfjs-node is missing', async () => {
      const err = await selectBackend('tensorflow', { quiet: true }).catch((e: unknown) => e);
      expect(isSoloError(err)).toBe(true);
      const e = err as { code: string; message: string; hint: string };
      expect(e.code).toBe('BACKEND');
      expect(e.message).toMatch(/tfjs-node-gpu or @tensorflow\/tfjs-node/);
      expect(e.hint).toMatch(/CUDA 11\.2/);
      expect(e.hint).toMatch(/cuDNN 8\.1/);
      expect(e.hint).toMatch(/TFJS_NODE_BASE_URI/);
    });

  it.skipIf(installed('@tensorflow/tfjs-node') || installed('@tensorflow/tfjs-node-gpu'))(
    'auto falls back to wasm when tfjs-node is not installed', async () => {
      const sel = await selectBackend('auto', { threads: 1, quiet: true });
      expect(sel.name).toBe('wasm');
    });

  it.skipIf(installed('@tensorflow/tfjs-backend-webgpu'))('webgpu: a SoloError when the package is missing', async () => {
    const err = await selectBackend('webgpu', { quiet: true }).catch((e: unknown) => e);
    expect(isSoloError(err)).toBe(true);
    expect((err as { hint: string }).hint).toMatch(/tfjs-backend-webgpu/);
  });

  it('rejects unknown names and bad thread counts', async () => {
    for (const bad of [() => selectBackend('gpu' as 'cpu'), () => selectBackend('wasm', { threads: 0 }),
      () => selectBackend('wasm', { threads: 1.5 })]) {
      const err = await bad().catch((e: unknown) => e);
      expect(isSoloError(err)).toBe(true);
      expect((err as { code: string }).code).toBe('ARGUMENT');
    }
  });
});
