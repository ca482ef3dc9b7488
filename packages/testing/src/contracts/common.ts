// SPDX-License-Identifier: Apache-2.0
/** Checks shared by the contract suites (module state dicts, NHWC outputs, InstanceData results). */
import * as tf from '@tensorflow/tfjs-core';
import type { InstanceData, Module } from '@solo-ts/core';
import { check, checkFinite, collectTensors, ContractViolation } from '../tensors.js';

/** Merge YAML overrides over a base config: nested maps merge, anything else replaces. */
export function mergeOptions(base: Record<string, unknown>, overrides: Record<string, unknown> = {}): Record<string, unknown> {
  const out: Record<string, unknown> = { ...base };
  for (const [k, v] of Object.entries(overrides)) {
    const b = out[k];
    const isMap = (x: unknown): x is Record<string, unknown> => x !== null && typeof x === 'object' && !Array.isArray(x);
    out[k] = isMap(b) && isMap(v) && (v.type === undefined || v.type === b.type) ? mergeOptions(b, v) : v;
  }
  return out;
}

/** Every tensor of `outputs` is finite, rank 4 (NHWC) with batch `batch`. */
export function checkNhwcOutputs(what: string, outputs: unknown, batch: number): tf.Tensor[] {
  const ts = collectTensors(outputs);
  check(ts.length > 0, `${what} returned no tensors`);
  ts.forEach((t, i) => {
    check(t.rank === 4, `${what}: output tensor ${i} must be NHWC (rank 4), got shape [${t.shape.join(', ')}]`);
    check(t.shape[0] === batch, `${what}: output tensor ${i} has batch ${t.shape[0]}, input batch is ${batch}`);
    checkFinite(t, `${what}: output tensor ${i}`);
  });
  return ts;
}

/**
 * `loadStateDict` accepts the module's own `stateDict` (strict, our layout) and the loaded values are the ones
 * given (each tensor + 1).
 */
export function checkStateDictRoundTrip(what: string, module: Module): void {
  const sd = module.stateDict();
  check(sd.size > 0, `${what}: empty state dict`);
  for (const k of sd.keys()) check(/^[A-Za-z0-9_]+(\.[A-Za-z0-9_]+)*$/.test(k), `${what}: state-dict key "${k}" is not a dotted name`);
  const shifted = new Map<string, tf.Tensor>();
  for (const [k, { tensor }] of sd) shifted.set(k, tf.tidy(() => (tensor.dtype === 'float32' ? tf.add(tensor, 1) : tf.clone(tensor))));
  try {
    const report = module.loadStateDict(shifted, { strict: true, torchLayout: false, source: 'contract round trip' });
    check(report.loaded.length === sd.size, `${what}: loaded ${report.loaded.length} of ${sd.size} state-dict entries`);
    const after = module.stateDict();
    for (const [k, t] of shifted) {
      const now = after.get(k)?.tensor;
      check(now !== undefined, `${what}: "${k}" disappeared from the state dict after loading`);
      const diff = tf.tidy(() => tf.max(tf.abs(tf.sub(tf.cast(now, 'float32'), tf.cast(t, 'float32')))).dataSync()[0]);
      check(diff === 0, `${what}: "${k}" differs from the loaded value by ${diff}`);
    }
  } finally {
    tf.dispose([...shifted.values()]);
  }
}

/** One InstanceData of a prediction is consistent: n labels, scores, boxes and masks at `oriShape`. */
export function checkInstances(what: string, r: InstanceData, oriShape: [number, number], numClasses: number, maxPerImg?: number): number {
  check(r !== null && typeof r === 'object', `${what}: result is not an InstanceData object`);
  const labels = r.labels;
  const scores = r.scores;
  const bboxes = r.bboxes;
  const masks = r.masks;
  check(labels instanceof Int32Array, `${what}: labels must be an Int32Array`);
  check(scores instanceof Float32Array, `${what}: scores must be a Float32Array`);
  const n = labels.length;
  check(scores.length === n, `${what}: ${n} labels but ${scores.length} scores`);
  if (maxPerImg !== undefined) check(n <= maxPerImg, `${what}: ${n} instances, max_per_img is ${maxPerImg}`);
  for (let i = 0; i < n; i++) {
    check(labels[i] >= 0 && labels[i] < numClasses, `${what}: label ${labels[i]} out of [0, ${numClasses})`);
    check(Number.isFinite(scores[i]) && scores[i] >= 0 && scores[i] <= 1, `${what}: score ${scores[i]} is not in [0, 1]`);
  }
  check(masks !== undefined, `${what}: masks missing`);
  check(masks.count === n, `${what}: ${n} instances but ${masks.count} masks`);
  check(masks.height === oriShape[0] && masks.width === oriShape[1], `${what}: masks are ${masks.height}x${masks.width}, the original image is ${oriShape[0]}x${oriShape[1]}`);
  check(masks.data.length === n * oriShape[0] * oriShape[1], `${what}: mask data has ${masks.data.length} values for ${n}x${oriShape[0]}x${oriShape[1]}`);
  if (bboxes !== undefined) {
    check(bboxes.length === 4 * n, `${what}: ${n} instances but ${bboxes.length / 4} boxes`);
    for (let i = 0; i < n; i++) {
      const [x1, y1, x2, y2] = bboxes.subarray(4 * i, 4 * i + 4);
      const ok = [x1, y1, x2, y2].every(Number.isFinite) && x1 <= x2 && y1 <= y2 && x1 >= 0 && y1 >= 0 && x2 <= oriShape[1] && y2 <= oriShape[0];
      check(ok, `${what}: box ${i} [${x1}, ${y1}, ${x2}, ${y2}] is not a box inside the ${oriShape[0]}x${oriShape[1]} image`);
    }
  }
  return n;
}

/** Run `fn` and check it throws, with a message matching `pattern`. */
export async function expectThrows(what: string, fn: () => unknown, pattern: RegExp): Promise<Error> {
  try {
    await fn();
  } catch (e) {
    const msg = String((e as Error)?.message ?? e);
    if (!pattern.test(msg)) throw new ContractViolation(`${what}: threw, but the message does not match ${pattern}: ${msg}`);
    return e as Error;
  }
  throw new ContractViolation(`${what}: expected an error, nothing was thrown`);
}

/** Dispose a built component if it holds tensors. */
export function disposeComponent(c: unknown): void {
  if (c && typeof (c as { dispose?: unknown }).dispose === 'function') (c as { dispose(): void }).dispose();
}
