// SPDX-License-Identifier: Apache-2.0
/**
 * `solo infer` with mmdetection checkpoints as they are (`.pth`, and converted to `.safetensors`): the zoo config
 * (with the parity variant's width overrides), the parity image file through the test pipeline, and the COCO
 * results compared with real mmdetection's `predictions.segm.json` of ../shared/parity: same instances, labels
 * and category ids, scores within 1e-3, mask IoU >= 0.99.
 */
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { iou, type RLE } from '@solo-ts/cocoapi';
import { parityPath } from '../helpers/npy.js';
import { exited, spawnSolo, tmpDir } from '../engine/helpers.js';

interface Det {
  image_id: number;
  category_id: number;
  score: number;
  bbox: number[];
  segmentation: RLE;
}

const COMMON = [
  'model.backbone.init_cfg=null',
  `test_dataloader.dataset.data_root=${parityPath('image')}/`,
  'test_dataloader.dataset.ann_file=annotations.json',
];

const VARIANTS: Array<{ name: string; config: string; overrides: string[] }> = [
  {
    name: 'solov2-light_r18_fpn_ms-3x_coco',
    config: 'configs/solov2/solov2-light_r18_fpn_ms-3x_coco.yaml',
    overrides: ['model.backbone.base_channels=8', 'model.neck.in_channels=[8,16,32,64]', 'model.neck.out_channels=32', 'model.mask_head.in_channels=32', 'model.mask_head.feat_channels=64', 'model.mask_head.mask_feature_head.feat_channels=32', 'model.mask_head.mask_feature_head.out_channels=8', 'model.mask_head.mask_feature_head.norm_cfg.num_groups=4', 'model.mask_head.num_classes=8', 'test_dataloader.dataset.pipeline.1.scale=[112,192]'],
  },
  {
    name: 'solo_r50_fpn_1x_coco',
    config: 'configs/solo/solo_r50_fpn_1x_coco.yaml',
    overrides: ['model.backbone.base_channels=4', 'model.neck.in_channels=[16,32,64,128]', 'model.neck.out_channels=32', 'model.mask_head.in_channels=32', 'model.mask_head.feat_channels=32', 'model.mask_head.norm_cfg.num_groups=8', 'model.mask_head.num_classes=8', 'test_dataloader.dataset.pipeline.1.scale=[208,124]'],
  },
  {
    name: 'decoupled-solo-light_r50_fpn_3x_coco',
    config: 'configs/solo/decoupled-solo-light_r50_fpn_3x_coco.yaml',
    overrides: ['model.backbone.base_channels=4', 'model.neck.in_channels=[16,32,64,128]', 'model.neck.out_channels=32', 'model.mask_head.in_channels=32', 'model.mask_head.feat_channels=32', 'model.mask_head.norm_cfg.num_groups=8', 'model.mask_head.num_classes=8', 'test_dataloader.dataset.pipeline.1.scale=[212,126]'],
  },
];

let scratch: string;
beforeAll(() => {
  scratch = tmpDir('released');
});
afterAll(() => fs.rmSync(scratch, { recursive: true, force: true }));

async function infer(v: (typeof VARIANTS)[number], checkpoint: string, out: string): Promise<Det[]> {
  const child = spawnSolo(['--backend', 'wasm', 'infer', v.config, '--checkpoint', checkpoint, '--image', parityPath('image', 'image.png'), '--out', out, '--threads', '1', '--cfg-options', ...COMMON, ...v.overrides]);
  const r = await exited(child);
  expect(r.code, child.output()).toBe(0);
  return JSON.parse(fs.readFileSync(out, 'utf8')) as Det[];
}

function compare(ours: Det[], theirs: Det[]): void {
  expect(ours.length).toBe(theirs.length);
  for (let i = 0; i < theirs.length; i++) {
    const a = ours[i];
    const b = theirs[i];
    expect(a.category_id, `instance ${i}`).toBe(b.category_id);
    expect(Math.abs(a.score - b.score), `instance ${i} score ${a.score} vs ${b.score}`).toBeLessThanOrEqual(1e-3);
    expect(a.segmentation.size).toEqual(b.segmentation.size);
    const m = iou([a.segmentation], [b.segmentation], [0]) as number[][];
    expect(m[0][0], `instance ${i} mask IoU`).toBeGreaterThanOrEqual(0.99);
  }
}

describe('solo infer with mmdetection checkpoints (parity goldens)', () => {
  it.each(VARIANTS)('$name: .pth as released, results equal mmdetection', async (v) => {
    const theirs = JSON.parse(fs.readFileSync(parityPath(v.name, 'predictions.segm.json'), 'utf8')) as Det[];
    const ours = await infer(v, parityPath(v.name, 'checkpoint.pth'), path.join(scratch, `${v.name}.json`));
    compare(ours, theirs);
  });

  it('a checkpoint converted with solo convert-checkpoint gives the same results', async () => {
    const v = VARIANTS[0];
    const converted = path.join(scratch, 'converted.safetensors');
    const conv = spawnSolo(['convert-checkpoint', parityPath(v.name, 'checkpoint.pth'), converted]);
    expect((await exited(conv)).code, conv.output()).toBe(0);
    const ours = await infer(v, converted, path.join(scratch, 'converted.json'));
    compare(ours, JSON.parse(fs.readFileSync(parityPath(v.name, 'predictions.segm.json'), 'utf8')) as Det[]);
  });
});
