// SPDX-License-Identifier: Apache-2.0
/**
 * Group normalisation as two kernels, `SoloGroupNorm` and `SoloGroupNormGrad` (NHWC, affine), for backends whose
 * memory JavaScript can read directly (`wasm` through its heap, `cpu` through `readSync`).
 *
 * Composed from tfjs ops, a GroupNorm is ~11 kernels forward and ~25 backward (reshape, mean, sub, square, rsqrt,
 * mul, sum, ...); the SOLO models call it 40-50 times per forward, so in a training step of the small demo model
 * those small kernels took about a fifth of the time. Here the forward is three passes over the input (mean,
 * centred variance, output) and the backward two, with float64 accumulators.
 *
 * - `SoloGroupNorm`: inputs `x` [N,H,W,C], `weight` [C], `bias` [C]; attrs `groups`, `eps`. Outputs `y` (same shape
 *   as x) and `stats` [N, G, 2] = (mean, 1/sqrt(var + eps)) per sample and group, biased variance as PyTorch.
 * - `SoloGroupNormGrad`: inputs `dy`, `x`, `weight`, `stats`; attrs `groups`. Outputs `dx`, `dweight`, `dbias`:
 *   with x̂ = (x - mean)·r and g = dy·weight, `dx = r·(g - mean(g) - x̂·mean(g·x̂))` over each (sample, group),
 *   `dweight = Σ dy·x̂`, `dbias = Σ dy` over N, H, W.
 */
import * as tf from '@tensorflow/tfjs-core';
import { type BackendLike, isHeapBackend } from './kernel_utils.js';

export const GROUP_NORM = 'SoloGroupNorm';
export const GROUP_NORM_GRAD = 'SoloGroupNormGrad';

interface Out {
  info: tf.TensorInfo;
  view: Float32Array;
}

/** Allocates float32 outputs, then views inputs and outputs (outputs first: heap growth detaches older views). */
function prepare(backend: BackendLike, inputs: tf.TensorInfo[], shapes: number[][]): { ins: Float32Array[]; outs: Out[]; finish: () => tf.TensorInfo[] } {
  if (isHeapBackend(backend)) {
    const infos = shapes.map((s) => backend.makeOutput(s, 'float32'));
    const ins = inputs.map((t) => backend.typedArrayFromHeap(t) as Float32Array);
    const outs = infos.map((info) => ({ info, view: backend.typedArrayFromHeap(info) as Float32Array }));
    return { ins, outs, finish: () => infos };
  }
  const ins = inputs.map((t) => backend.readSync(t.dataId) as Float32Array);
  const outs = shapes.map((s) => ({ info: { dataId: {}, shape: s, dtype: 'float32' } as tf.TensorInfo, view: new Float32Array(tf.util.sizeFromShape(s)) }));
  return {
    ins,
    outs,
    finish: () => outs.map((o) => ({ dataId: backend.write(o.view, o.info.shape, 'float32'), shape: o.info.shape, dtype: 'float32' as const })),
  };
}

function checkInputs(kernel: string, x: tf.TensorInfo, groups: number, ...perChannel: tf.TensorInfo[]): void {
  if (x.shape.length !== 4) throw new Error(`${kernel}: expected a rank-4 NHWC input, got shape [${x.shape}]`);
  const c = x.shape[3];
  if (!(groups > 0) || c % groups !== 0) throw new Error(`${kernel}: ${c} channels are not divisible by ${groups} groups`);
  for (const t of [x, ...perChannel]) {
    if (t.dtype !== 'float32') throw new Error(`${kernel}: expected float32 tensors, got ${t.dtype}`);
  }
  for (const t of perChannel) {
    if (t.shape.length !== 1 || t.shape[0] !== c) throw new Error(`${kernel}: expected a [${c}] per-channel tensor, got [${t.shape}]`);
  }
}

export function groupNormConfig(backendName: string): tf.KernelConfig {
  return {
    kernelName: GROUP_NORM,
    backendName,
    kernelFunc: ({ inputs, backend, attrs = {} }) => {
      const { x, weight, bias } = inputs as { x: tf.TensorInfo; weight: tf.TensorInfo; bias: tf.TensorInfo };
      const groups = attrs['groups'] as number;
      const eps = attrs['eps'] as number;
      checkInputs(GROUP_NORM, x, groups, weight, bias);
      const [n, h, w, c] = x.shape;
      const hw = h * w;
      const cg = c / groups;
      const count = hw * cg;
      const { ins, outs, finish } = prepare(backend as BackendLike, [x, weight, bias], [x.shape, [n, groups, 2]]);
      const [xv, wv, bv] = ins;
      const yv = outs[0].view;
      const sv = outs[1].view;
      const acc = new Float64Array(groups);
      const mean = new Float64Array(groups);
      const scale = new Float32Array(c);
      const shift = new Float32Array(c);
      for (let s = 0; s < n; s++) {
        const base = s * hw * c;
        const end = base + hw * c;
        acc.fill(0);
        for (let p = base; p < end; p += c) {
          for (let g = 0, k = p; g < groups; g++) {
            let t = 0;
            for (let j = 0; j < cg; j++, k++) t += xv[k];
            acc[g] += t;
          }
        }
        for (let g = 0; g < groups; g++) mean[g] = acc[g] / count;
        acc.fill(0);
        for (let p = base; p < end; p += c) {
          for (let g = 0, k = p; g < groups; g++) {
            const m = mean[g];
            let t = 0;
            for (let j = 0; j < cg; j++, k++) {
              const d = xv[k] - m;
              t += d * d;
            }
            acc[g] += t;
          }
        }
        for (let g = 0; g < groups; g++) {
          const r = 1 / Math.sqrt(acc[g] / count + eps);
          sv[(s * groups + g) * 2] = mean[g];
          sv[(s * groups + g) * 2 + 1] = r;
          // y = (x - mean)·r·weight + bias = x·scale + shift
          for (let j = 0; j < cg; j++) {
            const ch = g * cg + j;
            scale[ch] = r * wv[ch];
            shift[ch] = bv[ch] - mean[g] * r * wv[ch];
          }
        }
        for (let p = base; p < end; p += c) {
          for (let ch = 0; ch < c; ch++) yv[p + ch] = xv[p + ch] * scale[ch] + shift[ch];
        }
      }
      return finish();
    },
  };
}

export function groupNormGradConfig(backendName: string): tf.KernelConfig {
  return {
    kernelName: GROUP_NORM_GRAD,
    backendName,
    kernelFunc: ({ inputs, backend, attrs = {} }) => {
      const { dy, x, weight, stats } = inputs as { dy: tf.TensorInfo; x: tf.TensorInfo; weight: tf.TensorInfo; stats: tf.TensorInfo };
      const groups = attrs['groups'] as number;
      checkInputs(GROUP_NORM_GRAD, x, groups, weight);
      const [n, h, w, c] = x.shape;
      if (!tf.util.arraysEqual(dy.shape, x.shape)) throw new Error(`${GROUP_NORM_GRAD}: dy [${dy.shape}] and x [${x.shape}] differ`);
      const hw = h * w;
      const cg = c / groups;
      const count = hw * cg;
      const { ins, outs, finish } = prepare(backend as BackendLike, [dy, x, weight, stats], [x.shape, [c], [c]]);
      const [dyv, xv, wv, sv] = ins;
      const dxv = outs[0].view;
      const dw = new Float64Array(c);
      const db = new Float64Array(c);
      const s1 = new Float64Array(groups);
      const s2 = new Float64Array(groups);
      for (let s = 0; s < n; s++) {
        const base = s * hw * c;
        const end = base + hw * c;
        s1.fill(0);
        s2.fill(0);
        for (let p = base; p < end; p += c) {
          for (let g = 0, k = p; g < groups; g++) {
            const m = sv[(s * groups + g) * 2];
            const r = sv[(s * groups + g) * 2 + 1];
            let t1 = 0;
            let t2 = 0;
            for (let j = 0; j < cg; j++, k++) {
              const ch = k - p;
              const d = dyv[k];
              const xh = (xv[k] - m) * r;
              const gk = d * wv[ch];
              t1 += gk;
              t2 += gk * xh;
              dw[ch] += d * xh;
              db[ch] += d;
            }
            s1[g] += t1;
            s2[g] += t2;
          }
        }
        for (let g = 0; g < groups; g++) {
          s1[g] /= count;
          s2[g] /= count;
        }
        for (let p = base; p < end; p += c) {
          for (let g = 0, k = p; g < groups; g++) {
            const m = sv[(s * groups + g) * 2];
            const r = sv[(s * groups + g) * 2 + 1];
            const m1 = s1[g];
            const m2 = s2[g];
            for (let j = 0; j < cg; j++, k++) {
              const xh = (xv[k] - m) * r;
              dxv[k] = r * (dyv[k] * wv[k - p] - m1 - xh * m2);
            }
          }
        }
      }
      outs[1].view.set(dw);
      outs[2].view.set(db);
      return finish();
    },
  };
}
