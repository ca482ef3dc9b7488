// SPDX-License-Identifier: Apache-2.0
/**
 * Test helper: reads the PyTorch fixtures written by make_fixtures.py (ops.json + ops.bin) and compares tensors.
 */
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as tf from '@tensorflow/tfjs-core';
import { expect } from 'vitest';

const here = dirname(fileURLToPath(import.meta.url));

interface TensorRef {
  offset: number;
  shape: number[];
}
interface CaseJson {
  params: Record<string, unknown>;
  tensors: Record<string, TensorRef>;
}

let meta: { cases: Record<string, CaseJson> } | undefined;
let data: Float32Array | undefined;

function load(): { cases: Record<string, CaseJson> } {
  if (!meta) {
    meta = JSON.parse(readFileSync(join(here, 'ops.json'), 'utf8')) as { cases: Record<string, CaseJson> };
    const buf = readFileSync(join(here, 'ops.bin'));
    data = new Float32Array(buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength));
  }
  return meta;
}

export class FixtureCase {
  constructor(
    readonly name: string,
    private readonly c: CaseJson,
  ) {}
  get params(): Record<string, unknown> {
    return this.c.params;
  }
  has(t: string): boolean {
    return t in this.c.tensors;
  }
  /** Raw values (PyTorch layout). */
  array(t: string): { values: Float32Array; shape: number[] } {
    const ref = this.c.tensors[t];
    if (!ref) throw new Error(`fixture ${this.name} has no tensor ${t}`);
    const size = ref.shape.reduce((a, b) => a * b, 1);
    return { values: data!.subarray(ref.offset, ref.offset + size), shape: ref.shape };
  }
  /** Tensor in PyTorch layout. */
  raw(t: string): tf.Tensor {
    const { values, shape } = this.array(t);
    return tf.tensor(values.slice(), shape, 'float32');
  }
  /** NCHW -> NHWC. */
  nhwc(t: string): tf.Tensor4D {
    return tf.tidy(() => tf.transpose(this.raw(t), [0, 2, 3, 1]) as tf.Tensor4D);
  }
  /** OIHW -> HWIO. */
  hwio(t: string): tf.Tensor4D {
    return tf.tidy(() => tf.transpose(this.raw(t), [2, 3, 1, 0]) as tf.Tensor4D);
  }
}

export function fixture(name: string): FixtureCase {
  const m = load();
  const c = m.cases[name];
  if (!c) throw new Error(`no fixture case ${name}`);
  return new FixtureCase(name, c);
}

export function fixtureNames(prefix: string): string[] {
  return Object.keys(load().cases).filter((k) => k.startsWith(prefix));
}

/** Element-wise |a - e| <= atol + rtol * |e|; reports the worst element. */
export function expectClose(actual: tf.Tensor, expected: tf.Tensor, rtol = 1e-4, atol = 1e-5, what = ''): void {
  expect(actual.shape, `${what} shape`).toEqual(expected.shape);
  const a = actual.dataSync();
  const e = expected.dataSync();
  let worst = -1;
  let worstExcess = 0;
  for (let i = 0; i < a.length; i++) {
    const excess = Math.abs(a[i] - e[i]) - (atol + rtol * Math.abs(e[i]));
    if (!(excess <= 0) && (worst < 0 || !(excess <= worstExcess))) {
      worst = i;
      worstExcess = excess;
    }
  }
  if (worst >= 0) {
    expect.fail(`${what}: element ${worst} is ${a[worst]}, expected ${e[worst]} (rtol ${rtol}, atol ${atol})`);
  }
}

/** A parameter gradient to check: the variable, its expected gradient from the fixture (`raw`, or `hwio` for a conv weight), a label. */
export type ExpectedGrad = [variable: tf.Variable, expected: (f: FixtureCase) => tf.Tensor, label: string];

/**
 * A module against fixture `f` (tensors x, gy, y, dx): the forward output `y`, and the gradients of
 * sum(forward(x) * gy) for the input (`dx`) and for each parameter of `grads` (rtol 1e-4, atol 1e-5); no tensor
 * is left behind.
 */
export function expectForwardAndGrads(f: FixtureCase, forward: (x: tf.Tensor4D) => tf.Tensor, grads: ExpectedGrad[]): void {
  const x = f.nhwc('x');
  const gy = f.nhwc('gy');
  const before = tf.memory().numTensors;
  tf.tidy(() => {
    expectClose(forward(x), f.nhwc('y'), 1e-4, 1e-5, 'y');
    const dx = tf.grad((xx: tf.Tensor) => tf.sum(tf.mul(forward(xx as tf.Tensor4D), gy)))(x);
    expectClose(dx, f.nhwc('dx'), 1e-4, 1e-5, 'dx');
    const got = tf.variableGrads(() => tf.sum(tf.mul(forward(x), gy)) as tf.Scalar).grads;
    for (const [variable, expected, label] of grads) expectClose(got[variable.name], expected(f), 1e-4, 1e-5, label);
  });
  expect(tf.memory().numTensors).toBe(before);
  tf.dispose([x, gy]);
}
