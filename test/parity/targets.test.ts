// SPDX-License-Identifier: Apache-2.0
/**
 * SOLO-family target generation vs real mmdetection (`<variant>/targets/` of ../shared/parity): labels, positive
 * cells, mask targets (OpenCV-rescaled) and the per-head positive indices, from the loss ground truth
 * `<variant>/loss/gt_*.npy`. Exact equality.
 */
import { existsSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { SOLOGridAssigner, centerOfMass } from '@solo-ts/assigners';
import { npyFloat32, npyInt32, npyUint8, parityPath, readParity } from '../helpers/npy.js';
import { VARIANTS } from './variants.js';

interface HeadCfg {
  type: string;
  num_classes: number;
  strides: number[];
  scale_ranges: Array<[number, number]>;
  pos_scale: number;
  num_grids: number[];
  mask_feature_head?: { mask_stride: number };
}
interface TargetsInfo {
  featmap_sizes: Array<[number, number]>;
  levels: Array<{ level: number; num_grid: number; num_pos: number }>;
  gt: Array<{ index: number; label: number; center_of_mass_hw: [number, number]; mask_pixels: number }>;
}

function firstDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) return -2;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return i;
  return -1;
}

describe.each(VARIANTS)('targets of %s', (variant) => {
  const cfg = (JSON.parse(readFileSync(parityPath(variant, 'config.json'), 'utf8')) as { model: { mask_head: HeadCfg } }).model.mask_head;
  const info = JSON.parse(readFileSync(parityPath(variant, 'targets', 'targets_info.json'), 'utf8')) as TargetsInfo;
  const isV2 = cfg.type === 'SOLOV2Head';
  const isDecoupled = cfg.type.startsWith('Decoupled');
  const bboxes = npyFloat32(readParity(variant, 'loss', 'gt_bboxes.npy'));
  const labels = npyInt32(readParity(variant, 'loss', 'gt_labels.npy'));
  const masksA = readParity(variant, 'loss', 'gt_masks.npy');
  const [n, h, w] = masksA.shape;
  const gtMasks = { count: n, height: h, width: w, data: npyUint8(masksA) };

  it('centre of mass of every gt equals mmdet', () => {
    for (const g of info.gt) {
      const m = gtMasks.data.subarray(g.index * h * w, (g.index + 1) * h * w);
      expect(m.reduce((a, b) => a + b, 0)).toBe(g.mask_pixels);
      expect(centerOfMass(m, h, w)).toEqual([Math.fround(g.center_of_mass_hw[0]), Math.fround(g.center_of_mass_hw[1])]);
    }
  });

  it('labels, positive cells, mask targets and positive indices equal mmdet exactly', () => {
    const assigner = new SOLOGridAssigner({
      numClasses: cfg.num_classes,
      numGrids: cfg.num_grids,
      scaleRanges: cfg.scale_ranges,
      posScale: cfg.pos_scale,
      strides: cfg.strides,
      mode: isV2 ? 'solov2' : 'solo',
      maskStride: cfg.mask_feature_head?.mask_stride ?? 4,
    });
    const featmapSizes: Array<[number, number]> = isV2 ? [info.featmap_sizes[0]] : info.featmap_sizes;
    if (isV2) expect(Array.isArray(info.featmap_sizes[0])).toBe(true);
    const out = assigner.assign({ gtBboxes: bboxes, gtLabels: labels, gtMasks, featmapSizes });
    expect(out.length).toBe(cfg.num_grids.length);
    let totalPos = 0;
    out.forEach((t, l) => {
      const G = cfg.num_grids[l];
      const expLabels = readParity(variant, 'targets', `l${l}_labels.npy`);
      expect(expLabels.shape).toEqual([G, G]);
      expect(firstDiff(t.labels, npyInt32(expLabels)), `level ${l} labels`).toBe(-1);
      const mt = readParity(variant, 'targets', `l${l}_mask_targets.npy`);
      expect([t.maskTargets.count, t.maskTargets.height, t.maskTargets.width], `level ${l} mask target shape`).toEqual(mt.shape);
      expect(firstDiff(t.maskTargets.data, npyUint8(mt)), `level ${l} mask targets`).toBe(-1);
      expect(t.maskTargets.count).toBe(info.levels[l].num_pos);
      totalPos += t.maskTargets.count;
      if (existsSync(parityPath(variant, 'targets', `l${l}_pos_mask.npy`))) {
        expect(firstDiff(t.posMask, npyUint8(readParity(variant, 'targets', `l${l}_pos_mask.npy`))), `level ${l} pos_mask`).toBe(-1);
      }
      if (isV2) {
        const pi = readParity(variant, 'targets', `l${l}_pos_index.npy`);
        expect(Array.from(t.posIndex), `level ${l} pos_index`).toEqual(Array.from(npyInt32(pi)));
      }
      if (isDecoupled) {
        const xy = readParity(variant, 'targets', `l${l}_xy_pos_index.npy`);
        const expXY = npyInt32(xy);
        const gotXY: number[] = [];
        for (const idx of t.posIndex) gotXY.push(Math.floor(idx / G), idx % G);
        expect(gotXY, `level ${l} xy_pos_index`).toEqual(Array.from(expXY));
      }
    });
    expect(totalPos).toBeGreaterThan(0);
  });
});
