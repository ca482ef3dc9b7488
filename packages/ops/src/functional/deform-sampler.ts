// SPDX-License-Identifier: Apache-2.0
/**
 * DCNv2 bilinear sampling (im2col) and its adjoint as plain loops over typed arrays, for the synchronous
 * backends (`cpu`, `wasm`). About 10x faster there than composing gather / multiply ops, because each sample's
 * four corners and weights are computed once and applied to a contiguous run of NHWC channels.
 *
 * Semantics are mmcv's `modulated_deform_conv` (see deform-conv.ts): a sample with row <= -1, row >= h, col <= -1
 * or col >= w contributes 0 and gets zero offset gradient; corners outside the image read 0. Sampling positions
 * are computed in float32 as the reference kernels do.
 */

/** Geometry of one deformable conv call. */
export interface DeformGeometry {
  n: number;
  h: number;
  w: number;
  c: number;
  ho: number;
  wo: number;
  kh: number;
  kw: number;
  sh: number;
  sw: number;
  ph: number;
  pw: number;
  dh: number;
  dw: number;
  dg: number;
}

interface Sample {
  valid: boolean;
  y0: number;
  x0: number;
  ly: number;
  lx: number;
}

function sampleAt(py: number, px: number, g: DeformGeometry, out: Sample): void {
  if (py <= -1 || py >= g.h || px <= -1 || px >= g.w) {
    out.valid = false;
    return;
  }
  out.valid = true;
  out.y0 = Math.floor(py);
  out.x0 = Math.floor(px);
  out.ly = Math.fround(py - out.y0);
  out.lx = Math.fround(px - out.x0);
}

/** A walk over the samples of one call: the current sample and where it is in the loops. */
interface SampleWalk extends Sample {
  /** Image, output row and column, output position `m` (row-major over n, ho, wo), deformable group, tap. */
  b: number;
  oy: number;
  ox: number;
  m: number;
  d: number;
  k: number;
  /** Index of the tap's y offset in `offset` (x follows). */
  o: number;
}

function startWalk(): SampleWalk {
  return { valid: false, y0: 0, x0: 0, ly: 0, lx: 0, b: 0, oy: 0, ox: 0, m: 0, d: 0, k: -1, o: 0 };
}

/**
 * Advances `t` to the next sample inside the image, in mmcv's loop order (image, output row, output column,
 * deformable group, tap), with the sampling position `p_k(m)` computed in float32; false past the last one.
 */
function nextSample(t: SampleWalk, offset: Float32Array, g: DeformGeometry): boolean {
  const K = g.kh * g.kw;
  if (g.n === 0 || g.ho === 0 || g.wo === 0 || g.dg === 0 || K === 0) return false;
  const f = Math.fround;
  for (;;) {
    if (++t.k === K) {
      t.k = 0;
      if (++t.d === g.dg) {
        t.d = 0;
        if (++t.ox === g.wo) {
          t.ox = 0;
          if (++t.oy === g.ho) {
            t.oy = 0;
            if (++t.b === g.n) return false;
          }
        }
        t.m = (t.b * g.ho + t.oy) * g.wo + t.ox;
      }
    }
    const i = (t.k / g.kw) | 0;
    const j = t.k - i * g.kw;
    const o = t.m * 2 * g.dg * K + t.d * 2 * K + 2 * t.k;
    sampleAt(f(t.oy * g.sh - g.ph + i * g.dh + offset[o]), f(t.ox * g.sw - g.pw + j * g.dw + offset[o + 1]), g, t);
    if (!t.valid) continue;
    t.o = o;
    return true;
  }
}

/**
 * Forward: `cols[m, k * c + ch] = mask * bilinear(x, p_k(m))` for every output position m (row-major over
 * n, ho, wo), tap k and channel ch. `x` NHWC, `offset` `[M, 2 dg K]`, `mask` `[M, dg K]`.
 */
export function deformIm2colLoop(x: Float32Array, offset: Float32Array, mask: Float32Array, g: DeformGeometry): Float32Array {
  const { n, h, w, c, ho, wo, kh, kw, dg } = g;
  const K = kh * kw;
  const cg = c / dg;
  const cols = new Float32Array(n * ho * wo * K * c);
  const t = startWalk();
  while (nextSample(t, offset, g)) {
    const { b, m, d, k, y0, x0, ly, lx } = t;
    const mv = mask[m * dg * K + d * K + k];
    const hy = 1 - ly;
    const hx = 1 - lx;
    const okY0 = y0 >= 0;
    const okY1 = y0 + 1 <= h - 1;
    const okX0 = x0 >= 0;
    const okX1 = x0 + 1 <= w - 1;
    const w00 = okY0 && okX0 ? hy * hx * mv : 0;
    const w01 = okY0 && okX1 ? hy * lx * mv : 0;
    const w10 = okY1 && okX0 ? ly * hx * mv : 0;
    const w11 = okY1 && okX1 ? ly * lx * mv : 0;
    const rowBase = b * h;
    const p00 = okY0 && okX0 ? ((rowBase + y0) * w + x0) * c + d * cg : 0;
    const p01 = okY0 && okX1 ? ((rowBase + y0) * w + x0 + 1) * c + d * cg : 0;
    const p10 = okY1 && okX0 ? ((rowBase + y0 + 1) * w + x0) * c + d * cg : 0;
    const p11 = okY1 && okX1 ? ((rowBase + y0 + 1) * w + x0 + 1) * c + d * cg : 0;
    const out = m * K * c + k * c + d * cg;
    for (let ch = 0; ch < cg; ch++) {
      cols[out + ch] = w00 * x[p00 + ch] + w01 * x[p01 + ch] + w10 * x[p10 + ch] + w11 * x[p11 + ch];
    }
  }
  return cols;
}

/** Backward of {@link deformIm2colLoop}: gradients of `x`, `offset` and `mask` from `dcols` `[M, K * c]`. */
export function deformIm2colGradLoop(
  x: Float32Array,
  offset: Float32Array,
  mask: Float32Array,
  dcols: Float32Array,
  g: DeformGeometry,
): { dx: Float32Array; doffset: Float32Array; dmask: Float32Array } {
  const { n, h, w, c, kh, kw, dg } = g;
  const K = kh * kw;
  const cg = c / dg;
  const dx = new Float32Array(n * h * w * c);
  const doffset = new Float32Array(offset.length);
  const dmask = new Float32Array(mask.length);
  const t = startWalk();
  while (nextSample(t, offset, g)) {
    const { b, m, d, k, o, y0, x0, ly, lx } = t;
    const mi = m * dg * K + d * K + k;
    const mv = mask[mi];
    const hy = 1 - ly;
    const hx = 1 - lx;
    const ok00 = y0 >= 0 && x0 >= 0;
    const ok01 = y0 >= 0 && x0 + 1 <= w - 1;
    const ok10 = y0 + 1 <= h - 1 && x0 >= 0;
    const ok11 = y0 + 1 <= h - 1 && x0 + 1 <= w - 1;
    const rowBase = b * h;
    const p00 = ((rowBase + y0) * w + x0) * c + d * cg;
    const p01 = p00 + c;
    const p10 = p00 + w * c;
    const p11 = p10 + c;
    const colBase = m * K * c + k * c + d * cg;
    let gVal = 0;
    let gY = 0;
    let gX = 0;
    for (let ch = 0; ch < cg; ch++) {
      const gc = dcols[colBase + ch];
      if (gc === 0) continue;
      const v00 = ok00 ? x[p00 + ch] : 0;
      const v01 = ok01 ? x[p01 + ch] : 0;
      const v10 = ok10 ? x[p10 + ch] : 0;
      const v11 = ok11 ? x[p11 + ch] : 0;
      gVal += gc * (hy * hx * v00 + hy * lx * v01 + ly * hx * v10 + ly * lx * v11);
      gY += gc * (hx * (v10 - v00) + lx * (v11 - v01));
      gX += gc * (hy * (v01 - v00) + ly * (v11 - v10));
      const gm = gc * mv;
      if (ok00) dx[p00 + ch] += hy * hx * gm;
      if (ok01) dx[p01 + ch] += hy * lx * gm;
      if (ok10) dx[p10 + ch] += ly * hx * gm;
      if (ok11) dx[p11 + ch] += ly * lx * gm;
    }
    dmask[mi] += gVal;
    doffset[o] += gY * mv;
    doffset[o + 1] += gX * mv;
  }
  return { dx, doffset, dmask };
}
