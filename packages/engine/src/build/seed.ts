// SPDX-License-Identifier: Apache-2.0
/**
 * Seeded weight initialisation (`randomness.seed`, `--seed`).
 *
 * TensorFlow.js's random initialisers (`randomUniform`, `randomNormal`, ...) draw their seed from `Math.random()`
 * when none is given. Building a model inside `withSeededRandom(seed, ...)` replaces `Math.random` by a seeded
 * generator for the duration of the (synchronous) build, so the same seed gives the same initial weights: the
 * equivalent of `torch.manual_seed` before building an mmdetection model.
 */
import { SeededRandom } from '@solo-ts/core';

export function withSeededRandom<T>(seed: number, fn: () => T): T {
  const original = Math.random;
  const rng = new SeededRandom(seed >>> 0);
  Math.random = () => rng.random();
  try {
    const out = fn();
    if (out instanceof Promise) throw new Error('withSeededRandom: the function must be synchronous');
    return out;
  } finally {
    Math.random = original;
  }
}
