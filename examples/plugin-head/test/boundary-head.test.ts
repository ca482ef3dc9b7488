// SPDX-License-Identifier: Apache-2.0
/**
 * The plugin's head under @solo-ts/testing's contract suites (the registry sweep, restricted to this package,
 * reads the class's static `contract`), plus tests of what the plugin adds: the boundary band and the mask loss.
 */
import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { createDefaultRegistry } from '@solo-ts/apis';
import { describeRegistryContracts, makeSample, oneInstanceSample, featurePyramid, emptySample } from '@solo-ts/testing';
import { acmeComponents, boundaryBand, SOLOV2BoundaryHead } from '../src/index.js';

const registry = createDefaultRegistry([acmeComponents]);

// Every component this package registers gets the option checks and the suite of its kind (mask head).
await describeRegistryContracts(registry, { filter: (e) => e.package === '@acme/solo-plugin-head', backend: 'wasm' });

describe('boundaryBand', () => {
  it('marks pixels within the width of an edge, inside and outside', () => {
    // 6x6 mask with a 2x2 square at rows 2-3, cols 2-3
    const m = new Uint8Array(36);
    for (const [y, x] of [[2, 2], [2, 3], [3, 2], [3, 3]]) m[y * 6 + x] = 1;
    const band = boundaryBand(m, 6, 6, 1);
    const rows = Array.from({ length: 6 }, (_, y) => Array.from(band.subarray(y * 6, y * 6 + 6)).join(''));
    expect(rows).toEqual(['000000', '011110', '011110', '011110', '011110', '000000']);
  });

  it('is empty for a mask without edges', () => {
    expect(boundaryBand(new Uint8Array(16).fill(1), 4, 4, 1).every((v) => v === 0)).toBe(true);
  });
});

describe('acme.SOLOV2BoundaryHead mask loss', () => {
  const base: Record<string, unknown> = { ...(SOLOV2BoundaryHead.contract.config as Record<string, unknown>), test_cfg: null };
  const build = (over: Record<string, unknown> = {}) => registry.build<SOLOV2BoundaryHead>('models', { type: 'acme.SOLOV2BoundaryHead', ...base, ...over }, 'mask_head');

  it('adds the boundary BCE to the Dice loss of SOLOv2, scaled by loss_boundary_weight; 0 without ground truth', () => {
    const size: [number, number] = [64, 64];
    const x = featurePyramid(size, [4, 8, 16, 32, 64], 8, 1, 3);
    const samples = [oneInstanceSample(size, 1)];
    const reference = build();
    const weights = new Map([...reference.stateDict()].map(([k, v]) => [k, v.tensor]));
    /** loss_mask of a head of `type` with the reference weights. */
    const maskLoss = (type: string, over: Record<string, unknown> = {}, s = samples): number => {
      const { boundary_weight: _a, boundary_width: _b, loss_boundary_weight: _c, ...v2 } = { ...base, ...over };
      const head = registry.build<SOLOV2BoundaryHead>('models', { type, ...(type === 'SOLOV2Head' ? v2 : { ...base, ...over }) }, 'mask_head');
      head.loadStateDict(weights, { torchLayout: false });
      const l = head.loss(x, s);
      const v = l.loss_mask.dataSync()[0];
      tf.dispose(Object.values(l));
      head.dispose();
      return v;
    };
    const dice = maskLoss('SOLOV2Head');
    const one = maskLoss('acme.SOLOV2BoundaryHead', { loss_boundary_weight: 1 });
    const two = maskLoss('acme.SOLOV2BoundaryHead', { loss_boundary_weight: 2 });
    const off = maskLoss('acme.SOLOV2BoundaryHead', { loss_boundary_weight: 0 });
    expect(dice).toBeGreaterThan(0);
    expect(off).toBe(dice);
    expect(one - dice).toBeGreaterThan(0.01);
    expect(two - dice).toBeCloseTo(2 * (one - dice), 4);
    // a stronger boundary weight changes the term
    expect(maskLoss('acme.SOLOV2BoundaryHead', { boundary_weight: 0 })).not.toBeCloseTo(one, 4);
    expect(maskLoss('acme.SOLOV2BoundaryHead', {}, [emptySample(size)])).toBe(0);
    reference.dispose();
    tf.dispose(x);
  });

  it('rejects bad plugin options with the option named', () => {
    expect(() => build({ boundary_width: 0 })).toThrow(/boundary_width must be an integer >= 1/);
    expect(() => build({ boundary_wdth: 2 })).toThrow(/unknown option `boundary_wdth`/);
    const sample = makeSample({ inputSize: [32, 32], instances: [{ box: [4, 4, 20, 20], label: 0 }] });
    expect(sample.gtInstances?.labels?.length).toBe(1);
  });
});
