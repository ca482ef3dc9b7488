// SPDX-License-Identifier: Apache-2.0
/**
 * Tensor helpers for tests: collect / dispose every tensor of a nested result, finiteness checks, leak checks
 * (`tf.memory().numTensors` before and after), seeded random inputs.
 */
import * as tf from '@tensorflow/tfjs-core';

/** A failed contract check (thrown by the check functions; vitest prints the message). */
export class ContractViolation extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ContractViolation';
  }
}

/** Throw a `ContractViolation` with `message` unless `cond`. */
export function check(cond: unknown, message: string | (() => string)): asserts cond {
  if (!cond) throw new ContractViolation(typeof message === 'function' ? message() : message);
}

/** Every tensor inside `value` (tensors, arrays, plain objects, Maps), depth first, each once. */
export function collectTensors(value: unknown, out: tf.Tensor[] = [], seen = new Set<unknown>()): tf.Tensor[] {
  if (value === null || typeof value !== 'object' || seen.has(value)) return out;
  seen.add(value);
  if (value instanceof tf.Tensor) {
    out.push(value);
    return out;
  }
  if (ArrayBuffer.isView(value)) return out;
  if (value instanceof Map) {
    for (const v of value.values()) collectTensors(v, out, seen);
    return out;
  }
  if (Array.isArray(value)) {
    for (const v of value) collectTensors(v, out, seen);
    return out;
  }
  if (Object.getPrototypeOf(value) === Object.prototype) {
    for (const v of Object.values(value as Record<string, unknown>)) collectTensors(v, out, seen);
  }
  return out;
}

/** Dispose every tensor inside `value`. */
export function disposeAll(value: unknown): void {
  for (const t of collectTensors(value)) if (!t.isDisposed) t.dispose();
}

/** Tensors currently alive in the tfjs engine. */
export function numTensors(): number {
  return tf.memory().numTensors;
}

/**
 * Run `fn`, hand its result to `use` (which may read it), dispose every tensor of the result and check that the
 * number of live tensors is back where it was. Throws a `ContractViolation` naming `what` and the leak.
 */
export async function expectNoLeaks<T>(what: string, fn: () => T | Promise<T>, use?: (result: T) => void | Promise<void>): Promise<T> {
  const before = numTensors();
  const result = await fn();
  try {
    if (use) await use(result);
  } finally {
    disposeAll(result);
  }
  const after = numTensors();
  check(after === before, `${what} leaks tensors: ${before} alive before, ${after} after disposing its outputs (${after - before > 0 ? '+' : ''}${after - before})`);
  return result;
}

/** Values of a tensor (sync read; tests only). */
export function valuesOf(t: tf.Tensor): Float32Array | Int32Array | Uint8Array {
  return t.dataSync() as Float32Array | Int32Array | Uint8Array;
}

/** True when every value of `t` is finite. */
export function allFinite(t: tf.Tensor): boolean {
  const v = valuesOf(t);
  for (let i = 0; i < v.length; i++) if (!Number.isFinite(v[i])) return false;
  return true;
}

/** Throw unless every value of `t` is finite. */
export function checkFinite(t: tf.Tensor, what: string): void {
  const v = valuesOf(t);
  for (let i = 0; i < v.length; i++) {
    if (!Number.isFinite(v[i])) throw new ContractViolation(`${what} has a non-finite value (${v[i]}) at flat index ${i} of shape [${t.shape.join(', ')}]`);
  }
}

/** Scalar value of a tensor with one element. */
export function scalarOf(t: tf.Tensor, what: string): number {
  check(t.size === 1, `${what} must be a scalar, got shape [${t.shape.join(', ')}]`);
  return valuesOf(t)[0];
}

/** A seeded standard-normal float32 tensor (same values on every run and backend). */
export function seededNormal(shape: number[], seed: number, scale = 1): tf.Tensor {
  return tf.tidy(() => tf.mul(tf.randomNormal(shape, 0, 1, 'float32', seed), scale));
}

/** A seeded uniform [lo, hi) float32 tensor. */
export function seededUniform(shape: number[], seed: number, lo = 0, hi = 1): tf.Tensor {
  return tf.randomUniform(shape, lo, hi, 'float32', seed);
}

/** `|a - b| <= atol + rtol * |b|`. */
export function close(a: number, b: number, rtol = 1e-4, atol = 1e-5): boolean {
  return Math.abs(a - b) <= atol + rtol * Math.abs(b);
}
