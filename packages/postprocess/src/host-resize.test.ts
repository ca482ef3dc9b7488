// SPDX-License-Identifier: Apache-2.0
import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import { setupTestBackend } from '@solo-ts/testing';
import { bilinearTaps, resizeBilinearBlock, resizeBilinearBlockThreshold, resizeCropResizeThreshold } from './host-resize.js';

describe('host bilinear resize (PyTorch align_corners=False)', () => {
  beforeAll(async () => {
    await setupTestBackend('cpu');
  });

  it('close to tf.image.resizeBilinear(halfPixelCenters) (which uses a float64 scale), full and cropped blocks, thresholds', () => {
    let s = 17;
    const rnd = () => (s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 4294967296;
    for (const [h, w, oh, ow] of [
      [8, 12, 32, 48],
      [7, 9, 30, 41],
      [30, 41, 7, 9],
      [20, 20, 20, 20],
      [5, 33, 13, 8],
    ]) {
      const src = Float32Array.from({ length: h * w }, rnd);
      const ref = tf.tidy(() => tf.image.resizeBilinear(tf.tensor4d(src, [1, h, w, 1]), [oh, ow], false, true).dataSync());
      const full = new Float32Array(oh * ow);
      resizeBilinearBlock(src, 0, h, w, oh, ow, oh, ow, full, 0);
      for (let k = 0; k < full.length; k++) expect(Math.abs(full[k] - ref[k])).toBeLessThan(3e-6);
      // the top-left block of the full resize
      const rows = Math.max(1, oh - 3);
      const cols = Math.max(1, ow - 5);
      const block = new Float32Array(rows * cols);
      resizeBilinearBlock(src, 0, h, w, oh, ow, rows, cols, block, 0);
      for (let y = 0; y < rows; y++) for (let x = 0; x < cols; x++) expect(block[y * cols + x]).toBe(full[y * ow + x]);
      // thresholded output
      const bin = new Uint8Array(oh * ow);
      resizeBilinearBlockThreshold(src, 0, h, w, oh, ow, oh, ow, bin, 0, 0.5);
      for (let k = 0; k < bin.length; k++) expect(bin[k]).toBe(full[k] > 0.5 ? 1 : 0);
    }
  });

  it('taps: exact quarter positions for a ×4 upsample, clamped borders', () => {
    const t = bilinearTaps(4, 16);
    expect(Array.from(t.i0)).toEqual([0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3]);
    expect(Array.from(t.i1)).toEqual([1, 1, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3, 3, 3]);
    expect(Array.from(t.l1.subarray(0, 6))).toEqual([0, 0, 0.125, 0.375, 0.625, 0.875]);
    expect(Array.from(bilinearTaps(5, 5).l1)).toEqual([0, 0, 0, 0, 0]);
  });
});

describe('host bilinear resize vs torch 1.13 F.interpolate', () => {
  it('matches the fixture to float32 rounding', async () => {
    const { readFileSync } = await import('node:fs');
    const { dirname, join } = await import('node:path');
    const { fileURLToPath } = await import('node:url');
    const fx = JSON.parse(readFileSync(join(dirname(fileURLToPath(import.meta.url)), '__fixtures__', 'torch_bilinear.json'), 'utf8')) as {
      cases: Array<{ h: number; w: number; oh: number; ow: number; x: string; y: string }>;
    };
    const f32 = (b: string) => new Float32Array(new Uint8Array(Buffer.from(b, 'base64')).buffer);
    let worst = 0;
    let exact = 0;
    let total = 0;
    for (const c of fx.cases) {
      const x = f32(c.x);
      const y = f32(c.y);
      const out = new Float32Array(c.oh * c.ow);
      resizeBilinearBlock(x, 0, c.h, c.w, c.oh, c.ow, c.oh, c.ow, out, 0);
      for (let k = 0; k < out.length; k++) {
        const d = Math.abs(out[k] - y[k]);
        worst = Math.max(worst, d);
        if (d === 0) exact++;
        total++;
      }
    }
    console.log(`host resize vs torch: ${exact}/${total} exact, worst |diff| ${worst}`);
    expect(worst).toBe(0);
  });
});

describe('resizeCropResizeThreshold (windowed) equals the full pipeline', () => {
  it('random blobs, several geometries', () => {
    let s = 99;
    const rnd = () => (s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 4294967296;
    for (const [h4, w4, cropH, cropW, H0, W0] of [
      [16, 24, 60, 90, 45, 67],
      [16, 24, 64, 96, 64, 96],
      [10, 13, 37, 50, 80, 111],
      [8, 8, 32, 32, 7, 5],
    ]) {
      for (let trial = 0; trial < 8; trial++) {
        const probs = new Float32Array(h4 * w4);
        const cy = rnd() * h4;
        const cx = rnd() * w4;
        const r = 1 + rnd() * 5;
        for (let y = 0; y < h4; y++) for (let x = 0; x < w4; x++) probs[y * w4 + x] = Math.fround(Math.max(0, 0.9 - Math.hypot(y - cy, x - cx) / (2 * r)) + rnd() * 0.05);
        if (trial === 5) probs.fill(0.2);
        // noise around the threshold everywhere (masks of an untrained model)
        if (trial === 4) for (let k = 0; k < probs.length; k++) probs[k] = Math.fround(0.5 + (rnd() - 0.5) * 0.02);
        // values within a few 1e-5 of the threshold, and exactly at the margins the boundary-only path uses
        if (trial === 6) for (let k = 0; k < probs.length; k++) probs[k] = Math.fround(0.5 + (rnd() - 0.5) * 4e-5);
        if (trial === 7) for (let k = 0; k < probs.length; k++) probs[k] = Math.fround(0.5 + [-1e-5, 1e-5, 0, 2e-5, -2e-5][k % 5]);
        const thr = 0.5;
        // full: padded resize, crop, ori resize, threshold
        const padded = new Float32Array(4 * h4 * 4 * w4);
        resizeBilinearBlock(probs, 0, h4, w4, 4 * h4, 4 * w4, 4 * h4, 4 * w4, padded, 0);
        const crop = new Float32Array(cropH * cropW);
        for (let y = 0; y < cropH; y++) crop.set(padded.subarray(y * 4 * w4, y * 4 * w4 + cropW), y * cropW);
        const full = new Uint8Array(H0 * W0);
        resizeBilinearBlockThreshold(crop, 0, cropH, cropW, H0, W0, H0, W0, full, 0, thr);
        const win = new Uint8Array(H0 * W0);
        resizeCropResizeThreshold(probs, 0, h4, w4, bilinearTaps(h4, 4 * h4, cropH), bilinearTaps(w4, 4 * w4, cropW), bilinearTaps(cropH, H0), bilinearTaps(cropW, W0), thr, new Float32Array(cropH * cropW), win, 0);
        expect(Array.from(win)).toEqual(Array.from(full));
      }
    }
  });
});
