// SPDX-License-Identifier: Apache-2.0
/**
 * The model zoo configs (configs/solo, configs/solov2):
 * 1. every config loads with `loadConfig` and its merged values are mmdetection's (its configs/solo and
 *    configs/solov2 files with their `_base_` chains, checked per config against a table written from those
 *    Python configs, not from the YAML);
 * 2. for the five configs with mmdetection goldens, the merged `model` dict and test pipeline, with the golden's
 *    overrides applied as --cfg-options, equal the fully resolved mmdetection config (../shared/parity/<v>/config.json);
 * 3. every config's model (all components through one Registry) and data pipelines build, and the model runs
 *    forward / loss / predict at a tiny size (ResNet-18 or a narrow ResNet-50 for the DCN configs, narrow heads).
 */
import { readdirSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import { Registry, type DetDataSample } from '@solo-ts/core';
import { loadConfig, type Config } from '@solo-ts/config';
import { setupTestBackend } from '@solo-ts/testing';
import { backbonesComponents } from '@solo-ts/backbones';
import { necksComponents } from '@solo-ts/necks';
import { headsComponents } from '@solo-ts/heads';
import { lossesComponents } from '@solo-ts/losses';
import { assignersComponents } from '@solo-ts/assigners';
import { postprocessComponents } from '@solo-ts/postprocess';
import { datasetsComponents } from '@solo-ts/datasets';
import { detectorsComponents, type SingleStageInstanceSegmentor } from '@solo-ts/detectors';
import { PARITY_ROOT, REPO_ROOT } from '../helpers/npy.js';

const CONFIGS = resolve(REPO_ROOT, 'configs');

/** Expected merged values per config (mmdetection's configs: model differences, resizes, schedule, grad clip). */
interface Expect {
  detector: 'SOLO' | 'SOLOv2';
  head: string;
  stacked: number;
  feat: number;
  ranges: number[][];
  backbone: string;
  depth: number;
  dcn: boolean;
  headDcn?: { all: boolean };
  maskOut?: number;
  trainScales: number[][];
  testScale: number[];
  epochs: number;
  clip: boolean;
  lossActivate: boolean;
  neckIn: number[];
}
const R_STD = [[1, 96], [48, 192], [96, 384], [192, 768], [384, 2048]];
const R_LIGHT = [[1, 64], [32, 128], [64, 256], [128, 512], [256, 2048]];
const R_V2LIGHT = [[1, 56], [28, 112], [56, 224], [112, 448], [224, 896]];
const MS1333 = [800, 768, 736, 704, 672, 640].map((h) => [1333, h]);
const MS852 = [512, 480, 448, 416, 384, 352].map((h) => [852, h]);
const MS768 = [512, 480, 448, 416, 384, 352].map((h) => [768, h]);
const NECK50 = [256, 512, 1024, 2048];
const NECK18 = [64, 128, 256, 512];
const solo = (o: Partial<Expect>): Expect => ({ detector: 'SOLO', head: 'SOLOHead', stacked: 7, feat: 256, ranges: R_STD, backbone: 'ResNet', depth: 50, dcn: false, trainScales: [[1333, 800]], testScale: [1333, 800], epochs: 12, clip: false, lossActivate: true, neckIn: NECK50, ...o });
const v2 = (o: Partial<Expect>): Expect => solo({ detector: 'SOLOv2', head: 'SOLOV2Head', stacked: 4, feat: 512, maskOut: 256, clip: true, ...o });
const v2light = (o: Partial<Expect>): Expect => v2({ stacked: 2, feat: 256, ranges: R_V2LIGHT, maskOut: 128, trainScales: MS768, testScale: [448, 768], epochs: 36, ...o });
const EXPECTED: Record<string, Expect> = {
  'solo/solo_r50_fpn_1x_coco': solo({}),
  'solo/solo_r50_fpn_3x_coco': solo({ trainScales: MS1333, epochs: 36 }),
  'solo/decoupled-solo_r50_fpn_1x_coco': solo({ head: 'DecoupledSOLOHead', lossActivate: false }),
  'solo/decoupled-solo_r50_fpn_3x_coco': solo({ head: 'DecoupledSOLOHead', lossActivate: false, trainScales: MS1333, epochs: 36 }),
  'solo/decoupled-solo-light_r50_fpn_3x_coco': solo({ head: 'DecoupledSOLOLightHead', stacked: 4, ranges: R_LIGHT, lossActivate: false, trainScales: MS852, testScale: [852, 512], epochs: 36 }),
  'solov2/solov2_r50_fpn_1x_coco': v2({}),
  'solov2/solov2_r50_fpn_ms-3x_coco': v2({ trainScales: MS1333, epochs: 36 }),
  'solov2/solov2_r101_fpn_ms-3x_coco': v2({ depth: 101, trainScales: MS1333, epochs: 36 }),
  'solov2/solov2_r101-dcn_fpn_ms-3x_coco': v2({ depth: 101, dcn: true, headDcn: { all: true }, trainScales: MS1333, epochs: 36 }),
  'solov2/solov2_x101-dcn_fpn_ms-3x_coco': v2({ backbone: 'ResNeXt', depth: 101, dcn: true, headDcn: { all: true }, trainScales: MS1333, epochs: 36 }),
  'solov2/solov2-light_r18_fpn_ms-3x_coco': v2light({ depth: 18, neckIn: NECK18 }),
  'solov2/solov2-light_r34_fpn_ms-3x_coco': v2light({ depth: 34, neckIn: NECK18 }),
  'solov2/solov2-light_r50_fpn_ms-3x_coco': v2light({}),
  'solov2/solov2-light_r50-dcn_fpn_ms-3x_coco': v2light({ dcn: true, headDcn: { all: false }, stacked: 3, ranges: R_LIGHT }),
};

function registry(): Registry {
  return new Registry().load(backbonesComponents, necksComponents, headsComponents, lossesComponents, assignersComponents, postprocessComponents, detectorsComponents, datasetsComponents);
}

/** Shrinking overrides: small backbones and narrow heads, no pretrained download, 4 classes. */
function tinyOverrides(e: Expect): Record<string, unknown> {
  const o: Record<string, unknown> = { 'model.backbone.init_cfg': null };
  if (e.backbone === 'ResNeXt') Object.assign(o, { 'model.backbone.depth': 50, 'model.backbone.base_channels': 8, 'model.backbone.groups': 4, 'model.backbone.base_width': 4, 'model.neck.in_channels': [32, 64, 128, 256] });
  else if (e.dcn) Object.assign(o, { 'model.backbone.depth': 50, 'model.backbone.base_channels': 8, 'model.neck.in_channels': [32, 64, 128, 256] });
  else Object.assign(o, { 'model.backbone.depth': 18, 'model.backbone.base_channels': 8, 'model.neck.in_channels': [8, 16, 32, 64] });
  Object.assign(o, {
    'model.neck.out_channels': 16,
    'model.mask_head.in_channels': 16,
    'model.mask_head.feat_channels': 16,
    'model.mask_head.num_classes': 4,
    'model.mask_head.norm_cfg': { type: 'GN', num_groups: 4, requires_grad: true },
    // a wide init and no prior bias, so that predict has candidates to post-process
    'model.mask_head.init_cfg': [{ type: 'Normal', layer: 'Conv2d', std: 0.3 }],
  });
  if (e.detector === 'SOLOv2') {
    Object.assign(o, { 'model.mask_head.mask_feature_head.feat_channels': 8, 'model.mask_head.mask_feature_head.out_channels': 8, 'model.mask_head.mask_feature_head.norm_cfg.num_groups': 4 });
  }
  return o;
}

function configFile(name: string): string {
  return resolve(CONFIGS, `${name}.yaml`);
}

describe('model zoo configs', () => {
  beforeAll(async () => {
    await setupTestBackend('cpu');
  });

  it('covers every YAML of configs/solo and configs/solov2', () => {
    const files = ['solo', 'solov2'].flatMap((d) => readdirSync(resolve(CONFIGS, d)).filter((f) => f.endsWith('.yaml')).map((f) => `${d}/${f.replace(/\.yaml$/, '')}`));
    expect(files.sort()).toEqual(Object.keys(EXPECTED).sort());
  });

  for (const [name, e] of Object.entries(EXPECTED)) {
    it(`${name}: merged values are mmdetection's`, () => {
      const cfg = loadConfig(configFile(name));
      const g = <T>(k: string) => cfg.get<T>(k);
      expect(g('model.type')).toBe(e.detector);
      expect(g('model.mask_head.type')).toBe(e.head);
      expect(g('model.mask_head.num_classes')).toBe(80);
      expect(g('model.mask_head.in_channels')).toBe(256);
      expect(g('model.mask_head.stacked_convs')).toBe(e.stacked);
      expect(g('model.mask_head.feat_channels')).toBe(e.feat);
      expect(g('model.mask_head.scale_ranges')).toEqual(e.ranges);
      expect(g('model.mask_head.strides')).toEqual([8, 8, 16, 32, 32]);
      expect(g('model.mask_head.num_grids')).toEqual([40, 36, 24, 16, 12]);
      expect(g('model.mask_head.pos_scale')).toBe(0.2);
      expect(g('model.mask_head.loss_mask')).toEqual({ type: 'DiceLoss', use_sigmoid: true, loss_weight: 3.0, ...(e.lossActivate ? {} : { activate: false }) });
      expect(g('model.mask_head.loss_cls')).toEqual({ type: 'FocalLoss', use_sigmoid: true, gamma: 2.0, alpha: 0.25, loss_weight: 1.0 });
      if (e.detector === 'SOLO') expect(g('model.mask_head.norm_cfg')).toEqual({ type: 'GN', num_groups: 32, requires_grad: true });
      else {
        expect(g('model.mask_head.mask_feature_head')).toMatchObject({ feat_channels: 128, start_level: 0, end_level: 3, out_channels: e.maskOut, mask_stride: 4, norm_cfg: { type: 'GN', num_groups: 32, requires_grad: true } });
        expect(g('model.mask_head.dcn_cfg') ?? null).toEqual(e.headDcn ? { type: 'DCNv2' } : null);
        if (e.headDcn) expect(g('model.mask_head.dcn_apply_to_all_conv')).toBe(e.headDcn.all);
        expect(g('model.mask_head.mask_feature_head.conv_cfg') ?? null).toEqual(e.headDcn?.all ? { type: 'DCNv2' } : null);
      }
      expect(g('model.data_preprocessor')).toEqual({ type: 'DetDataPreprocessor', mean: [123.675, 116.28, 103.53], std: [58.395, 57.12, 57.375], bgr_to_rgb: true, pad_mask: true, pad_size_divisor: 32 });
      expect(g('model.backbone')).toMatchObject({ type: e.backbone, depth: e.depth, num_stages: 4, out_indices: [0, 1, 2, 3], frozen_stages: 1, style: 'pytorch' });
      if (e.backbone === 'ResNeXt') expect(g('model.backbone')).toMatchObject({ groups: 64, base_width: 4, init_cfg: { type: 'Pretrained', checkpoint: 'open-mmlab://resnext101_64x4d' } });
      else expect(g('model.backbone.init_cfg')).toEqual({ type: 'Pretrained', checkpoint: `torchvision://resnet${e.depth}` });
      if (e.dcn) expect(g('model.backbone')).toMatchObject({ dcn: { type: 'DCNv2', deformable_groups: 1, fallback_on_stride: false }, stage_with_dcn: [false, true, true, true] });
      else expect(g('model.backbone.dcn')).toBeUndefined();
      expect(g('model.neck')).toEqual({ type: 'FPN', in_channels: e.neckIn, out_channels: 256, start_level: 0, num_outs: 5 });
      expect(g('model.test_cfg')).toEqual({ nms_pre: 500, score_thr: 0.1, mask_thr: 0.5, filter_thr: 0.05, kernel: 'gaussian', sigma: 2.0, max_per_img: 100 });
      // data
      const train = g<Array<Record<string, unknown>>>('train_dataloader.dataset.pipeline')!;
      const resize = train.find((t) => String(t.type).includes('Resize'))!;
      expect(resize.type === 'Resize' ? [resize.scale] : resize.scales).toEqual(e.trainScales);
      expect(train.map((t) => t.type)).toEqual(['LoadImageFromFile', 'LoadAnnotations', e.trainScales.length > 1 ? 'RandomChoiceResize' : 'Resize', 'RandomFlip', 'PackDetInputs']);
      for (const loader of ['val_dataloader', 'test_dataloader']) {
        const test = g<Array<Record<string, unknown>>>(`${loader}.dataset.pipeline`)!;
        expect(test.map((t) => t.type)).toEqual(['LoadImageFromFile', 'Resize', 'LoadAnnotations', 'PackDetInputs']);
        expect(test[1].scale).toEqual(e.testScale);
        expect(test[3].meta_keys).toEqual(['img_id', 'img_path', 'ori_shape', 'img_shape', 'scale_factor']);
        expect(g(`${loader}.dataset.ann_file`)).toBe('annotations/instances_val2017.json');
      }
      expect(g('train_dataloader.batch_size')).toBe(2);
      expect(g('val_evaluator.metric')).toBe('segm');
      expect(g('test_evaluator.metric')).toBe('segm');
      // schedule
      expect(g('optim_wrapper.optimizer')).toMatchObject({ type: 'SGD', lr: 0.01, momentum: 0.9, weight_decay: 0.0001 });
      expect(g('optim_wrapper.clip_grad') ?? null).toEqual(e.clip ? { max_norm: 35, norm_type: 2 } : null);
      expect(g('train_cfg.max_epochs')).toBe(e.epochs);
      const sched = g<Array<Record<string, unknown>>>('param_scheduler')!;
      expect(sched[1]).toMatchObject({ type: 'MultiStepLR', milestones: e.epochs === 12 ? [8, 11] : [27, 33], gamma: 0.1 });
      expect(sched[0]).toMatchObject({ type: 'LinearLR', by_epoch: false, begin: 0, end: 500 });
      expect(sched[0].start_factor as number).toBeCloseTo(e.epochs === 12 ? 0.001 : 1 / 3, 12);
    });
  }

  const PARITY: Record<string, string> = {
    solo_r50_fpn_1x_coco: 'solo/solo_r50_fpn_1x_coco',
    'decoupled-solo_r50_fpn_1x_coco': 'solo/decoupled-solo_r50_fpn_1x_coco',
    'decoupled-solo-light_r50_fpn_3x_coco': 'solo/decoupled-solo-light_r50_fpn_3x_coco',
    solov2_r50_fpn_1x_coco: 'solov2/solov2_r50_fpn_1x_coco',
    'solov2-light_r18_fpn_ms-3x_coco': 'solov2/solov2-light_r18_fpn_ms-3x_coco',
  };
  for (const [variant, name] of Object.entries(PARITY)) {
    it(`${name}: with the golden's overrides, model and test pipeline equal mmdetection's resolved config`, () => {
      const golden = JSON.parse(readFileSync(resolve(PARITY_ROOT, variant, 'config.json'), 'utf8')) as {
        overrides: Record<string, unknown>;
        test_scale_override: Record<string, unknown>;
        model: unknown;
        test_pipeline: unknown;
      };
      const cfg: Config = loadConfig(configFile(name), { cfgOptions: { ...golden.overrides, ...golden.test_scale_override } });
      expect(JSON.parse(JSON.stringify(cfg.get('model')))).toEqual(golden.model);
      expect(JSON.parse(JSON.stringify(cfg.get('test_dataloader.dataset.pipeline')))).toEqual(golden.test_pipeline);
    });
  }

  for (const [name, e] of Object.entries(EXPECTED)) {
    it(`${name}: builds (model and pipelines) and runs forward / loss / predict at a tiny size`, async () => {
      const cfg = loadConfig(configFile(name), { cfgOptions: tinyOverrides(e) });
      const reg = registry();
      for (const p of ['train_dataloader.dataset.pipeline', 'test_dataloader.dataset.pipeline']) {
        cfg.get<unknown[]>(p)!.forEach((t, i) => expect(() => reg.build('transforms', t, `${p}.${i}`)).not.toThrow());
      }
      const model = reg.build<SingleStageInstanceSegmentor>('models', cfg.get('model'), 'model');
      const [h, w] = [30, 62];
      const img = { data: new Uint8Array(h * w * 3).map((_, i) => (i * 37) % 251), height: h, width: w, channels: 3 };
      const mask = new Uint8Array(h * w);
      for (let y = 5; y < 25; y++) for (let x = 10; x < 40; x++) mask[y * w + x] = 1;
      const sample: DetDataSample = {
        metainfo: { imgId: 1, oriShape: [60, 124], imgShape: [h, w], scaleFactor: [0.5, 0.5] },
        gtInstances: { bboxes: Float32Array.from([10, 5, 40, 25]), labels: Int32Array.from([1]), masks: { count: 1, height: h, width: w, data: mask } },
      };
      const before = tf.memory().numTensors;
      const train = model.preprocess({ inputs: [img], dataSamples: [sample] }, true);
      expect(train.inputs.shape).toEqual([1, 32, 64, 3]);
      expect(train.dataSamples[0].gtInstances!.masks!.height).toBe(32);
      model.train();
      const losses = model.loss(train.inputs, train.dataSamples);
      const vals = Object.fromEntries(Object.entries(losses).map(([k, t]) => [k, t.dataSync()[0]]));
      tf.dispose(Object.values(losses));
      expect(Object.keys(vals).sort()).toEqual(['loss_cls', 'loss_mask']);
      expect(vals.loss_cls).toBeGreaterThan(0);
      expect(vals.loss_mask).toBeGreaterThan(0);
      train.inputs.dispose();
      model.eval();
      const test = model.preprocess({ inputs: [img], dataSamples: [{ metainfo: sample.metainfo }] }, false);
      const outs = model.forward(test.inputs, null, 'tensor');
      tf.dispose(outs as tf.TensorContainer);
      const [res] = await model.predict(test.inputs, test.dataSamples);
      test.inputs.dispose();
      expect(tf.memory().numTensors).toBe(before);
      const n = res.scores!.length;
      expect(n).toBeGreaterThan(0);
      expect(n).toBeLessThanOrEqual(100);
      expect(res.labels!.length).toBe(n);
      expect([res.masks!.count, res.masks!.height, res.masks!.width]).toEqual([n, 60, 124]);
      model.dispose();
    });
  }
});
