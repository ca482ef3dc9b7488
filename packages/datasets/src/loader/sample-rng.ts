// SPDX-License-Identifier: Apache-2.0
/**
 * Per-sample random streams: the augmentation randomness of a sample depends only on (seed, epoch, position in
 * the epoch, slot in the batch, attempt), never on timing or on which worker ran it, so the same seed gives the
 * same batches with any prefetch depth or number of workers, and a resumed run continues identically.
 */
import { SeededRandom } from '@solo-ts/core';

function mix(h: number, v: number): number {
  h = Math.imul(h ^ (v >>> 0), 0x9e3779b1) >>> 0;
  h = (h ^ (h >>> 15)) >>> 0;
  h = Math.imul(h, 0x85ebca77) >>> 0;
  return (h ^ (h >>> 13)) >>> 0;
}

/** A 32-bit seed derived from the parts. */
export function deriveSeed(...parts: number[]): number {
  let h = 0x2545f491;
  for (const p of parts) {
    h = mix(h, p);
    h = mix(h, Math.floor(p / 4294967296));
  }
  return h >>> 0;
}

/** The random source of one sample attempt. */
export function sampleRng(seed: number, epoch: number, batch: number, slot: number, attempt: number): SeededRandom {
  return new SeededRandom(deriveSeed(seed, epoch, batch, slot, attempt));
}
