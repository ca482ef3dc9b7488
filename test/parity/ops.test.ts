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
import { SOLOMaskPostProcessor, matrixNms } from '@solo-ts/postprocess';
import type { SoloTestCfg } from '@solo-ts/core';
import { rleDecodeRowMajor, rleFromString } from '@solo-ts/cocoapi';
import { npyFloat32, npyInt32, npyUint8, parityPath, readParity } from '../helpers/npy.js';
import { VARIANTS } from './variants.js';

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

function checkDiceGolden(name: string): void {
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
}

function checkFocalGolden(): void {
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
}

describe('loss goldens (ops/dice_*, ops/focal)', () => {
  beforeAll(async () => {
    await setupTestBackend('cpu');
  });
  for (const name of ['dice_solo', 'dice_decoupled']) it(`${name}: loss (none, mean) and d(sum loss)/d pred`, () => checkDiceGolden(name));
  it('focal: loss_none, mean, avg_factor and d loss(avg_factor)/d pred', () => checkFocalGolden());
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

interface VariantCfg {
  model: {
    mask_head: { type: string; strides: number[]; num_grids: number[] };
    test_cfg: { nms_pre: number; score_thr: number; mask_thr: number; filter_thr: number; kernel: 'gaussian' | 'linear'; sigma: number; max_per_img: number };
  };
  image_meta: { ori_shape: [number, number]; img_shape: [number, number]; pad_shape: [number, number] };
}

const sigmoid32 = (x: number) => Math.fround(1 / (1 + Math.exp(-x)));

/**
 * SOLOv2 candidates from the head goldens, as SOLOV2Head.predict_by_feat builds them: sigmoid + point-NMS of the
 * class logits, score > score_thr in (cell, class) row-major order, dynamic 1x1 conv of mask_feats with the
 * candidate kernels, sigmoid.
 */
function solov2Candidates(variant: string, cfg: VariantCfg) {
  const { strides, num_grids: grids } = cfg.model.mask_head;
  const thr = Math.fround(cfg.model.test_cfg.score_thr);
  const feats = readParity(variant, 'head', 'mask_feats.npy');
  const [, E, h4, w4] = feats.shape;
  const cls: number[] = [];
  const labels: number[] = [];
  const levelStrides: number[] = [];
  const kernels: number[] = [];
  grids.forEach((G, l) => {
    const c = readParity(variant, 'head', `cls_pred_l${l}.npy`);
    const k = npyFloat32(readParity(variant, 'head', `kernel_pred_l${l}.npy`));
    const C = c.shape[1];
    const logits = npyFloat32(c);
    const s = Float32Array.from(logits, sigmoid32);
    const at = (ci: number, y: number, x: number) => s[(ci * G + y) * G + x];
    for (let y = 0; y < G; y++) {
      for (let x = 0; x < G; x++) {
        for (let ci = 0; ci < C; ci++) {
          const v = at(ci, y, x);
          let mx = v;
          for (const [dy, dx] of [[-1, -1], [-1, 0], [0, -1]]) if (y + dy >= 0 && x + dx >= 0) mx = Math.max(mx, at(ci, y + dy, x + dx));
          const score = mx === v ? v : 0;
          if (score > thr) {
            cls.push(score);
            labels.push(ci);
            levelStrides.push(strides[l]);
            for (let e = 0; e < E; e++) kernels.push(k[(e * G + y) * G + x]);
          }
        }
      }
    }
  });
  const n = cls.length;
  const maskProbs = tf.tidy(() => {
    const f = tf.reshape(tf.tensor(npyFloat32(feats), feats.shape), [E, h4 * w4]);
    return tf.reshape(tf.sigmoid(tf.matMul(tf.tensor2d(kernels, [n, E]), f)), [n, h4, w4]) as tf.Tensor3D;
  });
  return { maskProbs, clsScores: Float32Array.from(cls), labels: Int32Array.from(labels), strides: Float32Array.from(levelStrides) };
}

async function checkPostProcessor(variant: string, cfg: VariantCfg, testCfg: SoloTestCfg, hostCompute: 'on' | 'off' | 'auto' = 'auto'): Promise<void> {
  const before = tf.memory().numTensors;
  const cand = solov2Candidates(variant, cfg);
  const meta = { imgId: 42, oriShape: cfg.image_meta.ori_shape, imgShape: cfg.image_meta.img_shape, scaleFactor: [1, 1] as [number, number] };
  const res = await new SOLOMaskPostProcessor({ chunkSize: 4, hostCompute }).process(cand, meta, testCfg);
  expect(tf.memory().numTensors).toBe(before);
  const predScores = npyFloat32(readParity(variant, 'pred_scores.npy'));
  const predLabels = Array.from(npyInt32(readParity(variant, 'pred_labels.npy')));
  const predAreas = npyInt32(readParity(variant, 'pred_mask_areas.npy'));
  const predBoxes = npyFloat32(readParity(variant, 'pred_mask_bboxes_xywh.npy'));
  expect(Array.from(res.labels as Int32Array)).toEqual(predLabels);
  expectClose(res.scores as Float32Array, predScores, 0, 1e-6, 'pred_scores');
  const masks = res.masks!;
  expect([masks.count, masks.height, masks.width]).toEqual([predLabels.length, ...cfg.image_meta.ori_shape]);
  const hw = masks.height * masks.width;
  const boxes = res.bboxes as Float32Array;
  for (let i = 0; i < masks.count; i++) {
    let a = 0;
    for (let k = 0; k < hw; k++) a += masks.data[i * hw + k];
    // bilinear in float32 vs PyTorch: a handful of pixels within float error of mask_thr may flip
    expect(Math.abs(a - predAreas[i]), `mask ${i} area ${a} vs ${predAreas[i]}`).toBeLessThanOrEqual(Math.max(2, predAreas[i] * 1e-3));
    const xywh = [boxes[4 * i], boxes[4 * i + 1], boxes[4 * i + 2] - boxes[4 * i], boxes[4 * i + 3] - boxes[4 * i + 1]];
    for (let k = 0; k < 4; k++) expect(Math.abs(xywh[k] - predBoxes[4 * i + k]), `mask ${i} box`).toBeLessThanOrEqual(1);
  }
  // pixel-level comparison with mmdet's own COCO results (RLE of every final mask)
  const segm = JSON.parse(readFileSync(parityPath(variant, 'predictions.segm.json'), 'utf8')) as Array<{ segmentation: { size: [number, number]; counts: string } }>;
  expect(segm.length).toBe(masks.count);
  let differing = 0;
  segm.forEach((d, i) => {
    const ref = rleDecodeRowMajor(rleFromString(d.segmentation.counts, d.segmentation.size[0], d.segmentation.size[1]));
    for (let k = 0; k < hw; k++) if (ref[k] !== masks.data[i * hw + k]) differing++;
  });
  expect(differing, 'pixels that differ from predictions.segm.json').toBeLessThanOrEqual(masks.count * 2);
  }

describe.each(VARIANTS)('post-processing goldens of %s (post/, pred_*)', (variant) => {
  const cfg = JSON.parse(readFileSync(parityPath(variant, 'config.json'), 'utf8')) as VariantCfg;
  const tc = cfg.model.test_cfg;
  const testCfg: SoloTestCfg = { nmsPre: tc.nms_pre, scoreThr: tc.score_thr, maskThr: tc.mask_thr, filterThr: tc.filter_thr, kernel: tc.kernel, sigma: tc.sigma, maxPerImg: tc.max_per_img };
  const inScores = npyFloat32(readParity(variant, 'post', 'nms_in_scores.npy'));
  const inLabels = npyInt32(readParity(variant, 'post', 'nms_in_labels.npy'));
  const inAreas = npyFloat32(readParity(variant, 'post', 'nms_in_areas.npy'));
  const outScores = npyFloat32(readParity(variant, 'post', 'nms_out_scores.npy'));
  const outLabels = Array.from(npyInt32(readParity(variant, 'post', 'nms_out_labels.npy')));
  const outKeep = Array.from(npyInt32(readParity(variant, 'post', 'nms_out_keep_inds.npy')));
  const isV2 = cfg.model.mask_head.type === 'SOLOV2Head';

  beforeAll(async () => {
    await setupTestBackend('cpu');
  });

  // The post/ files of SOLO and decoupled heads carry no masks (the mask maps are not stored whole), so the NMS
  // itself can only be re-run for SOLOv2, whose head goldens hold everything the candidates are made from.
  it.runIf(isV2)('candidates equal nms_in_*, Matrix NMS on them equals nms_out_*', async () => {
    const cand = solov2Candidates(variant, cfg);
    const probs = (await cand.maskProbs.data()) as Float32Array;
    const [n, h4, w4] = cand.maskProbs.shape;
    cand.maskProbs.dispose();
    const hw = h4 * w4;
    const thr = Math.fround(tc.mask_thr);
    const scores: number[] = [];
    const areas: number[] = [];
    const labels: number[] = [];
    const masks: number[] = [];
    for (let i = 0; i < n; i++) {
      let a = 0;
      let ps = 0;
      for (let k = 0; k < hw; k++) if (probs[i * hw + k] > thr) {
        a++;
        ps += probs[i * hw + k];
      }
      if (!(a > cand.strides[i])) continue;
      areas.push(a);
      scores.push(Math.fround(cand.clsScores[i] * Math.fround(ps / a)));
      labels.push(cand.labels[i]);
      for (let k = 0; k < hw; k++) masks.push(probs[i * hw + k] > thr ? 1 : 0);
    }
    expect(labels).toEqual(Array.from(inLabels));
    expect(areas).toEqual(Array.from(inAreas));
    expectClose(scores, inScores, 1e-5, 1e-7, 'nms_in_scores');
    const r = await matrixNms({ count: labels.length, height: h4, width: w4, data: Uint8Array.from(masks) }, inLabels, inScores, {
      maskArea: inAreas,
      nmsPre: tc.nms_pre,
      maxNum: tc.max_per_img,
      kernel: tc.kernel,
      sigma: tc.sigma,
      filterThr: tc.filter_thr,
    });
    expect(Array.from(r.keepInds)).toEqual(outKeep);
    expect(Array.from(r.labels)).toEqual(outLabels);
    expectClose(r.scores, outScores, 0, 1e-6, 'nms_out_scores');
  });

  for (const hostCompute of ['on', 'off'] as const) {
    it.runIf(isV2)(`SOLOMaskPostProcessor (host_compute ${hostCompute}) on the head goldens gives pred_scores / labels / mask areas / boxes / masks`, () =>
      checkPostProcessor(variant, cfg, testCfg, hostCompute),
    );
  }

  it('nms_out_* is consistent with nms_in_* (labels of the kept inputs, scores never increase)', () => {
    expect(new Set(outKeep).size).toBe(outKeep.length);
    outKeep.forEach((k, r) => {
      expect(outLabels[r]).toBe(inLabels[k]);
      expect(outScores[r]).toBeLessThanOrEqual(inScores[k]);
      if (r > 0) expect(outScores[r]).toBeLessThanOrEqual(outScores[r - 1]);
    });
    expect(inAreas.length).toBe(inScores.length);
  });
});

describe('on the wasm backend: loss goldens and the SOLOv2 post-processing', () => {
  beforeAll(async () => {
    await setupTestBackend('wasm');
  });
  it('backend is wasm', () => expect(tf.getBackend()).toBe('wasm'));
  for (const name of ['dice_solo', 'dice_decoupled']) it(`${name}`, () => checkDiceGolden(name));
  it('focal', () => checkFocalGolden());
  it('SOLOv2 post-processing of solov2_r50_fpn_1x_coco', async () => {
    const variant = 'solov2_r50_fpn_1x_coco';
    const cfg = JSON.parse(readFileSync(parityPath(variant, 'config.json'), 'utf8')) as VariantCfg;
    const tc = cfg.model.test_cfg;
    const testCfg: SoloTestCfg = { nmsPre: tc.nms_pre, scoreThr: tc.score_thr, maskThr: tc.mask_thr, filterThr: tc.filter_thr, kernel: tc.kernel, sigma: tc.sigma, maxPerImg: tc.max_per_img };
    await checkPostProcessor(variant, cfg, testCfg, 'on');
    await checkPostProcessor(variant, cfg, testCfg, 'off');
  });
  it('matrix_nms case0 through a tensor', async () => {
    const dir = 'ops/matrix_nms/case0';
    const m = readParity(dir, 'masks.npy');
    const t = tf.tensor3d(npyUint8(m), m.shape as [number, number, number], 'int32');
    const r = await matrixNms(t, npyInt32(readParity(dir, 'labels.npy')), npyFloat32(readParity(dir, 'scores.npy')), {
      maskArea: npyFloat32(readParity(dir, 'mask_area.npy')),
      nmsPre: 500,
      maxNum: 100,
      filterThr: 0.05,
    });
    t.dispose();
    expect(Array.from(r.keepInds)).toEqual(Array.from(npyInt32(readParity(dir, 'out_keep_inds.npy'))));
  });
});
