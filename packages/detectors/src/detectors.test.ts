// SPDX-License-Identifier: Apache-2.0
/**
 * DetDataPreprocessor (mmdetection / mmengine semantics: channel flip, normalise, pad bottom/right to the batch
 * maximum rounded up to pad_size_divisor, batch/pad shapes, gt mask padding in training) and the segmentor's
 * construction, state-dict names, forward modes and error messages, on a tiny SOLO.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import { Registry, padBitmapMasks, type DetDataSample } from '@solo-ts/core';
import { setupTestBackend } from '@solo-ts/testing';
import { backbonesComponents } from '@solo-ts/backbones';
import { necksComponents } from '@solo-ts/necks';
import { headsComponents } from '@solo-ts/heads';
import { lossesComponents } from '@solo-ts/losses';
import { assignersComponents } from '@solo-ts/assigners';
import { postprocessComponents } from '@solo-ts/postprocess';
import { DetDataPreprocessor, detectorsComponents, type SingleStageInstanceSegmentor } from './index.js';

const meta = (h: number, w: number) => ({ imgId: 1, oriShape: [h, w] as [number, number], imgShape: [h, w] as [number, number], scaleFactor: [1, 1] as [number, number] });

function registry(): Registry {
  return new Registry().load(backbonesComponents, necksComponents, headsComponents, lossesComponents, assignersComponents, postprocessComponents, detectorsComponents);
}

const TINY = {
  type: 'SOLO',
  data_preprocessor: { type: 'DetDataPreprocessor', mean: [123.675, 116.28, 103.53], std: [58.395, 57.12, 57.375], bgr_to_rgb: true, pad_mask: true, pad_size_divisor: 32 },
  backbone: { type: 'ResNet', depth: 18, base_channels: 8, out_indices: [0, 1, 2, 3], frozen_stages: 1, init_cfg: null },
  neck: { type: 'FPN', in_channels: [8, 16, 32, 64], out_channels: 16, start_level: 0, num_outs: 5 },
  mask_head: {
    type: 'SOLOHead',
    num_classes: 3,
    in_channels: 16,
    feat_channels: 16,
    stacked_convs: 2,
    strides: [8, 8, 16, 32, 32],
    scale_ranges: [[1, 96], [48, 192], [96, 384], [192, 768], [384, 2048]],
    num_grids: [40, 36, 24, 16, 12],
    norm_cfg: { type: 'GN', num_groups: 4, requires_grad: true },
  },
  test_cfg: { nms_pre: 500, score_thr: 0.1, mask_thr: 0.5, filter_thr: 0.05, kernel: 'gaussian', sigma: 2.0, max_per_img: 100 },
};

describe('DetDataPreprocessor', () => {
  beforeAll(async () => {
    await setupTestBackend('cpu');
  });

  it('flips BGR to RGB, normalises, pads bottom/right with pad_value to the batch max rounded up, sets shapes', () => {
    const pre = new DetDataPreprocessor({ mean: [10, 20, 30], std: [2, 4, 5], bgrToRgb: true, padSizeDivisor: 8, padValue: -1 });
    // image 1: 3 x 5, pixel (y, x) = BGR (y*10 + x, 100, 200); image 2: 9 x 2
    const a = new Uint8Array(3 * 5 * 3);
    for (let y = 0; y < 3; y++) for (let x = 0; x < 5; x++) a.set([y * 10 + x, 100, 200], (y * 5 + x) * 3);
    const b = tf.tensor3d(new Array(9 * 2 * 3).fill(50), [9, 2, 3], 'int32');
    const before = tf.memory().numTensors;
    const { inputs, dataSamples } = pre.forward({ inputs: [{ data: a, height: 3, width: 5, channels: 3 }, b], dataSamples: [{ metainfo: meta(3, 5) }, { metainfo: meta(9, 2) }] });
    expect(inputs.shape).toEqual([2, 16, 8, 3]);
    const d = inputs.arraySync() as number[][][][];
    expect(d[0][2][4]).toEqual([(200 - 10) / 2, (100 - 20) / 4, Math.fround((24 - 30) / 5)]);
    expect(d[0][3][0]).toEqual([-1, -1, -1]);
    expect(d[0][0][5]).toEqual([-1, -1, -1]);
    expect(d[1][8][1]).toEqual([(50 - 10) / 2, (50 - 20) / 4, (50 - 30) / 5].map(Math.fround));
    expect(dataSamples.map((s) => s.metainfo.batchInputShape)).toEqual([[16, 8], [16, 8]]);
    expect(dataSamples.map((s) => s.metainfo.padShape)).toEqual([[8, 8], [16, 8]]);
    inputs.dispose();
    expect(tf.memory().numTensors).toBe(before);
    b.dispose();
  });

  it('pads gt masks to the batch input size in training only (pad_mask), with mask_pad_value', () => {
    const pre = new DetDataPreprocessor({ padSizeDivisor: 4, padMask: true, maskPadValue: 0 });
    const masks = { count: 1, height: 2, width: 3, data: Uint8Array.from([1, 0, 1, 0, 1, 1]) };
    const sample: DetDataSample = { metainfo: meta(2, 3), gtInstances: { labels: Int32Array.from([0]), bboxes: new Float32Array(4), masks } };
    const img = { data: new Uint8Array(2 * 3 * 3), height: 2, width: 3, channels: 3 };
    const t = pre.forward({ inputs: [img], dataSamples: [sample] }, true);
    expect(t.dataSamples[0].gtInstances!.masks).toEqual({ count: 1, height: 4, width: 4, data: Uint8Array.from([1, 0, 1, 0, 0, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0]) });
    expect(sample.gtInstances!.masks).toBe(masks); // the input sample is not modified
    const e = pre.forward({ inputs: [img], dataSamples: [sample] }, false);
    expect(e.dataSamples[0].gtInstances!.masks).toBe(masks);
    expect(padBitmapMasks(masks, [3, 3], 7).data).toEqual(Uint8Array.from([1, 0, 1, 0, 1, 1, 7, 7, 7]));
    tf.dispose([t.inputs, e.inputs]);
  });

  it('rejects inconsistent settings and inputs', () => {
    expect(() => new DetDataPreprocessor({ mean: [1, 2, 3] })).toThrow(/mean and std/);
    expect(() => new DetDataPreprocessor({ bgrToRgb: true, rgbToBgr: true })).toThrow(/bgr_to_rgb/);
    expect(() => new DetDataPreprocessor({ batchAugments: [{ type: 'BatchFixedSizePad' }] })).toThrow(/batch_augments/);
    const pre = new DetDataPreprocessor({});
    expect(() => pre.forward({ inputs: [], dataSamples: [] })).toThrow(/empty batch/);
    expect(() => pre.forward({ inputs: [{ data: new Uint8Array(5), height: 2, width: 2, channels: 3 }], dataSamples: [{ metainfo: meta(2, 2) }] })).toThrow(/5 values/);
  });
});

describe('SingleStageInstanceSegmentor (SOLO)', () => {
  beforeAll(async () => {
    await setupTestBackend('cpu');
  });

  it('builds backbone / neck / mask_head with mmdetection state-dict prefixes and passes test_cfg to the head', () => {
    const model = registry().build<SingleStageInstanceSegmentor>('models', TINY, 'model');
    const keys = [...model.stateDict().keys()];
    expect(keys).toContain('backbone.conv1.weight');
    expect(keys).toContain('backbone.layer1.0.bn1.running_mean');
    expect(keys).toContain('neck.lateral_convs.0.conv.weight');
    expect(keys).toContain('mask_head.conv_mask_list.0.weight');
    expect(keys.every((k) => /^(backbone|neck|mask_head)\./.test(k))).toBe(true);
    expect((model.maskHead as unknown as { testCfg: unknown }).testCfg).toEqual(TINY.test_cfg);
    model.dispose();
  });

  it('loadCheckpoint: strict reports every problem in one error; non-strict skips and reports', () => {
    const model = registry().build<SingleStageInstanceSegmentor>('models', TINY, 'model');
    const sd = new Map<string, tf.Tensor>();
    for (const [k, v] of model.stateDict()) sd.set(k, v.torchLayout === 'conv' ? tf.transpose(v.tensor, [3, 2, 0, 1]) : tf.clone(v.tensor));
    expect(model.loadCheckpoint(sd).missing).toEqual([]);
    sd.get('mask_head.conv_cls.weight')!.dispose();
    sd.set('mask_head.conv_cls.weight', tf.zeros([80, 16, 3, 3]));
    sd.get('neck.fpn_convs.0.conv.bias')!.dispose();
    sd.delete('neck.fpn_convs.0.conv.bias');
    sd.set('data_preprocessor.mean', tf.zeros([3]));
    expect(() => model.loadCheckpoint(sd)).toThrow(/missing keys \(1\): neck\.fpn_convs\.0\.conv\.bias[\s\S]*unexpected keys \(1\): data_preprocessor\.mean[\s\S]*mask_head\.conv_cls\.weight: model \[3, 16, 3, 3\], checkpoint \[80, 16, 3, 3\]/);
    const r = model.loadCheckpoint(sd, { strict: false });
    expect(r.mismatched.map((m) => m.key)).toEqual(['mask_head.conv_cls.weight']);
    expect(r.missing).toEqual(['neck.fpn_convs.0.conv.bias']);
    tf.dispose([...sd.values()]);
    model.dispose();
  });

  it('forward modes and predict at the original size; no leaks', async () => {
    const model = registry().build<SingleStageInstanceSegmentor>('models', TINY, 'model');
    const img = { data: new Uint8Array(40 * 50 * 3).map((_, i) => i % 255), height: 40, width: 50, channels: 3 };
    const mask = new Uint8Array(40 * 50);
    for (let y = 5; y < 30; y++) for (let x = 10; x < 40; x++) mask[y * 50 + x] = 1;
    const sample: DetDataSample = { metainfo: meta(40, 50), gtInstances: { bboxes: Float32Array.from([10, 5, 40, 30]), labels: Int32Array.from([2]), masks: { count: 1, height: 40, width: 50, data: mask } } };
    const before = tf.memory().numTensors;
    const train = model.preprocess({ inputs: [img], dataSamples: [sample] }, true);
    model.train();
    const losses = model.forward(train.inputs, train.dataSamples, 'loss');
    expect(Object.keys(losses).sort()).toEqual(['loss_cls', 'loss_mask']);
    expect(losses.loss_mask.dataSync()[0]).toBeGreaterThan(0);
    tf.dispose([train.inputs, ...Object.values(losses)]);
    model.eval();
    const test = model.preprocess({ inputs: [img], dataSamples: [{ metainfo: { ...meta(40, 50), oriShape: [80, 100] } }] }, false);
    const outs = model.forward(test.inputs, null, 'tensor') as { mlvlMaskPreds: tf.Tensor4D[]; mlvlClsPreds: tf.Tensor4D[] };
    expect(outs.mlvlMaskPreds[0].shape).toEqual([1, 16, 16, 1600]);
    tf.dispose(outs as unknown as tf.TensorContainer);
    const [res] = await model.forward(test.inputs, test.dataSamples, 'predict');
    expect([res.predInstances!.masks!.height, res.predInstances!.masks!.width]).toEqual([80, 100]);
    expect(() => model.forward(test.inputs, test.dataSamples, 'bogus' as 'tensor')).toThrow(/invalid forward mode/);
    test.inputs.dispose();
    expect(tf.memory().numTensors).toBe(before);
    model.dispose();
  });

  // mmdetection tests/test_models/test_detectors/test_single_stage_instance_seg.py (`test_single_stage_forward_*_mode`): a batch of two
  // images of different sizes ([3,128,128], [3,125,130]) in loss mode (SOLO, light SOLOv2) and predict mode
  // (decoupled light SOLO), narrowed to a ResNet-18 with 8 base channels.
  const HEADS: Record<string, Record<string, unknown>> = {
    SOLOHead: TINY.mask_head,
    SOLOV2Head: { ...TINY.mask_head, type: 'SOLOV2Head', mask_feature_head: { feat_channels: 8, start_level: 0, end_level: 3, out_channels: 8, mask_stride: 4, norm_cfg: { type: 'GN', num_groups: 4 } } },
    DecoupledSOLOLightHead: { ...TINY.mask_head, type: 'DecoupledSOLOLightHead', loss_mask: { type: 'DiceLoss', use_sigmoid: true, activate: false, loss_weight: 3.0 } },
  };
  function batchOfTwo(): { inputs: Array<{ data: Uint8Array; height: number; width: number; channels: number }>; dataSamples: DetDataSample[] } {
    const sizes: Array<[number, number]> = [[128, 128], [125, 130]];
    return {
      inputs: sizes.map(([h, w]) => ({ data: new Uint8Array(h * w * 3).map((_, i) => (i * 13) % 256), height: h, width: w, channels: 3 })),
      dataSamples: sizes.map(([h, w], k) => {
        const mask = new Uint8Array(h * w);
        for (let y = 20 + k; y < 90; y++) for (let x = 30; x < 100 - k; x++) mask[y * w + x] = 1;
        return { metainfo: meta(h, w), gtInstances: { bboxes: Float32Array.from([30, 20 + k, 100 - k, 90]), labels: Int32Array.from([k]), masks: { count: 1, height: h, width: w, data: mask } } };
      }),
    };
  }
  for (const [type, detector] of [['SOLOHead', 'SOLO'], ['SOLOV2Head', 'SOLOv2']] as const) {
    it(`${detector} (${type}): loss mode on a batch of two images of different sizes`, () => {
      const model = registry().build<SingleStageInstanceSegmentor>('models', { ...TINY, type: detector, mask_head: HEADS[type] }, 'model');
      const before = tf.memory().numTensors;
      const { inputs, dataSamples } = model.preprocess(batchOfTwo(), true);
      expect(inputs.shape).toEqual([2, 128, 160, 3]);
      expect(dataSamples.map((s) => s.gtInstances!.masks!.width)).toEqual([160, 160]);
      model.train();
      const l = model.forward(inputs, dataSamples, 'loss');
      expect(l.loss_mask.dataSync()[0]).toBeGreaterThan(0);
      expect(l.loss_cls.dataSync()[0]).toBeGreaterThan(0);
      tf.dispose([inputs, ...Object.values(l)]);
      expect(tf.memory().numTensors).toBe(before);
      model.dispose();
    });
  }

  it('SOLO (DecoupledSOLOLightHead): predict mode on a batch of two gives two samples at their sizes', async () => {
    const model = registry().build<SingleStageInstanceSegmentor>('models', { ...TINY, mask_head: HEADS.DecoupledSOLOLightHead }, 'model');
    model.eval();
    const before = tf.memory().numTensors;
    const { inputs, dataSamples } = model.preprocess(batchOfTwo(), false);
    const out = await model.forward(inputs, dataSamples, 'predict');
    expect(out.length).toBe(2);
    expect(out.map((s) => [s.predInstances!.masks!.height, s.predInstances!.masks!.width])).toEqual([[128, 128], [125, 130]]);
    inputs.dispose();
    expect(tf.memory().numTensors).toBe(before);
    model.dispose();
  });

  it('config errors name the problem', () => {
    const reg = registry();
    expect(() => reg.build('models', { ...TINY, bbox_head: { type: 'X' } }, 'model')).toThrow(/bbox_head/);
    expect(() => reg.build('models', { ...TINY, init_cfg: { type: 'Pretrained', checkpoint: 'x.pth' } }, 'model')).toThrow(/init_cfg/);
    expect(() => reg.build('models', { ...TINY, mask_head: { ...TINY.mask_head, type: 'SOLOHeed' } }, 'model')).toThrow(/unknown type "SOLOHeed"/);
    expect(() => reg.build('models', { ...TINY, neck_cfg: {} }, 'model')).toThrow(/neck_cfg/);
  });
});
