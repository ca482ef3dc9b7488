// SPDX-License-Identifier: Apache-2.0
/**
 * IoU of boxes and of RLE masks, a port of `bbIou`/`rleIou` from pycocotools' `maskApi.c`.
 *
 * Results are written row-major with rows = detections: `out[d * n + g]` (pycocotools returns the same
 * `m x n` matrix). For a crowd gt the union is the detection's area. RLE IoU first computes the box IoU of the
 * RLEs' `toBbox` boxes and only walks the runs where that is > 0; RLEs of different sizes whose boxes overlap
 * give -1.
 */
import { rleArea, rleToBbox } from './rle.js';
import { MaskApiError, type RleData } from './types.js';

/** C's `fmin`/`fmax` (a NaN argument is ignored). */
function fmin(a: number, b: number): number {
  return a !== a ? b : b !== b ? a : a < b ? a : b;
}
function fmax(a: number, b: number): number {
  return a !== a ? b : b !== b ? a : a > b ? a : b;
}

/** The crowd flag of gt `g` as pycocotools reads it (`np.array(iscrowd, dtype=np.uint8)[g] != 0`). */
export function crowdFlag(iscrowd: ArrayLike<number | boolean> | null | undefined, g: number): boolean {
  if (!iscrowd || g >= iscrowd.length) return false;
  return (Number(iscrowd[g]) & 0xff) !== 0;
}

/**
 * `bbIou` on flat boxes (`dt` holds m boxes, `gt` n boxes, 4 doubles each). Writes `out[d * n + g]`.
 */
export function bbIouInto(
  dt: ArrayLike<number>,
  gt: ArrayLike<number>,
  m: number,
  n: number,
  iscrowd: ArrayLike<number | boolean> | null | undefined,
  out: Float64Array,
): Float64Array {
  for (let g = 0; g < n; g++) {
    const G0 = gt[g * 4];
    const G1 = gt[g * 4 + 1];
    const G2 = gt[g * 4 + 2];
    const G3 = gt[g * 4 + 3];
    const ga = G2 * G3;
    const crowd = crowdFlag(iscrowd, g);
    for (let d = 0; d < m; d++) {
      const D0 = dt[d * 4];
      const D1 = dt[d * 4 + 1];
      const D2 = dt[d * 4 + 2];
      const D3 = dt[d * 4 + 3];
      const da = D2 * D3;
      out[d * n + g] = 0;
      const w = fmin(D2 + D0, G2 + G0) - fmax(D0, G0);
      if (w <= 0) continue;
      const h = fmin(D3 + D1, G3 + G1) - fmax(D1, G1);
      if (h <= 0) continue;
      const i = w * h;
      const u = crowd ? da : da + ga - i;
      out[d * n + g] = i / u;
    }
  }
  return out;
}

/** `rleToBbox` of each RLE, flattened (4 doubles per RLE). */
export function rleBoxes(R: readonly RleData[]): Float64Array {
  const out = new Float64Array(R.length * 4);
  for (let i = 0; i < R.length; i++) out.set(rleToBbox(R[i]), i * 4);
  return out;
}

/** Union found by the last `interUnion` call (avoids allocating a pair per IoU). */
let lastUnion = 0;

/** |dt ∩ gt| (returned) and |dt ∪ gt| (in `lastUnion`) of two RLEs of one size, walking both run lists. */
function interUnion(A: Uint32Array, B: Uint32Array): number {
  const ka = A.length;
  const kb = B.length;
  let ca = ka ? A[0] : 0;
  let cb = kb ? B[0] : 0;
  let va = 0;
  let vb = 0;
  let a = 1;
  let b = 1;
  let i = 0;
  let u = 0;
  let ct = 1;
  while (ct > 0) {
    const c = ca < cb ? ca : cb;
    if (c === 0 && ((ca === 0 && a >= ka) || (cb === 0 && b >= kb))) {
      throw new MaskApiError('iou: the RLEs\' run lengths do not add up to the same total (h*w); pycocotools loops forever on such input');
    }
    if (va | vb) {
      u += c;
      if (va & vb) i += c;
    }
    ct = 0;
    ca -= c;
    if (!ca && a < ka) {
      ca = A[a++];
      va = 1 - va;
    }
    ct += ca;
    cb -= c;
    if (!cb && b < kb) {
      cb = B[b++];
      vb = 1 - vb;
    }
    ct += cb;
  }
  lastUnion = u % 4294967296;
  return i % 4294967296;
}

/**
 * `rleIou` of m detections against n ground truths. Writes `out[d * n + g]`. `dtBoxes`/`gtBoxes` may pass
 * precomputed {@link rleBoxes} (callers that reuse RLEs across calls cache them).
 */
export function rleIouInto(
  dt: readonly RleData[],
  gt: readonly RleData[],
  iscrowd: ArrayLike<number | boolean> | null | undefined,
  out: Float64Array,
  dtBoxes?: ArrayLike<number>,
  gtBoxes?: ArrayLike<number>,
): Float64Array {
  const m = dt.length;
  const n = gt.length;
  bbIouInto(dtBoxes ?? rleBoxes(dt), gtBoxes ?? rleBoxes(gt), m, n, iscrowd, out);
  for (let g = 0; g < n; g++) {
    const G = gt[g];
    const crowd = crowdFlag(iscrowd, g);
    for (let d = 0; d < m; d++) {
      const o = d * n + g;
      if (!(out[o] > 0)) continue;
      const D = dt[d];
      if (D.h !== G.h || D.w !== G.w) {
        out[o] = -1;
        continue;
      }
      const i = interUnion(D.cnts, G.cnts);
      let u = lastUnion;
      if (i === 0) u = 1;
      else if (crowd) u = rleArea(D);
      out[o] = i / u;
    }
  }
  return out;
}
