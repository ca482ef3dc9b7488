// SPDX-License-Identifier: Apache-2.0
/**
 * `Resize` and `RandomChoiceResize` (scope `transforms`), mmdetection 3.x / mmcv 2.x semantics:
 *
 * - `keep_ratio: true`: mmcv `imrescale`: sf = min(max(scale) / max(h, w), min(scale) / min(h, w)), new size
 *   (int(w * sf + 0.5), int(h * sf + 0.5)); `scaleFactor` = (new_w / w, new_h / h).
 * - `keep_ratio: false`: `imresize` to exactly `scale` = [w, h].
 * - `scale_factor` instead of `scale`: the target is (int(w * fw + 0.5), int(h * fh + 0.5)), then as above.
 * - The image is resized with the bit-exact cv2 emulation (`bilinear` = INTER_LINEAR, `nearest`).
 * - Boxes: multiplied by `scaleFactor` in float32 and clipped to the new image (`clip_object_border`).
 * - Masks: BitmapMasks are rescaled with cv2 INTER_NEAREST to the size `imrescale` computes from the mask's own
 *   size (keep_ratio) or resized to the new image size; PolygonMasks are scaled.
 *
 * Browser-safe.
 */
import { DatasetError, defineOptions, resolveOptions, typed, type BuildContext, type OptionsInput, type RandomSource, type ResolvedOptions, type Transform } from '@solo-ts/core';
import { rescaleSize, resizeLinearU8, resizeNearestU8, scaleSize } from '@solo-ts/ops';
import { isPolygonMasks, resizeMasks } from './masks.js';
import type { PipelineResults } from './results.js';

export type ScaleSpec = number | [number, number];

/** The options of {@link Resize} (mmdet `Resize.__init__`), declared once. */
export const resizeOptions = defineOptions({
  scale: typed<ScaleSpec>()({ type: 'any', nullable: true, default: null, doc: 'target [w, h] or a number; with keep_ratio: long/short edge limits' }),
  scale_factor: typed<ScaleSpec>()({ type: 'any', nullable: true, default: null, doc: 'resize factor (or [fw, fh]) when scale is not given' }),
  keep_ratio: { type: 'boolean', default: false, doc: 'keep the aspect ratio (imrescale) instead of resizing to exactly scale' },
  clip_object_border: { type: 'boolean', default: true, doc: 'clip boxes to the resized image' },
  backend: { type: 'string', default: 'cv2', enum: ['cv2'], doc: 'image backend; cv2 (emulated bit-exactly)' },
  interpolation: { type: 'string', default: 'bilinear', enum: ['bilinear', 'nearest'], doc: 'image interpolation (cv2 INTER_LINEAR or INTER_NEAREST)' },
});
/** Resolved options of {@link Resize}. */
export type ResizeOptions = ResolvedOptions<typeof resizeOptions>;

function normScale(s: unknown, what: string): [number, number] {
  if (typeof s === 'number') return [s, s];
  if (Array.isArray(s) && s.length === 2 && s.every((v) => typeof v === 'number' && v > 0)) return [s[0], s[1]];
  throw new DatasetError(`${what} must be a positive number or [w, h], got ${JSON.stringify(s)}`);
}

export class Resize implements Transform<PipelineResults> {
  static readonly type = 'Resize';
  static readonly description = 'Resize image, boxes and masks (mmcv imrescale/imresize with cv2 interpolation).';
  static readonly options = resizeOptions;

  /** Current target scale [w, h] (RandomChoiceResize sets it per sample). */
  scale: [number, number] | null;
  readonly scaleFactor: [number, number] | null;
  readonly keepRatio: boolean;
  readonly clipObjectBorder: boolean;
  readonly interpolation: 'bilinear' | 'nearest';

  constructor(input: OptionsInput<typeof resizeOptions> = {}, _ctx?: BuildContext) {
    const options = resolveOptions(resizeOptions, input, 'Resize');
    const { scale, scaleFactor } = options;
    if ((scale === null || scale === undefined) && (scaleFactor === null || scaleFactor === undefined)) {
      throw new DatasetError('Resize needs `scale` or `scale_factor`');
    }
    // `scale: 0` is how RandomChoiceResize builds its inner Resize (mmcv does the same)
    this.scale = scale === null || scale === undefined || scale === 0 ? null : normScale(scale, 'Resize `scale`');
    this.scaleFactor = scaleFactor === null || scaleFactor === undefined ? null : normScale(scaleFactor, 'Resize `scale_factor`');
    this.keepRatio = options.keepRatio;
    this.clipObjectBorder = options.clipObjectBorder;
    this.interpolation = options.interpolation;
  }

  transform(results: PipelineResults, _rng?: RandomSource): PipelineResults {
    return this.resizeTo(results, this.scale);
  }

  /** Resize with an explicit target scale [w, h] (null: use `scale_factor`). */
  resizeTo(results: PipelineResults, scale: [number, number] | null): PipelineResults {
    const img = results.img;
    if (!img) throw new DatasetError(`Resize: the sample has no image (is LoadImageFromFile before Resize?)`);
    const { height: h, width: w } = img;
    let target: [number, number];
    if (scale) target = scale;
    else if (this.scaleFactor) target = scaleSize(w, h, this.scaleFactor[0], this.scaleFactor[1]);
    else throw new DatasetError('Resize: no scale to resize to');
    results.scale = target;

    let newW: number;
    let newH: number;
    if (this.keepRatio) [newW, newH] = rescaleSize(w, h, target).size;
    else [newW, newH] = target;
    if (newW < 1 || newH < 1) throw new DatasetError(`Resize: image ${results.imgPath ?? ''} of ${w}x${h} would become ${newW}x${newH}`);
    const fn = this.interpolation === 'nearest' ? resizeNearestU8 : resizeLinearU8;
    const out = fn(img, newW, newH);
    const wScale = newW / w;
    const hScale = newH / h;
    results.img = out;
    results.imgShape = [newH, newW];
    results.scaleFactor = [wScale, hScale];
    results.keepRatio = this.keepRatio;

    if (results.gtBboxes) {
      const b = results.gtBboxes;
      const fw = Math.fround(wScale);
      const fh = Math.fround(hScale);
      for (let i = 0; i < b.length; i += 4) {
        b[i] = Math.fround(b[i] * fw);
        b[i + 1] = Math.fround(b[i + 1] * fh);
        b[i + 2] = Math.fround(b[i + 2] * fw);
        b[i + 3] = Math.fround(b[i + 3] * fh);
        if (this.clipObjectBorder) {
          b[i] = Math.min(Math.max(b[i], 0), newW);
          b[i + 1] = Math.min(Math.max(b[i + 1], 0), newH);
          b[i + 2] = Math.min(Math.max(b[i + 2], 0), newW);
          b[i + 3] = Math.min(Math.max(b[i + 3], 0), newH);
        }
      }
    }
    if (results.gtMasks) {
      const m = results.gtMasks;
      if (this.keepRatio && !isPolygonMasks(m)) {
        const [mw, mh] = rescaleSize(m.width, m.height, target).size;
        results.gtMasks = resizeMasks(m, mw, mh);
      } else if (this.keepRatio) {
        // PolygonMasks.rescale: new size from its own size, then scale coordinates
        const [mw, mh] = rescaleSize(m.width, m.height, target).size;
        results.gtMasks = resizeMasks(m, mw, mh);
      } else {
        results.gtMasks = resizeMasks(m, newW, newH);
      }
    }
    return results;
  }
}

/** The options of {@link RandomChoiceResize} (mmcv `RandomChoiceResize.__init__`), declared once. */
export const randomChoiceResizeOptions = defineOptions({
  scales: typed<ScaleSpec[] | ScaleSpec>()({ type: 'array', required: true, doc: 'candidate scales, each [w, h] (or a number)' }),
  resize_type: { type: 'string', default: 'Resize', doc: 'registry key of the resize transform to apply' },
  keep_ratio: { type: 'boolean', default: false, doc: 'passed to the resize transform' },
  clip_object_border: { type: 'boolean', default: true, doc: 'passed to the resize transform' },
  backend: { type: 'string', default: 'cv2', enum: ['cv2'], doc: 'passed to the resize transform' },
  interpolation: { type: 'string', default: 'bilinear', enum: ['bilinear', 'nearest'], doc: 'passed to the resize transform' },
});
/** Resolved options of {@link RandomChoiceResize}. */
export type RandomChoiceResizeOptions = ResolvedOptions<typeof randomChoiceResizeOptions>;

interface ScalableResize {
  scale: [number, number] | null;
  resizeTo?(results: PipelineResults, scale: [number, number]): PipelineResults;
  transform(results: PipelineResults, rng?: RandomSource): PipelineResults | null | Promise<PipelineResults | null>;
}

export class RandomChoiceResize implements Transform<PipelineResults> {
  static readonly type = 'RandomChoiceResize';
  static readonly description = 'Resize to one of several scales picked uniformly at random per sample (multi-scale training).';
  static readonly options = randomChoiceResizeOptions;

  readonly scales: [number, number][];
  private readonly resize: ScalableResize;

  constructor(input: OptionsInput<typeof randomChoiceResizeOptions>, ctx?: BuildContext) {
    const options = resolveOptions(randomChoiceResizeOptions, input, 'RandomChoiceResize');
    const list = Array.isArray(options.scales) && options.scales.length > 0 && Array.isArray(options.scales[0]) ? (options.scales as ScaleSpec[]) : [options.scales as ScaleSpec];
    if (list.length === 0 || (Array.isArray(options.scales) && options.scales.length === 0)) {
      throw new DatasetError('RandomChoiceResize: `scales` must list at least one scale');
    }
    this.scales = list.map((s, i) => normScale(s, `RandomChoiceResize \`scales[${i}]\``));
    const resizeType = options.resizeType;
    const cfg = {
      type: resizeType,
      scale: 0,
      keep_ratio: options.keepRatio,
      clip_object_border: options.clipObjectBorder,
      backend: options.backend,
      interpolation: options.interpolation,
    };
    if (ctx) this.resize = ctx.build<ScalableResize>('transforms', cfg, 'resize');
    else if (resizeType === 'Resize') this.resize = new Resize({ scale: 0, scaleFactor: null, keepRatio: cfg.keep_ratio, clipObjectBorder: cfg.clip_object_border, interpolation: cfg.interpolation });
    else throw new DatasetError(`RandomChoiceResize: resize_type "${resizeType}" needs a registry (build it through the registry)`);
  }

  async transform(results: PipelineResults, rng?: RandomSource): Promise<PipelineResults | null> {
    const idx = rng ? rng.randint(this.scales.length) : Math.floor(Math.random() * this.scales.length);
    const scale = this.scales[idx];
    let out: PipelineResults | null;
    if (this.resize.resizeTo) out = this.resize.resizeTo(results, scale);
    else {
      this.resize.scale = scale;
      out = await this.resize.transform(results, rng);
    }
    if (out) out.scaleIdx = idx;
    return out;
  }
}
