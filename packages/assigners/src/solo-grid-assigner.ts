// SPDX-License-Identifier: Apache-2.0
/**
 * SOLO grid target assignment (mmdetection `SOLOHead._get_targets_single` and
 * `SOLOV2Head._get_targets_single`), registry key `SOLOGridAssigner` (scope `task_utils`).
 *
 * Per level with scale range (lower, upper), grid G and (SOLO) stride:
 * - gts with lower ≤ sqrt(box area) ≤ upper (inclusive, ascending gt order) and a non-empty mask are hit;
 * - centre of mass (c_h, c_w) of the padded gt mask; grid cell = trunc((c / up_size) / float32(1/G)) in float32;
 *   centre box from c ± 0.5·pos_scale·(box size), clamped to the 3×3 neighbourhood of the centre cell;
 * - labels of the region = gt label (later gts overwrite), background = num_classes;
 * - mask target = mmcv imrescale(mask, 1/output_stride) (OpenCV INTER_LINEAR on uint8), top-left in an all-zero
 *   map of the level's featmap size.
 * `mode: 'solo'` (SOLO, Decoupled SOLO): one featmap size per level, up_size = 4·featmap_sizes[0],
 * output_stride = strides[l] / 2, one target per positive cell in ascending cell order (last gt wins).
 * `mode: 'solov2'`: a single featmap size (mask_feats), up_size = featmap·mask_stride, output_stride =
 * mask_stride for every level, one target per (gt, cell) pair in gt order then row-major (duplicates kept).
 * Everything is plain typed-array code (no tensors).
 */
import { ConfigError, defineOptions, resolveOptions, ShapeError, SoloError, type BitmapMasks, type BuildContext, type GridAssignInput, type GridAssigner, type GridLevelTargets, type OptionsInput, type ResolvedOptions } from '@solo-ts/core';
import { centerFromMoments, maskMoments } from './center-of-mass.js';
import { imrescaleU8, type ImageU8 } from '@solo-ts/ops';

/** The options of {@link SOLOGridAssigner} (the grid assignment settings of mmdet's SOLO heads), declared once. */
export const soloGridAssignerOptions = defineOptions({
  num_classes: { type: 'integer', required: true, doc: 'number of foreground classes (background label = num_classes)' },
  num_grids: { type: 'array', items: 'integer', default: [40, 36, 24, 16, 12], doc: 'grid size G per level' },
  scale_ranges: {
    type: 'array',
    items: { type: 'array', items: 'number' },
    default: [[8, 32], [16, 64], [32, 128], [64, 256], [128, 512]],
    doc: '[lower, upper] of sqrt(box area) per level (inclusive)',
  },
  pos_scale: { type: 'number', default: 0.2, doc: 'fraction of the gt box around the centre of mass that is positive' },
  strides: { type: 'array', items: 'number', nullable: true, default: [4, 8, 16, 32, 64], doc: "stride per level; 'solo' mode rescales targets by 2/stride" },
  mode: { type: 'string', default: 'solo', enum: ['solo', 'solov2'], doc: "'solo' (SOLO / Decoupled SOLO) or 'solov2'" },
  mask_stride: { type: 'integer', default: 4, doc: 'SOLOv2: stride of the unified mask feature' },
});
/** Resolved options of {@link SOLOGridAssigner}. */
export type SOLOGridAssignerOptions = ResolvedOptions<typeof soloGridAssignerOptions>;

/** grid cell index of a float32 coordinate: trunc(float32(float32(v / size) / float32(1/G))) as torch does. */
export function gridCell(v: number, size: number, numGrid: number): number {
  // (+ 0 turns a -0 from a tiny negative value into 0)
  return Math.trunc(Math.fround(Math.fround(v / size) / Math.fround(1 / numGrid))) + 0;
}

interface GtInfo {
  count: number;
  centerH: number;
  centerW: number;
}

export class SOLOGridAssigner implements GridAssigner {
  static readonly type = 'SOLOGridAssigner';
  static readonly description = 'SOLO / SOLOv2 grid target assignment (labels, positive cells, rescaled mask targets)';
  static readonly options = soloGridAssignerOptions;

  readonly numClasses: number;
  readonly numGrids: number[];
  readonly scaleRanges: Array<[number, number]>;
  readonly posScale: number;
  readonly strides: number[] | undefined;
  readonly mode: 'solo' | 'solov2';
  readonly maskStride: number;

  constructor(options: OptionsInput<typeof soloGridAssignerOptions>, _ctx?: BuildContext) {
    const o = resolveOptions(soloGridAssignerOptions, options, 'SOLOGridAssigner');
    this.numClasses = o.numClasses;
    this.numGrids = [...o.numGrids];
    this.scaleRanges = o.scaleRanges.map((r) => [r[0], r[1]] as [number, number]);
    this.posScale = o.posScale;
    this.mode = o.mode;
    this.maskStride = o.maskStride;
    // strides are read in 'solo' mode only (null: none)
    this.strides = o.strides ?? undefined;
    if (!Number.isInteger(this.numClasses) || this.numClasses < 1) {
      throw new ConfigError(`SOLOGridAssigner: num_classes must be a positive integer, got ${String(this.numClasses)}`);
    }
    if (this.mode !== 'solo' && this.mode !== 'solov2') throw new ConfigError(`SOLOGridAssigner: mode must be 'solo' or 'solov2', got ${JSON.stringify(this.mode)}`);
    const L = this.numGrids.length;
    if (L === 0 || this.numGrids.some((g) => !Number.isInteger(g) || g < 1)) {
      throw new ConfigError(`SOLOGridAssigner: num_grids must be a non-empty list of positive integers, got ${JSON.stringify(this.numGrids)}`);
    }
    if (this.scaleRanges.length !== L || this.scaleRanges.some((r) => typeof r[0] !== 'number' || typeof r[1] !== 'number')) {
      throw new ConfigError(`SOLOGridAssigner: scale_ranges must hold ${L} [lower, upper] pairs (one per entry of num_grids), got ${JSON.stringify(this.scaleRanges)}`);
    }
    if (this.mode === 'solo') {
      if (!this.strides || this.strides.length !== L || this.strides.some((s) => typeof s !== 'number' || !(s > 0))) {
        throw new ConfigError(`SOLOGridAssigner: mode 'solo' needs ${L} positive strides (one per entry of num_grids), got ${JSON.stringify(this.strides)}`);
      }
    } else if (!Number.isInteger(this.maskStride) || this.maskStride < 1) {
      throw new ConfigError(`SOLOGridAssigner: mask_stride must be a positive integer, got ${String(this.maskStride)}`);
    }
  }

  assign(input: GridAssignInput): GridLevelTargets[] {
    const { gtBboxes, gtLabels, gtMasks, featmapSizes } = input;
    const n = gtLabels.length;
    const L = this.numGrids.length;
    if (gtBboxes.length !== 4 * n) throw new ShapeError(`SOLOGridAssigner: gtBboxes has ${gtBboxes.length} values, expected 4 × ${n} labels`);
    if (gtMasks.count !== n) throw new ShapeError(`SOLOGridAssigner: gtMasks has ${gtMasks.count} masks, expected ${n} (one per label)`);
    const mh = gtMasks.height;
    const mw = gtMasks.width;
    if (gtMasks.data.length < n * mh * mw) throw new ShapeError(`SOLOGridAssigner: gtMasks.data has ${gtMasks.data.length} values, expected ${n}×${mh}×${mw}`);
    for (let i = 0; i < n; i++) {
      const l = gtLabels[i];
      if (!Number.isInteger(l) || l < 0 || l >= this.numClasses) {
        throw new SoloError(`SOLOGridAssigner: gt label ${l} of instance ${i} is outside [0, ${this.numClasses - 1}]`, { code: 'DATASET' });
      }
    }
    let levelSizes: Array<[number, number]>;
    let upH: number;
    let upW: number;
    if (this.mode === 'solo') {
      if (featmapSizes.length !== L) throw new ShapeError(`SOLOGridAssigner: mode 'solo' needs ${L} featmap sizes (one per level), got ${featmapSizes.length}`);
      levelSizes = featmapSizes.map((s) => [s[0], s[1]] as [number, number]);
      upH = featmapSizes[0][0] * 4;
      upW = featmapSizes[0][1] * 4;
    } else {
      if (featmapSizes.length < 1 || featmapSizes.some((s) => s[0] !== featmapSizes[0][0] || s[1] !== featmapSizes[0][1])) {
        throw new ShapeError(`SOLOGridAssigner: mode 'solov2' needs one featmap size (the mask feature), got ${JSON.stringify(featmapSizes)}`);
      }
      const fs: [number, number] = [featmapSizes[0][0], featmapSizes[0][1]];
      levelSizes = this.numGrids.map(() => fs);
      upH = fs[0] * this.maskStride;
      upW = fs[1] * this.maskStride;
    }

    // float32 box measures, as torch computes them on the (n, 4) float32 box tensor
    const areas = new Float64Array(n);
    const posW = new Float64Array(n);
    const posH = new Float64Array(n);
    const ps = Math.fround(this.posScale);
    for (let i = 0; i < n; i++) {
      const bw = Math.fround(Math.fround(gtBboxes[4 * i + 2]) - Math.fround(gtBboxes[4 * i]));
      const bh = Math.fround(Math.fround(gtBboxes[4 * i + 3]) - Math.fround(gtBboxes[4 * i + 1]));
      areas[i] = Math.fround(Math.sqrt(Math.fround(bw * bh)));
      posW[i] = Math.fround(Math.fround(0.5 * bw) * ps);
      posH[i] = Math.fround(Math.fround(0.5 * bh) * ps);
    }
    const hw = mh * mw;
    const info: Array<GtInfo | undefined> = new Array(n);
    const gtInfo = (i: number): GtInfo => {
      let g = info[i];
      if (!g) {
        const m = maskMoments(gtMasks.data.subarray(i * hw, (i + 1) * hw), mh, mw);
        const [centerH, centerW] = centerFromMoments(m.count, m.sumRow, m.sumCol);
        g = { count: m.count, centerH, centerW };
        info[i] = g;
      }
      return g;
    };
    const rescaled = new Map<string, ImageU8>();
    const rescale = (i: number, os: number) => {
      const key = `${i}:${os}`;
      let r = rescaled.get(key);
      if (!r) {
        r = imrescaleU8({ data: gtMasks.data.subarray(i * hw, (i + 1) * hw), height: mh, width: mw, channels: 1 }, 1 / os);
        rescaled.set(key, r);
      }
      return r;
    };

    const out: GridLevelTargets[] = [];
    for (let lvl = 0; lvl < L; lvl++) {
      const G = this.numGrids[lvl];
      const [lower, upper] = this.scaleRanges[lvl];
      const [fh, fw] = levelSizes[lvl];
      const os = this.mode === 'solo' ? (this.strides as number[])[lvl] / 2 : this.maskStride;
      const labels = new Int32Array(G * G).fill(this.numClasses);
      const posMask = new Uint8Array(G * G);
      const cellGt = new Int32Array(G * G).fill(-1); // SOLO: last gt per cell
      const pairs: Array<[number, number]> = []; // SOLOv2: (gt, cell) in order
      for (let i = 0; i < n; i++) {
        if (!(areas[i] >= lower && areas[i] <= upper)) continue;
        const g = gtInfo(i);
        if (g.count === 0) continue;
        const ch = g.centerH;
        const cw = g.centerW;
        const coordW = gridCell(cw, upW, G);
        const coordH = gridCell(ch, upH, G);
        const topBox = Math.max(0, gridCell(Math.fround(ch - posH[i]), upH, G));
        const downBox = Math.min(G - 1, gridCell(Math.fround(ch + posH[i]), upH, G));
        const leftBox = Math.max(0, gridCell(Math.fround(cw - posW[i]), upW, G));
        const rightBox = Math.min(G - 1, gridCell(Math.fround(cw + posW[i]), upW, G));
        const top = Math.max(topBox, coordH - 1);
        const down = Math.min(downBox, coordH + 1);
        const left = Math.max(coordW - 1, leftBox);
        const right = Math.min(rightBox, coordW + 1);
        const r = rescale(i, os);
        if (r.height > fh || r.width > fw) {
          throw new ShapeError(
            `SOLOGridAssigner: level ${lvl}: the gt mask rescaled by 1/${os} is ${r.height}×${r.width}, larger than the featmap ${fh}×${fw}`,
            { hint: 'the gt masks must be at the padded input size that the featmap sizes come from' },
          );
        }
        for (let y = top; y <= down; y++) {
          for (let x = left; x <= right; x++) {
            const idx = y * G + x;
            labels[idx] = gtLabels[i];
            posMask[idx] = 1;
            cellGt[idx] = i;
            pairs.push([i, idx]);
          }
        }
      }
      let order: Array<[number, number]>;
      if (this.mode === 'solo') {
        order = [];
        for (let idx = 0; idx < G * G; idx++) if (posMask[idx]) order.push([cellGt[idx], idx]);
      } else {
        order = pairs;
      }
      const fhw = fh * fw;
      const data = new Uint8Array(order.length * fhw);
      const posIndex = new Int32Array(order.length);
      order.forEach(([gi, idx], k) => {
        posIndex[k] = idx;
        const r = rescale(gi, os);
        for (let y = 0; y < r.height; y++) data.set(r.data.subarray(y * r.width, (y + 1) * r.width), k * fhw + y * fw);
      });
      const maskTargets: BitmapMasks = { count: order.length, height: fh, width: fw, data };
      out.push({ labels, posMask, maskTargets, posIndex });
    }
    return out;
  }
}
