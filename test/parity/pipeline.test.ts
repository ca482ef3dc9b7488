// SPDX-License-Identifier: Apache-2.0
/**
 * Data pipeline parity with mmdetection: each parity variant's test pipeline and "loss pipeline"
 * (config.json) run on ../shared/parity/image through CocoDataset, compared with what mmdetection produced:
 * - the resized uint8 image equals round(input.npy * std + mean) inside img_shape (cv2 INTER_LINEAR emulation;
 *   input.npy is RGB after the data preprocessor, our image is BGR as cv2 loads it);
 * - the image meta (ori_shape, img_shape, scale_factor) equals config.json's image_meta;
 * - test pipeline: gt masks at the original size equal image/gt_masks.npy (pycocotools rasterisation);
 * - loss pipeline: gt masks (INTER_NEAREST) equal loss/gt_masks.npy inside img_shape (zero padding outside),
 *   gt boxes equal loss/gt_bboxes.npy (float32), labels equal loss/gt_labels.npy.
 */
import { existsSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { Registry, type DetDataSample } from '@solo-ts/core';
import { datasetsComponents, type PackedSample } from '@solo-ts/datasets';
import { npyFloat32, npyInt32, npyUint8, parityPath, readParity } from '../helpers/npy.js';
import { VARIANTS } from './variants.js';

const MEAN = [123.675, 116.28, 103.53];
const STD = [58.395, 57.12, 57.375];
const available = existsSync(parityPath('image', 'annotations.json'));

interface VariantConfig {
  test_pipeline: unknown[];
  loss_pipeline: unknown[];
  image_meta: { img_id: number; ori_shape: [number, number]; img_shape: [number, number]; scale_factor: [number, number] };
}

function registry(): Registry {
  return new Registry().load(datasetsComponents);
}

async function runPipeline(pipeline: unknown[], testMode: boolean): Promise<PackedSample> {
  const ds = registry().build<{ prepareData(i: number): Promise<unknown> }>('datasets', {
    type: 'CocoDataset',
    ann_file: parityPath('image', 'annotations.json'),
    data_prefix: { img: parityPath('image') },
    test_mode: testMode,
    pipeline,
  });
  return (await ds.prepareData(0)) as PackedSample;
}

function compareImage(variant: string, packed: PackedSample, imgShape: [number, number]): void {
  const input = readParity(variant, 'input.npy');
  const [, C, H, W] = input.shape;
  const x = npyFloat32(input);
  const [h, w] = imgShape;
  expect([packed.inputs.height, packed.inputs.width, packed.inputs.channels]).toEqual([h, w, 3]);
  let mismatches = 0;
  let maxFracErr = 0;
  for (let c = 0; c < C; c++) {
    for (let y = 0; y < h; y++) {
      for (let xx = 0; xx < w; xx++) {
        const v = x[(c * H + y) * W + xx] * STD[c] + MEAN[c];
        maxFracErr = Math.max(maxFracErr, Math.abs(v - Math.round(v)));
        const ours = packed.inputs.data[(y * w + xx) * 3 + (2 - c)]; // BGR
        if (ours !== Math.round(v)) mismatches++;
      }
    }
  }
  expect(maxFracErr).toBeLessThan(1e-3); // input.npy really holds integer pixels
  expect(mismatches).toBe(0);
}

describe.skipIf(!available)('data pipeline parity with mmdetection', () => {
  for (const variant of VARIANTS) {
    const cfg = JSON.parse(readFileSync(parityPath(variant, 'config.json'), 'utf8')) as VariantConfig;
    const meta = cfg.image_meta;

    it(`${variant}: test pipeline image, meta and original-size masks`, async () => {
      const packed = await runPipeline(cfg.test_pipeline, true);
      const ds: DetDataSample = packed.dataSample;
      expect(ds.metainfo.imgId).toBe(meta.img_id);
      expect(ds.metainfo.oriShape).toEqual(meta.ori_shape);
      expect(ds.metainfo.imgShape).toEqual(meta.img_shape);
      expect(ds.metainfo.scaleFactor).toEqual(meta.scale_factor);
      compareImage(variant, packed, meta.img_shape);
      // LoadAnnotations runs after Resize in the test pipeline: masks stay at the original size
      const ref = readParity('image', 'gt_masks.npy');
      const m = ds.gtInstances!.masks!;
      expect([m.count, m.height, m.width]).toEqual(ref.shape);
      const refData = npyUint8(ref);
      let diff = 0;
      for (let i = 0; i < refData.length; i++) if (refData[i] !== m.data[i]) diff++;
      expect(diff).toBe(0);
    });

    it(`${variant}: loss pipeline gt masks, boxes and labels`, async () => {
      const packed = await runPipeline(cfg.loss_pipeline, false);
      const gt = packed.dataSample.gtInstances!;
      compareImage(variant, packed, meta.img_shape);
      const refMasks = readParity(variant, 'loss', 'gt_masks.npy');
      const [n, PH, PW] = refMasks.shape;
      const rm = npyUint8(refMasks);
      const m = gt.masks!;
      expect([m.count, m.height, m.width]).toEqual([n, ...meta.img_shape]);
      let diff = 0;
      for (let i = 0; i < n; i++)
        for (let y = 0; y < PH; y++)
          for (let x = 0; x < PW; x++) {
            const inside = y < m.height && x < m.width;
            const ours = inside ? m.data[(i * m.height + y) * m.width + x] : 0;
            if (ours !== rm[(i * PH + y) * PW + x]) diff++;
          }
      expect(diff).toBe(0);
      const refBoxes = npyFloat32(readParity(variant, 'loss', 'gt_bboxes.npy'));
      expect(Array.from(gt.bboxes!)).toEqual(Array.from(refBoxes));
      expect(Array.from(gt.labels!)).toEqual(Array.from(npyInt32(readParity(variant, 'loss', 'gt_labels.npy'))));
    });
  }
});
