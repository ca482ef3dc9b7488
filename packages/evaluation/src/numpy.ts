// SPDX-License-Identifier: Apache-2.0
/**
 * The few numpy / Python behaviours COCOeval's results depend on, reproduced bit for bit:
 * `np.linspace`, `np.mean` (blockwise pairwise summation), stable `argsort(kind='mergesort')` of descending
 * scores, `np.searchsorted(side='left')`, and Python's `'{:0.Nf}'.format` / `round(x, N)` (round half to even
 * on the exact binary value).
 */

/** `np.linspace(start, stop, num)` (endpoint=True) exactly as numpy 1.24 computes it: `i * step + start`. */
export function linspace(start: number, stop: number, num: number): number[] {
  const out: number[] = [];
  if (num <= 0) return out;
  const div = num - 1;
  const delta = stop - start;
  const step = div > 0 ? delta / div : Number.NaN;
  for (let i = 0; i < num; i++) {
    out.push(div > 0 && step !== 0 ? i * step + start : div > 0 ? (i / div) * delta + start : start);
  }
  if (num > 1) out[num - 1] = stop;
  return out;
}

const PW_BLOCKSIZE = 128;
const NPY_BUFSIZE = 8192;

/** numpy's `pairwise_sum` for float64 (8 interleaved accumulators below 128 elements, halving above). */
function pairwiseSum(a: ArrayLike<number>, start: number, n: number): number {
  if (n < 8) {
    let res = 0;
    for (let i = 0; i < n; i++) res += a[start + i];
    return res;
  }
  if (n <= PW_BLOCKSIZE) {
    let r0 = a[start];
    let r1 = a[start + 1];
    let r2 = a[start + 2];
    let r3 = a[start + 3];
    let r4 = a[start + 4];
    let r5 = a[start + 5];
    let r6 = a[start + 6];
    let r7 = a[start + 7];
    let i = 8;
    const end = n - (n % 8);
    for (; i < end; i += 8) {
      r0 += a[start + i];
      r1 += a[start + i + 1];
      r2 += a[start + i + 2];
      r3 += a[start + i + 3];
      r4 += a[start + i + 4];
      r5 += a[start + i + 5];
      r6 += a[start + i + 6];
      r7 += a[start + i + 7];
    }
    let res = r0 + r1 + (r2 + r3) + (r4 + r5 + (r6 + r7));
    for (; i < n; i++) res += a[start + i];
    return res;
  }
  let n2 = Math.floor(n / 2);
  n2 -= n2 % 8;
  return pairwiseSum(a, start, n2) + pairwiseSum(a, start + n2, n - n2);
}

/** `np.sum` of a contiguous float64 array: pairwise sums of 8192-element blocks, added left to right. */
export function npSum(a: ArrayLike<number>, n = a.length): number {
  let acc = 0;
  for (let s = 0; s < n; s += NPY_BUFSIZE) acc += pairwiseSum(a, s, Math.min(NPY_BUFSIZE, n - s));
  return acc;
}

/** `np.mean` of a contiguous float64 array (NaN for an empty one, as numpy). */
export function npMean(a: ArrayLike<number>, n = a.length): number {
  return n === 0 ? Number.NaN : npSum(a, n) / n;
}

/** Descending order of `scores[0..n)` that keeps ties in input order (`np.argsort(-s, kind='mergesort')`). NaN last. */
export function argsortDesc(scores: ArrayLike<number>, n = scores.length): Int32Array {
  let idx = new Int32Array(n);
  for (let i = 0; i < n; i++) idx[i] = i;
  if (n < 2) return idx;
  let tmp = new Int32Array(n);
  // key = -score; NaN sorts last (numpy puts NaN at the end of an ascending sort)
  const key = new Float64Array(n);
  for (let i = 0; i < n; i++) key[i] = -scores[i];
  // bottom-up merge sort (stable): take from the right run only when strictly smaller
  for (let width = 1; width < n; width *= 2) {
    for (let lo = 0; lo < n; lo += 2 * width) {
      const mid = Math.min(lo + width, n);
      const hi = Math.min(lo + 2 * width, n);
      let i = lo;
      let j = mid;
      let k = lo;
      while (i < mid && j < hi) {
        const a = key[idx[j]];
        const b = key[idx[i]];
        if (a < b || (b !== b && a === a)) tmp[k++] = idx[j++];
        else tmp[k++] = idx[i++];
      }
      while (i < mid) tmp[k++] = idx[i++];
      while (j < hi) tmp[k++] = idx[j++];
    }
    const t = idx;
    idx = tmp;
    tmp = t;
  }
  return idx;
}

/** `np.searchsorted(a, v, side='left')` on a non-decreasing `a[0..n)`: first index with `a[i] >= v`. */
export function searchsortedLeft(a: ArrayLike<number>, n: number, v: number): number {
  let lo = 0;
  let hi = n;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (a[mid] < v) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** Python's `'{:0.<digits>f}'.format(x)`: round half to even on the exact binary value (JS toFixed rounds half up). */
export function formatFixed(x: number, digits: number): string {
  if (!Number.isFinite(x)) return x !== x ? 'nan' : x > 0 ? 'inf' : '-inf';
  const scale = 10 ** digits;
  const y = x * scale * 2;
  // An exact tie needs x = (2k+1) / (2*10^d) to be a binary fraction; only then can toFixed's half-up differ.
  if (Number.isInteger(y) && Math.abs(y) % 2 === 1 && y / (2 * scale) === x && Number.isInteger(y / 5 ** digits)) {
    const lowN = (y - 1) / 2;
    const n = lowN % 2 === 0 ? lowN : lowN + 1;
    return (n / scale).toFixed(digits);
  }
  return x.toFixed(digits);
}

/** Python's `round(x, digits)` for a float. */
export function roundPy(x: number, digits: number): number {
  return Number.isFinite(x) ? Number(formatFixed(x, digits)) : x;
}
