// SPDX-License-Identifier: Apache-2.0
/**
 * Helpers for writing tfjs kernels out of other kernels of the same backend.
 *
 * A kernel function receives `TensorInfo`s (no engine tensors) and must return `TensorInfo`s. The helpers call
 * other registered kernels of the same backend directly (`getKernel(name, backendName).kernelFunc`), track the
 * intermediates and dispose them through `backend.disposeData`. Only `@tensorflow/tfjs-core` is used, so these
 * work for any backend whose kernels are registered (the backend package itself is never imported here).
 */
import * as tf from '@tensorflow/tfjs-core';

/** The part of a tfjs `KernelBackend` the kernels here use. */
export interface BackendLike {
  readSync(dataId: object): tf.backend_util.BackendValues;
  write(values: tf.backend_util.BackendValues | null, shape: number[], dtype: tf.DataType): object;
  disposeData(dataId: object, force?: boolean): boolean;
}

/** Explicit NHWC padding in tfjs's format. */
export type ExplicitPad = [[number, number], [number, number], [number, number], [number, number]];

/** Runs kernels of one backend and disposes the intermediates it created. */
export class KernelScope {
  private readonly owned: tf.TensorInfo[] = [];

  constructor(
    /** Backend name the kernels are looked up for (e.g. `wasm`). */
    readonly backendName: string,
    /** The backend instance passed to the calling kernel. */
    readonly backend: BackendLike,
  ) {}

  /** Runs `kernelName` with the given inputs and attributes; the result is disposed by `dispose()` unless kept. */
  run(kernelName: string, inputs: tf.NamedTensorInfoMap, attrs: tf.NamedAttrMap = {}): tf.TensorInfo {
    const config = tf.getKernel(kernelName, this.backendName);
    if (config === undefined) {
      throw new Error(`solo-ts kernels: kernel '${kernelName}' is not registered for backend '${this.backendName}'`);
    }
    const out = config.kernelFunc({ inputs, backend: this.backend, attrs });
    if (Array.isArray(out)) {
      throw new Error(`solo-ts kernels: kernel '${kernelName}' returned several outputs, expected one`);
    }
    this.owned.push(out);
    return out;
  }

  reshape(x: tf.TensorInfo, shape: number[]): tf.TensorInfo {
    if (arraysEqual(x.shape, shape)) return x;
    return this.run('Reshape', { x }, { shape });
  }

  transpose(x: tf.TensorInfo, perm: number[]): tf.TensorInfo {
    if (perm.every((p, i) => p === i)) return x;
    return this.run('Transpose', { x }, { perm });
  }

  /** Zero padding; `paddings` entries may not be negative. */
  pad(x: tf.TensorInfo, paddings: Array<[number, number]>): tf.TensorInfo {
    if (paddings.every(([a, b]) => a === 0 && b === 0)) return x;
    return this.run('PadV2', { x }, { paddings, constantValue: 0 });
  }

  slice(x: tf.TensorInfo, begin: number[], size: number[]): tf.TensorInfo {
    if (begin.every((b) => b === 0) && arraysEqual(size, x.shape)) return x;
    return this.run('Slice', { x }, { begin, size });
  }

  /** Writes a new tensor with the given values (owned by the scope). */
  write(values: tf.backend_util.BackendValues, shape: number[], dtype: tf.DataType): tf.TensorInfo {
    const info = { dataId: this.backend.write(values, shape, dtype), shape, dtype };
    this.owned.push(info);
    return info;
  }

  /** Takes ownership of a tensor produced outside `run` (e.g. by a captured kernel function). */
  adopt(info: tf.TensorInfo): tf.TensorInfo {
    this.owned.push(info);
    return info;
  }

  /** Disposes one intermediate now (to bound peak memory in loops). */
  release(info: tf.TensorInfo): void {
    const i = this.owned.indexOf(info);
    if (i >= 0) {
      this.owned.splice(i, 1);
      this.backend.disposeData(info.dataId);
    }
  }

  /** Disposes every intermediate except `keep` (the kernel's result). */
  dispose(keep?: tf.TensorInfo): void {
    for (const info of this.owned) {
      if (info !== keep) this.backend.disposeData(info.dataId);
    }
    this.owned.length = 0;
  }

  /** Runs `body` and disposes the intermediates, keeping only the returned tensor. */
  static use(backendName: string, backend: BackendLike, body: (s: KernelScope) => tf.TensorInfo): tf.TensorInfo {
    const scope = new KernelScope(backendName, backend);
    let result: tf.TensorInfo | undefined;
    try {
      result = body(scope);
      if (!scope.owned.includes(result)) {
        // The body returned one of its inputs unchanged: return a new reference to the same data.
        result = scope.run('Identity', { x: result });
      }
      return result;
    } finally {
      scope.dispose(result);
    }
  }
}

/** Backends that expose their memory directly (tfjs's `wasm`): allocate an output, view tensors without copies. */
export interface HeapBackend extends BackendLike {
  makeOutput(shape: number[], dtype: tf.DataType): tf.TensorInfo;
  typedArrayFromHeap(info: tf.TensorInfo): Float32Array | Int32Array | Uint8Array;
}

export function isHeapBackend(b: BackendLike): b is HeapBackend {
  const h = b as Partial<HeapBackend>;
  return typeof h.makeOutput === 'function' && typeof h.typedArrayFromHeap === 'function';
}

/**
 * `out[i…] = x[begin + i*strides]` for any rank (negative strides allowed), copied in JavaScript with block copies
 * of contiguous innermost runs. Zero-copy on backends that expose their heap (`wasm`): the stock wasm
 * `StridedSlice` is 10-100x slower, and its `Slice` first copies the whole input out of the heap.
 */
export function stridedCopy(
  s: KernelScope, x: tf.TensorInfo, begin: number[], size: number[], strides: number[],
): tf.TensorInfo {
  const rank = x.shape.length;
  const count = size.reduce((a, b) => a * b, 1);
  let out: tf.TensorInfo | undefined;
  let xv: ArrayLike<number>;
  let ov: Float32Array | Int32Array | Uint8Array;
  const b = s.backend;
  if (isHeapBackend(b)) {
    out = s.adopt(b.makeOutput(size.slice(), x.dtype)); // allocate first: growing the heap detaches older views
    if (count === 0) return out;
    xv = b.typedArrayFromHeap(x);
    ov = b.typedArrayFromHeap(out);
  } else {
    xv = b.readSync(x.dataId) as ArrayLike<number>;
    ov = x.dtype === 'int32' ? new Int32Array(count) : x.dtype === 'bool' ? new Uint8Array(count) : new Float32Array(count);
  }
  if (count > 0) {
    if (rank === 0) {
      ov[0] = xv[0];
    } else {
      // Merge trailing axes copied whole (begin 0, stride 1, full size) into one contiguous run.
      let inner = rank - 1;
      let run = size[inner];
      let runStride = strides[inner];
      while (inner > 0 && runStride === 1 && begin[inner] === 0 && size[inner] === x.shape[inner] &&
        strides[inner - 1] === 1) {
        inner--;
        run *= size[inner];
      }
      const xStrides = new Array<number>(rank);
      xStrides[rank - 1] = 1;
      for (let d = rank - 2; d >= 0; d--) xStrides[d] = xStrides[d + 1] * x.shape[d + 1];
      const xa = xv as Float32Array;
      let o = 0;
      const outer = (d: number, base: number): void => {
        if (d === inner) {
          const start = base + begin[d] * xStrides[d];
          if (runStride === 1) {
            ov.set(xa.subarray(start, start + run), o);
            o += run;
          } else {
            const step = runStride * xStrides[d];
            for (let i = 0, p = start; i < run; i++, p += step) ov[o++] = xa[p];
          }
          return;
        }
        for (let i = 0; i < size[d]; i++) outer(d + 1, base + (begin[d] + i * strides[d]) * xStrides[d]);
      };
      if (inner !== rank - 1) runStride = 1;
      outer(0, 0);
    }
  }
  return out ?? s.write(ov, size.slice(), x.dtype);
}

/** Rank-4 `stridedCopy` (kept for readability at call sites). */
export function window4d(
  s: KernelScope, x: tf.TensorInfo, begin: number[], size: number[], strides: number[] = [1, 1, 1, 1],
): tf.TensorInfo {
  return stridedCopy(s, x, begin, size, strides);
}

export function arraysEqual(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((v, i) => v === b[i]);
}

/** Normalises a number-or-pair attribute (strides, dilations) to a pair. */
export function pair(v: tf.Attribute | undefined, fallback: number): [number, number] {
  if (v === undefined || v === null) return [fallback, fallback];
  if (typeof v === 'number') return [v, v];
  const a = v as number[];
  return [a[0], a.length > 1 ? a[1] : a[0]];
}
