// SPDX-License-Identifier: Apache-2.0
/**
 * Standalone op goldens from real mmdetection (../shared/parity/ops and the post/ folders of every variant):
 * DiceLoss / FocalLoss values and gradients, Matrix NMS, and the SOLO post-processing.
 */
import { readFileSync } from 'node:fs';
import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import { setupTestBackend } from '@solo-ts/testing';
import { DiceLoss, FocalLoss } from '@solo-ts/losses';
import { matrixNms } from '@solo-ts/postprocess';
import { npyFloat32, npyInt32, npyUint8, parityPath, readParity } from '../helpers/npy.js';

/** max over i of |a - b| / (|b| + atol/rtol); passes when every element is within rtol·|b| + atol. */
function expectClose(actual: ArrayLike<number>, expected: ArrayLike<number>, rtol: number, atol: number, what: string): void {
  expect(actual.length, `${what}: length`).toBe(expected.length);
  let worst = -1;
  let worstErr = 0;
  for (let i = 0; i < expected.length; i++) {
    const err = Math.abs(actual[i] - expected[i]);
    const tol = rtol * Math.abs(expected[i]) + atol;
    if (!(err <= tol) && (worst < 0 || err / tol > worstErr)) {
      worst = i;
      worstErr = err / tol;
    }
  }
  expect(worst, worst >= 0 ? `${what}: element ${worst} = ${actual[worst]}, expected ${expected[worst]}` : '').toBe(-1);
}

function json(path: string): Record<string, unknown> {
  return JSON.parse(readFileSync(parityPath(path), 'utf8')) as Record<string, unknown>;
}

describe('loss goldens (ops/dice_*, ops/focal)', () => {
  beforeAll(async () => {
    await setupTestBackend('cpu');
  });

  for (const name of ['dice_solo', 'dice_decoupled']) {
    it(`${name}: loss (none, mean) and d(sum loss)/d pred`, () => {
      const params = json(`ops/${name}/params.json`) as { config: { activate?: boolean; loss_weight: number }; loss_mean: number };
      const predA = readParity('ops', name, 'pred.npy');
      const targetA = readParity('ops', name, 'target.npy');
      const lossNone = npyFloat32(readParity('ops', name, 'loss_none.npy'));
      const grad = npyFloat32(readParity('ops', name, 'grad_of_sum_loss_none.npy'));
      const before = tf.memory().numTensors;
      const loss = new DiceLoss({ useSigmoid: true, activate: params.config.activate ?? true, lossWeight: params.config.loss_weight });
      const pred = tf.tensor(npyFloat32(predA), predA.shape);
      const target = tf.tensor(npyUint8(targetA), targetA.shape, 'int32');
      const none = loss.forward(pred, target, { reductionOverride: 'none' });
      expectClose(none.dataSync(), lossNone, 1e-5, 1e-7, `${name} loss_none`);
      const mean = loss.forward(pred, target);
      expectClose(mean.dataSync(), [params.loss_mean], 1e-5, 0, `${name} loss_mean`);
      const g = tf.grad((p: tf.Tensor) => tf.sum(loss.forward(p, target, { reductionOverride: 'none' })))(pred);
      expectClose(g.dataSync(), grad, 1e-4, 1e-7, `${name} grad`);
      tf.dispose([pred, target, none, mean, g]);
      expect(tf.memory().numTensors).toBe(before);
    });
  }

  it('focal: loss_none, mean, avg_factor and d loss(avg_factor)/d pred', () => {
    const params = json('ops/focal/params.json') as { avg_factor: number; loss_avg_factor: number; loss_mean: number };
    const predA = readParity('ops', 'focal', 'pred.npy');
    const labels = npyInt32(readParity('ops', 'focal', 'labels.npy'));
    const lossNone = npyFloat32(readParity('ops', 'focal', 'loss_none.npy'));
    const grad = npyFloat32(readParity('ops', 'focal', 'grad_of_loss_avg_factor.npy'));
    const before = tf.memory().numTensors;
    const loss = new FocalLoss({ useSigmoid: true, gamma: 2.0, alpha: 0.25, lossWeight: 1.0 });
    const pred = tf.tensor(npyFloat32(predA), predA.shape);
    const lab = tf.tensor1d(labels, 'int32');
    const none = loss.forward(pred, lab, { reductionOverride: 'none' });
    expectClose(none.dataSync(), lossNone, 1e-5, 1e-30, 'focal loss_none');
    const mean = loss.forward(pred, lab);
    expectClose(mean.dataSync(), [params.loss_mean], 1e-5, 0, 'focal loss_mean');
    const avgT = tf.scalar(params.avg_factor);
    const avg = loss.forward(pred, lab, { avgFactor: avgT });
    expectClose(avg.dataSync(), [params.loss_avg_factor], 1e-5, 0, 'focal loss_avg_factor (tensor)');
    const avgN = loss.forward(pred, lab, { avgFactor: params.avg_factor });
    expectClose(avgN.dataSync(), [params.loss_avg_factor], 1e-5, 0, 'focal loss_avg_factor (number)');
    const g = tf.grad((p: tf.Tensor) => loss.forward(p, lab, { avgFactor: params.avg_factor }))(pred);
    expectClose(g.dataSync(), grad, 1e-4, 1e-10, 'focal grad');
    tf.dispose([pred, lab, none, mean, avgT, avg, avgN, g]);
    expect(tf.memory().numTensors).toBe(before);
  });
});

describe('Matrix NMS goldens (ops/matrix_nms/case0..5)', () => {
  beforeAll(async () => {
    await setupTestBackend('cpu');
  });

  for (let c = 0; c < 6; c++) {
    it(`case${c}: keep_inds and labels exact, scores within 1e-6`, async () => {
      const dir = `ops/matrix_nms/case${c}`;
      const p = json(`${dir}/params.json`) as { kernel: 'gaussian' | 'linear'; sigma: number; filter_thr: number; nms_pre: number; max_num: number; mask_area_passed: boolean };
      const m = readParity(dir, 'masks.npy');
      const [n, h, w] = m.shape;
      const labels = npyInt32(readParity(dir, 'labels.npy'));
      const scores = npyFloat32(readParity(dir, 'scores.npy'));
      const area = npyFloat32(readParity(dir, 'mask_area.npy'));
      const opts = { kernel: p.kernel, sigma: p.sigma, filterThr: p.filter_thr, nmsPre: p.nms_pre, maxNum: p.max_num, maskArea: p.mask_area_passed ? area : undefined };
      const expKeep = Array.from(npyInt32(readParity(dir, 'out_keep_inds.npy')));
      const expLabels = Array.from(npyInt32(readParity(dir, 'out_labels.npy')));
      const expScores = npyFloat32(readParity(dir, 'out_scores.npy'));
      const outMasks = readParity(dir, 'out_masks.npy');
      // BitmapMasks input
      const r = await matrixNms({ count: n, height: h, width: w, data: npyUint8(m) }, labels, scores, opts);
      expect(Array.from(r.keepInds)).toEqual(expKeep);
      expect(Array.from(r.labels)).toEqual(expLabels);
      expectClose(r.scores, expScores, 0, 1e-6, `case${c} scores`);
      // out_masks are the input masks at keep_inds
      const hw = h * w;
      const md = npyUint8(m);
      const od = npyUint8(outMasks);
      expect(outMasks.shape[0]).toBe(expKeep.length);
      expKeep.forEach((k, r2) => expect(Array.from(od.subarray(r2 * hw, (r2 + 1) * hw))).toEqual(Array.from(md.subarray(k * hw, (k + 1) * hw))));
      // tensor input gives the same result
      const before = tf.memory().numTensors;
      const t = tf.tensor3d(md, [n, h, w], 'int32');
      const rt = await matrixNms(t, labels, scores, opts);
      t.dispose();
      expect(tf.memory().numTensors).toBe(before);
      expect(Array.from(rt.keepInds)).toEqual(expKeep);
      expect(Array.from(rt.scores)).toEqual(Array.from(r.scores));
    });
  }
});
