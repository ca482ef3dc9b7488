// SPDX-License-Identifier: Apache-2.0
/**
 * PyTorch `F.interpolate(mode='bilinear', align_corners=False, size=...)` on single-channel float maps in plain
 * JS, reproducing torch 1.13's CPU result bit for bit (checked against torch on random maps, see
 * `__fixtures__/torch_bilinear.json`): scale = float32(in / out); source = scale·(dst + 0.5) − 0.5 evaluated
 * exactly (clamped at 0); i0 = trunc(source), i1 = min(i0 + 1, in − 1); λ1 = float32(source − i0),
 * λ0 = float32(1 − λ1) (equal sizes: a plain copy); weights w_ab = float32(λ_a^h · λ_b^w); output =
 * float32(x00·w00 + x01·w01 + x10·w10 + x11·w11) with the sum taken without intermediate float32 rounding.
 *
 * Used by the SOLO post-processor on host-memory backends, where it is several times faster than tfjs's
 * resize kernels, and to fuse "resize to the padded size → crop to img_shape" without materialising the
 * padded map.
 */

/** Interpolation taps of one axis. */
export interface Taps {
  i0: Int32Array;
  i1: Int32Array;
  l0: Float32Array;
  l1: Float32Array;
}

/** Taps for resizing `inSize` → `outSize`, for the first `count` outputs (default all). */
export function bilinearTaps(inSize: number, outSize: number, count = outSize): Taps {
  const scale = Math.fround(inSize / outSize);
  const i0 = new Int32Array(count);
  const i1 = new Int32Array(count);
  const l0 = new Float32Array(count);
  const l1 = new Float32Array(count);
  for (let o = 0; o < count; o++) {
    if (inSize === outSize) {
      i0[o] = o;
      i1[o] = o;
      l0[o] = 1;
      l1[o] = 0;
      continue;
    }
    let src = scale * (o + 0.5) - 0.5; // exact in double (a float32 times a short dyadic number)
    if (src < 0) src = 0;
    const a = Math.min(Math.trunc(src), inSize - 1);
    i0[o] = a;
    i1[o] = a < inSize - 1 ? a + 1 : a;
    const lam = Math.fround(Math.min(Math.max(src - a, 0), 1));
    l1[o] = lam;
    l0[o] = Math.fround(1 - lam);
  }
  return { i0, i1, l0, l1 };
}

/**
 * Resize `src` (inH × inW at `srcOffset`) to outH × outW with PyTorch bilinear semantics, computing only the
 * top-left `rows × cols` block of the output (a crop of the full resize), written row-major (`cols` wide) to
 * `dst` at `dstOffset`, or thresholded (> thr → 1) into a Uint8Array when `threshold` is given.
 */
export function resizeBilinearBlock(
  src: Float32Array,
  srcOffset: number,
  inH: number,
  inW: number,
  outH: number,
  outW: number,
  rows: number,
  cols: number,
  dst: Float32Array | Uint8Array,
  dstOffset: number,
  threshold?: number,
  tapsY: Taps = bilinearTaps(inH, outH, rows),
  tapsX: Taps = bilinearTaps(inW, outW, cols),
): void {
  const { i0: x0, i1: x1, l0: wx0, l1: wx1 } = tapsX;
  const f32 = dst instanceof Float32Array;
  const thr = threshold ?? 0;
  for (let y = 0; y < rows; y++) {
    const ra = srcOffset + tapsY.i0[y] * inW;
    const rb = srcOffset + tapsY.i1[y] * inW;
    const hy0 = tapsY.l0[y];
    const hy1 = tapsY.l1[y];
    const o = dstOffset + y * cols;
    for (let x = 0; x < cols; x++) {
      const a = x0[x];
      const b = x1[x];
      const v = Math.fround(
        src[ra + a] * Math.fround(hy0 * wx0[x]) +
          src[ra + b] * Math.fround(hy0 * wx1[x]) +
          src[rb + a] * Math.fround(hy1 * wx0[x]) +
          src[rb + b] * Math.fround(hy1 * wx1[x]),
      );
      dst[o + x] = f32 ? v : v > thr ? 1 : 0;
    }
  }
}
