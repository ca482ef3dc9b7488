// SPDX-License-Identifier: Apache-2.0
/**
 * Unit tests of the SOLO-family heads, mirroring mmdetection 3.x
 * tests/test_models/test_dense_heads/test_solo_head.py and test_solov2_head.py (`test_mask_head_loss`, `test_solov2_head_loss`, `*_empty_result`):
 * empty gt -> loss_cls > 0 and loss_mask == 0; one gt -> both > 0; empty results. Plus state-dict names,
 * init values, output shapes, gradients, predict and tensor-leak checks. The towers are narrowed
 * (feat_channels 32, GN 8 groups) to keep the cpu backend fast; everything else is mmdetection's default.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import { Registry, type DetDataSample, type DetMeta } from '@solo-ts/core';
import { setupTestBackend } from '@solo-ts/testing';
import { lossesComponents } from '@solo-ts/losses';
import { assignersComponents } from '@solo-ts/assigners';
import { postprocessComponents } from '@solo-ts/postprocess';
import { readNpy, npyUint8 } from '../../../test/helpers/npy.js';
import { biasInitWithProb } from '@solo-ts/ops';
import { DecoupledSOLOHead, headsComponents, SOLOHead, SOLOV2Head } from './index.js';

const fixture = (name: string) => new URL(`./__fixtures__/${name}`, import.meta.url).pathname;

const S = 256;
const META: DetMeta = { imgId: 0, imgShape: [S, S], oriShape: [S, S], scaleFactor: [1, 1], batchInputShape: [S, S], padShape: [S, S] };
const MASK_FEATURE_HEAD = { feat_channels: 16, start_level: 0, end_level: 3, out_channels: 32, mask_stride: 4, norm_cfg: { type: 'GN', num_groups: 8, requires_grad: true } };
const NARROW = { feat_channels: 32, norm_cfg: { type: 'GN', num_groups: 8, requires_grad: true } };
const TEST_CFG = { nms_pre: 500, score_thr: 0.1, mask_thr: 0.5, filter_thr: 0.05, kernel: 'gaussian', sigma: 2.0, max_per_img: 100 };

function registry(): Registry {
  return new Registry().load(headsComponents, lossesComponents, assignersComponents, postprocessComponents);
}

function headCfg(type: string, extra: Record<string, unknown> = {}): Record<string, unknown> {
  const cfg: Record<string, unknown> = { type, num_classes: 4, in_channels: 1, ...NARROW, ...extra };
  if (type === 'SOLOV2Head' && !cfg.mask_feature_head) cfg.mask_feature_head = MASK_FEATURE_HEAD;
  return cfg;
}

/** mmdet test feats: rand(1, 1, s / 2^(i+2), s / 2^(i+2)) for i in 0..4 (NHWC here). */
function feats(seed = 1): tf.Tensor4D[] {
  return [0, 1, 2, 3, 4].map((i) => tf.randomUniform([1, S >> (i + 2), S >> (i + 2), 1], 0, 1, 'float32', seed + i) as tf.Tensor4D);
}

function emptySample(): DetDataSample {
  return { metainfo: META, gtInstances: { bboxes: new Float32Array(0), labels: new Int32Array(0), masks: { count: 0, height: S, width: S, data: new Uint8Array(0) } } };
}

function oneGtSample(): DetDataSample {
  const m = readNpy(fixture('rand_mask_gt.npy'));
  return {
    metainfo: META,
    gtInstances: {
      bboxes: Float32Array.from([23.6667, 23.8757, 238.6326, 151.8874]),
      labels: Int32Array.from([2]),
      masks: { count: 1, height: S, width: S, data: Uint8Array.from(npyUint8(m)) },
    },
  };
}

const HEADS = ['SOLOHead', 'DecoupledSOLOHead', 'DecoupledSOLOLightHead', 'SOLOV2Head'] as const;

describe('SOLO-family heads (mmdetection unit tests)', () => {
  beforeAll(async () => {
    await setupTestBackend('cpu');
  });

  for (const type of HEADS) {
    it(`${type}: empty gt -> loss_cls > 0, loss_mask == 0; one gt -> both > 0; no leaks`, () => {
      const head = registry().build<SOLOHead>('models', headCfg(type), 'mask_head');
      const x = feats();
      const before = tf.memory().numTensors;
      const empty = head.loss(x, [emptySample()]);
      const [emptyMask, emptyCls] = [empty.loss_mask.dataSync()[0], empty.loss_cls.dataSync()[0]];
      tf.dispose(Object.values(empty));
      expect(emptyCls).toBeGreaterThan(0);
      expect(emptyMask).toBe(0);
      const one = head.loss(x, [oneGtSample()]);
      const [oneMask, oneCls] = [one.loss_mask.dataSync()[0], one.loss_cls.dataSync()[0]];
      tf.dispose(Object.values(one));
      expect(oneCls).toBeGreaterThan(0);
      expect(oneMask).toBeGreaterThan(0);
      expect(Number.isFinite(oneMask)).toBe(true);
      expect(tf.memory().numTensors).toBe(before);
      tf.dispose(x);
      head.dispose();
    });
  }

  it('every trainable head parameter receives a gradient from the one-gt loss (SOLOV2Head, 128 x 128)', () => {
    // small sizes: the cpu backend's Conv2DBackpropFilter is slow
    const head = registry().build<SOLOV2Head>('models', headCfg('SOLOV2Head', { feat_channels: 16, stacked_convs: 2 }), 'mask_head');
    const s = 128;
    const x = [0, 1, 2, 3, 4].map((i) => tf.randomUniform([1, s >> (i + 2), s >> (i + 2), 1], 0, 1, 'float32', 7 + i) as tf.Tensor4D);
    const mask = new Uint8Array(s * s);
    for (let y = 20; y < 90; y++) for (let xx = 30; xx < 100; xx++) mask[y * s + xx] = 1;
    const meta: DetMeta = { ...META, imgShape: [s, s], oriShape: [s, s], batchInputShape: [s, s] };
    const sample: DetDataSample = { metainfo: meta, gtInstances: { bboxes: Float32Array.from([30, 20, 100, 90]), labels: Int32Array.from([1]), masks: { count: 1, height: s, width: s, data: mask } } };
    const before = tf.memory().numTensors;
    const { value, grads } = tf.variableGrads(() => {
      const l = head.loss(x, [sample]);
      return tf.add(l.loss_mask, l.loss_cls) as tf.Scalar;
    });
    const params = head.trainableParameters();
    expect(Object.keys(grads).length).toBe(params.length);
    const norms = new Map(params.map(([n, p]) => [n, tf.tidy(() => tf.norm(grads[p.variable.name]).dataSync()[0])]));
    for (const n of ['conv_cls.weight', 'conv_kernel.weight', 'kernel_convs.0.conv.weight', 'cls_convs.1.gn.weight', 'mask_feature_head.conv_pred.conv.weight', 'mask_feature_head.convs_all_levels.3.conv0.conv.weight']) {
      expect(norms.get(n), n).toBeGreaterThan(0);
    }
    tf.dispose([value, ...Object.values(grads)]);
    expect(tf.memory().numTensors).toBe(before);
    tf.dispose(x);
    head.dispose();
  });

  it('predictByFeat: no score above score_thr gives empty results at the original size (test_solo_head_empty_result and siblings)', async () => {
    const reg = registry();
    const grids = [40, 36, 24, 16, 12];
    const arr = (shape: number[]) => ({ data: new Float32Array(shape.reduce((p, d) => p * d, 1)), shape });
    const cls = grids.map((g) => arr([1, 4, g, g]));
    const before = tf.memory().numTensors;
    const cfg = { scoreThr: 0.1, maskThr: 0.5 };
    const solo = reg.build<SOLOHead>('models', headCfg('SOLOHead'), 'mask_head');
    const [r1] = await solo.predictByFeat({ mlvlClsPreds: cls, mlvlMaskPreds: grids.map((g) => arr([1, g * g, 16, 16])) }, [META], cfg);
    expect(r1.labels!.length).toBe(0);
    expect(r1.scores!.length).toBe(0);
    expect(r1.bboxes!.length).toBe(0);
    expect([r1.masks!.count, r1.masks!.height, r1.masks!.width]).toEqual([0, S, S]);
    const dec = reg.build<DecoupledSOLOHead>('models', headCfg('DecoupledSOLOHead'), 'mask_head');
    const xy = grids.map((g) => arr([1, g, 16, 16]));
    const [r2] = await dec.predictByFeat({ mlvlClsPreds: cls, mlvlMaskPredsX: xy, mlvlMaskPredsY: xy }, [META], cfg);
    expect(r2.scores!.length).toBe(0);
    const v2 = reg.build<SOLOV2Head>('models', headCfg('SOLOV2Head'), 'mask_head');
    // logits of -10: sigmoid 4.5e-5 < score_thr
    const logits = cls.map((c) => ({ data: c.data.map(() => -10), shape: c.shape }));
    const [r3] = await v2.predictByFeat({ mlvlClsPreds: logits, mlvlKernelPreds: grids.map((g) => arr([1, 32, g, g])), maskFeats: arr([1, 32, 16, 16]) }, [META], cfg);
    expect(r3.scores!.length).toBe(0);
    expect(r3.masks!.count).toBe(0);
    for (const h of [solo, dec, v2]) h.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });

  it('predictByFeat rejects raw outputs with missing names or wrong shapes, naming them', async () => {
    const solo = registry().build<SOLOHead>('models', headCfg('SOLOHead'), 'mask_head');
    const grids = [40, 36, 24, 16, 12];
    const arr = (shape: number[]) => ({ data: new Float32Array(shape.reduce((p, d) => p * d, 1)), shape });
    const cls = grids.map((g) => arr([1, 4, g, g]));
    const cfg = { scoreThr: 0.1, maskThr: 0.5 };
    await expect(solo.predictByFeat({ mlvlClsPreds: cls }, [META], cfg)).rejects.toThrow(/mlvlMaskPreds/);
    await expect(solo.predictByFeat({ mlvlClsPreds: cls.slice(1), mlvlMaskPreds: [] }, [META], cfg)).rejects.toThrow(/4 levels/);
    const masks = grids.map((g) => arr([1, g * g, 16, 16]));
    masks[2] = arr([1, 576, 8, 8]);
    await expect(solo.predictByFeat({ mlvlClsPreds: cls, mlvlMaskPreds: masks }, [META], cfg)).rejects.toThrow(/mlvlMaskPreds\[2\] is 8x8/);
    await expect(solo.predictByFeat({ mlvlClsPreds: cls, mlvlMaskPreds: masks }, [META, META], cfg)).rejects.toThrow(/expected \[2, 4, 40, 40\]/);
    solo.dispose();
  });

  it('state-dict names are mmdetection’s', () => {
    const reg = registry();
    const keys = (type: string, extra: Record<string, unknown> = {}) => [...reg.build<SOLOHead>('models', headCfg(type, extra), 'h').stateDict().keys()];
    const solo = keys('SOLOHead', { stacked_convs: 2 });
    expect(solo).toEqual(expect.arrayContaining(['mask_convs.0.conv.weight', 'mask_convs.0.gn.weight', 'mask_convs.1.gn.bias', 'cls_convs.1.conv.weight', 'conv_mask_list.4.weight', 'conv_mask_list.4.bias', 'conv_cls.weight', 'conv_cls.bias']));
    expect(solo.some((k) => k.startsWith('mask_convs.0.conv.bias'))).toBe(false); // no bias before a norm
    expect(solo.length).toBe(2 * 2 * 3 + 5 * 2 + 2);
    const dec = keys('DecoupledSOLOHead', { stacked_convs: 1 });
    expect(dec.sort()).toEqual(
      ['cls_convs.0.conv.weight', 'cls_convs.0.gn.bias', 'cls_convs.0.gn.weight', 'conv_cls.bias', 'conv_cls.weight', 'mask_convs_x.0.conv.weight', 'mask_convs_x.0.gn.bias', 'mask_convs_x.0.gn.weight', 'mask_convs_y.0.conv.weight', 'mask_convs_y.0.gn.bias', 'mask_convs_y.0.gn.weight']
        .concat([0, 1, 2, 3, 4].flatMap((l) => [`conv_mask_list_x.${l}.bias`, `conv_mask_list_x.${l}.weight`, `conv_mask_list_y.${l}.bias`, `conv_mask_list_y.${l}.weight`]))
        .sort(),
    );
    const light = keys('DecoupledSOLOLightHead', { dcn_cfg: { type: 'DCNv2' } });
    expect(light).toEqual(expect.arrayContaining(['mask_convs.3.conv.weight', 'mask_convs.3.conv.conv_offset.weight', 'mask_convs.2.conv.weight', 'conv_mask_list_x.0.weight', 'conv_mask_list_y.4.bias']));
    expect(light).not.toContain('mask_convs.2.conv.conv_offset.weight');
    const v2 = keys('SOLOV2Head');
    expect(v2).toEqual(
      expect.arrayContaining([
        'kernel_convs.0.conv.weight',
        'kernel_convs.3.gn.weight',
        'cls_convs.3.conv.weight',
        'conv_kernel.weight',
        'conv_kernel.bias',
        'mask_feature_head.convs_all_levels.0.conv0.conv.weight',
        'mask_feature_head.convs_all_levels.1.conv0.gn.bias',
        'mask_feature_head.convs_all_levels.3.conv2.conv.weight',
        'mask_feature_head.conv_pred.conv.weight',
        'mask_feature_head.conv_pred.gn.weight',
      ]),
    );
    expect(v2.filter((k) => k.includes('upsample'))).toEqual([]);
    const v2dcn = keys('SOLOV2Head', { dcn_cfg: { type: 'DCNv2' }, dcn_apply_to_all_conv: false, mask_feature_head: { ...MASK_FEATURE_HEAD, conv_cfg: { type: 'DCNv2' } } });
    expect(v2dcn).toContain('kernel_convs.3.conv.conv_offset.bias');
    expect(v2dcn).not.toContain('kernel_convs.2.conv.conv_offset.bias');
    expect(v2dcn).toContain('mask_feature_head.conv_pred.conv.conv_offset.weight');
  });

  it('init: Normal(0.01) convs, prior bias on conv_cls / conv_mask_list, zero conv_kernel bias, GN 1/0', () => {
    const reg = registry();
    const solo = reg.build<SOLOHead>('models', headCfg('SOLOHead', { feat_channels: 64, norm_cfg: { type: 'GN', num_groups: 8 } }), 'h');
    const sd = solo.stateDict();
    const prior = biasInitWithProb(0.01);
    expect(prior).toBeCloseTo(-4.59512, 5);
    const vals = (k: string) => sd.get(k)!.tensor.dataSync();
    expect(Array.from(vals('conv_cls.bias')).every((v) => Math.abs(v - prior) < 1e-6)).toBe(true);
    expect(Array.from(vals('conv_mask_list.2.bias')).every((v) => Math.abs(v - prior) < 1e-6)).toBe(true);
    const w = vals('mask_convs.1.conv.weight');
    const std = Math.sqrt(Array.from(w).reduce((s: number, v: number) => s + v * v, 0) / w.length);
    expect(std).toBeGreaterThan(0.009);
    expect(std).toBeLessThan(0.011);
    expect(Array.from(vals('mask_convs.1.gn.weight')).every((v) => v === 1)).toBe(true);
    expect(Array.from(vals('mask_convs.1.gn.bias')).every((v) => v === 0)).toBe(true);
    const v2 = reg.build<SOLOV2Head>('models', headCfg('SOLOV2Head'), 'h');
    const sd2 = v2.stateDict();
    expect(Array.from(sd2.get('conv_kernel.bias')!.tensor.dataSync()).every((v) => v === 0)).toBe(true);
    expect(Array.from(sd2.get('conv_cls.bias')!.tensor.dataSync()).every((v) => Math.abs(v - prior) < 1e-6)).toBe(true);
    solo.dispose();
    v2.dispose();
  });

  it('forward shapes (training and eval forms) and no leaks', () => {
    const reg = registry();
    const x = feats(3);
    const solo = reg.build<SOLOHead>('models', headCfg('SOLOHead'), 'h');
    const v2 = reg.build<SOLOV2Head>('models', headCfg('SOLOV2Head'), 'h');
    const before = tf.memory().numTensors;
    const t = solo.forward(x) as { mlvlMaskPreds: tf.Tensor4D[]; mlvlClsPreds: tf.Tensor4D[] };
    // levels after resize_feats: 32, 32, 16, 8, 8 -> masks at 2x, cls at G
    expect(t.mlvlMaskPreds.map((m) => m.shape)).toEqual([[1, 64, 64, 1600], [1, 64, 64, 1296], [1, 32, 32, 576], [1, 16, 16, 256], [1, 16, 16, 144]]);
    expect(t.mlvlClsPreds.map((m) => m.shape)).toEqual([40, 36, 24, 16, 12].map((g) => [1, g, g, 4]));
    solo.eval();
    const e = solo.forward(x) as { mlvlMaskPreds: tf.Tensor4D[]; mlvlClsPreds: tf.Tensor4D[] };
    expect(e.mlvlMaskPreds.map((m) => m.shape)).toEqual([1600, 1296, 576, 256, 144].map((c) => [1, 64, 64, c]));
    const maxProb = tf.tidy(() => tf.max(e.mlvlMaskPreds[3]).dataSync()[0]);
    expect(maxProb).toBeLessThanOrEqual(1);
    tf.dispose([t as unknown as tf.TensorContainer, e as unknown as tf.TensorContainer]);
    const o = v2.forward(x);
    expect(o.maskFeats.shape).toEqual([1, 64, 64, 32]);
    expect(o.mlvlKernelPreds.map((k) => k.shape)).toEqual([40, 36, 24, 16, 12].map((g) => [1, g, g, 32]));
    tf.dispose(o as unknown as tf.TensorContainer);
    expect(tf.memory().numTensors).toBe(before);
    tf.dispose(x);
    solo.dispose();
    v2.dispose();
  });

  for (const type of HEADS) {
    it(`${type}: predict gives consistent instances at the original size and leaks nothing`, async () => {
      const reg = registry();
      // a prior bias near 0 so that candidates exist
      const head = reg.build<SOLOHead>('models', headCfg(type, { test_cfg: { ...TEST_CFG, score_thr: 0.3 }, init_cfg: [{ type: 'Normal', layer: 'Conv2d', std: 0.3 }] }), 'h');
      head.eval();
      const x = feats(11);
      const meta: DetMeta = { ...META, imgShape: [200, 230], oriShape: [300, 345] };
      const before = tf.memory().numTensors;
      const [res] = await head.predict(x, [{ metainfo: meta }]);
      expect(tf.memory().numTensors).toBe(before);
      const n = res.scores!.length;
      expect(res.labels!.length).toBe(n);
      expect(res.masks!.count).toBe(n);
      expect([res.masks!.height, res.masks!.width]).toEqual([300, 345]);
      expect(n).toBeGreaterThan(0);
      expect(n).toBeLessThanOrEqual(100);
      for (let i = 1; i < n; i++) expect(res.scores![i]).toBeLessThanOrEqual(res.scores![i - 1]);
      expect(Array.from(res.labels!).every((l) => l >= 0 && l < 4)).toBe(true);
      tf.dispose(x);
      head.dispose();
    });
  }

  it('a head constructed in code gets the declared defaults and checks (as from the registry)', () => {
    const reg = registry();
    const ctx = reg.context('h');
    const built = reg.build<DecoupledSOLOHead>('models', headCfg('DecoupledSOLOHead'), 'h');
    const direct = new DecoupledSOLOHead({ numClasses: 4, inChannels: 1, featChannels: 32, normCfg: { type: 'GN', num_groups: 8, requires_grad: true } }, ctx);
    expect([...direct.stateDict().keys()]).toEqual([...built.stateDict().keys()]);
    expect([direct.numGrids, direct.strides, direct.scaleRanges, direct.posScale]).toEqual([built.numGrids, built.strides, built.scaleRanges, built.posScale]);
    expect((direct.lossMask as unknown as { activate: boolean }).activate).toBe(false);
    expect(() => new SOLOHead({ numClasses: 4, inChannels: 1, stackedConv: 3 } as never, ctx)).toThrow(/unknown option `stackedConv` for SOLOHead/);
    expect(() => new SOLOV2Head({ numClasses: 4, inChannels: 1 } as never, ctx)).toThrow(/SOLOV2Head needs option `mask_feature_head`/);
    direct.dispose();
    built.dispose();
  });

  it('rejects inconsistent configs with messages naming the option', () => {
    const reg = registry();
    expect(() => reg.build('models', headCfg('SOLOHead', { num_grids: [40, 36] }), 'h')).toThrow(/num_grids/);
    expect(() => reg.build('models', headCfg('SOLOV2Head', { dynamic_conv_size: 2 }), 'h')).toThrow(/dynamic_conv_size/);
    expect(() => reg.build('models', { ...headCfg('SOLOV2Head'), mask_feature_head: { ...MASK_FEATURE_HEAD, feat_channel: 3 } }, 'h')).toThrow(/feat_channel/);
    expect(() => reg.build('models', headCfg('SOLOHead', { stacked_conv: 3 }), 'h')).toThrow(/stacked_conv/);
    expect(() => reg.build('models', headCfg('SOLOHead', { num_grids: [40, 36, 24.5, 16, 12] }), 'h')).toThrow(/num_grids\[2\]/);
    expect(() => reg.build('models', headCfg('SOLOHead', { test_cfg: { ...TEST_CFG, nms_post: 5 } }), 'h')).toThrow(/unknown test_cfg option `nms_post`/);
    expect(() => reg.build('models', headCfg('SOLOHead', { train_cfg: 3 }), 'h')).toThrow(/train_cfg/);
    // the detector passes in_channels / train_cfg / test_cfg as `extra`: checked like config values
    expect(() => reg.build('models', { ...headCfg('SOLOHead'), in_channels: undefined }, 'h', { inChannels: 'x' })).toThrow(/in_channels/);
    expect(() => reg.build('models', headCfg('SOLOHead', { dcn_cfg: null }), 'h')).toThrow(/unknown option `dcn_cfg`/);
    expect(() => reg.build('models', { ...headCfg('SOLOV2Head'), mask_feature_head: { ...MASK_FEATURE_HEAD, in_channels: 2 } }, 'h')).toThrow(/mask_feature_head.in_channels \(2\) must equal the head's in_channels \(1\)/);
    expect(() => reg.build('models', { ...headCfg('SOLOV2Head'), mask_feature_head: { ...MASK_FEATURE_HEAD, type: 'Other' } }, 'h')).toThrow(/mask_feature_head.type must be MaskFeatModule/);
    expect(() => reg.build('models', { ...headCfg('SOLOV2Head'), mask_feature_head: { ...MASK_FEATURE_HEAD, out_channels: undefined } }, 'h')).toThrow(/needs option `out_channels`/);
    expect(() => reg.build('models', { ...headCfg('SOLOV2Head'), mask_feature_head: { ...MASK_FEATURE_HEAD, norm_cfg: 'GN' } }, 'h')).toThrow(/norm_cfg/);
    const head = reg.build<SOLOHead>('models', headCfg('SOLOHead'), 'h');
    const x = feats().slice(0, 4);
    expect(() => head.forward(x)).toThrow(/5 feature levels/);
    tf.dispose(x);
  });
});
