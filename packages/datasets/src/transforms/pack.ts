// SPDX-License-Identifier: Apache-2.0
/**
 * `PackDetInputs` (scope `transforms`): the last step of every pipeline. Produces `{inputs, dataSample}`:
 * `inputs` = the uint8 HWC image (BGR, as loaded), `dataSample.gtInstances` = the instances whose ignore flag
 * is 0 (`bboxes`, `labels`, `masks` as BitmapMasks, plus `annIds`), `dataSample.ignoredInstances` = the others
 * (crowd / unusable masks), `dataSample.metainfo` = the `meta_keys` (mmdetection names) in camelCase.
 * `imgId`, `oriShape`, `imgShape` and `scaleFactor` are always set (DetMeta needs them; `scaleFactor` is [1, 1]
 * when no Resize ran). PolygonMasks are rasterised here. Browser-safe.
 */
import { DatasetError, defineOptions, resolveOptions, snakeToCamel, type BuildContext, type DetDataSample, type DetMeta, type InstanceData, type OptionsInput, type RandomSource, type ResolvedOptions, type Transform } from '@solo-ts/core';
import { selectMasks, toBitmapMasks } from './masks.js';
import type { PackedSample, PipelineResults } from './results.js';

export const DEFAULT_META_KEYS = ['img_id', 'img_path', 'ori_shape', 'img_shape', 'scale_factor', 'flip', 'flip_direction'] as const;

/** The options of {@link PackDetInputs} (mmdet `PackDetInputs.__init__`), declared once. */
export const packDetInputsOptions = defineOptions({
  meta_keys: { type: 'array', items: 'string', default: [...DEFAULT_META_KEYS], doc: 'result keys copied into the data sample meta information' },
});
/** Resolved options of {@link PackDetInputs}. */
export type PackDetInputsOptions = ResolvedOptions<typeof packDetInputsOptions>;

function pick<T extends Float32Array | Int32Array>(a: T, idx: number[], stride: number): T {
  const out = new (a.constructor as new (n: number) => T)(idx.length * stride);
  idx.forEach((i, k) => {
    for (let s = 0; s < stride; s++) out[k * stride + s] = a[i * stride + s];
  });
  return out;
}

export class PackDetInputs implements Transform<PipelineResults, PackedSample> {
  static readonly type = 'PackDetInputs';
  static readonly description = 'Pack the image and the gt instances into {inputs, dataSample}.';
  static readonly options = packDetInputsOptions;

  readonly metaKeys: string[];

  constructor(options: OptionsInput<typeof packDetInputsOptions> = {}, _ctx?: BuildContext) {
    this.metaKeys = resolveOptions(packDetInputsOptions, options, 'PackDetInputs').metaKeys;
  }

  transform(results: PipelineResults, _rng?: RandomSource): PackedSample {
    const img = results.img;
    if (!img) throw new DatasetError('PackDetInputs: the sample has no image');
    const n = results.gtBboxes ? results.gtBboxes.length / 4 : results.gtBboxesLabels?.length ?? (results.gtMasks ? (toBitmapMasks(results.gtMasks).count) : 0);
    const flags = results.gtIgnoreFlags;
    const valid: number[] = [];
    const ignored: number[] = [];
    for (let i = 0; i < n; i++) (flags && flags[i] ? ignored : valid).push(i);

    const gt: InstanceData = {};
    const ign: InstanceData = {};
    if (results.gtBboxes) {
      gt.bboxes = pick(results.gtBboxes, valid, 4);
      ign.bboxes = pick(results.gtBboxes, ignored, 4);
    }
    if (results.gtBboxesLabels) {
      gt.labels = pick(results.gtBboxesLabels, valid, 1);
      ign.labels = pick(results.gtBboxesLabels, ignored, 1);
    }
    if (results.gtMasks) {
      const m = toBitmapMasks(results.gtMasks);
      gt.masks = toBitmapMasks(selectMasks(m, valid));
      ign.masks = toBitmapMasks(selectMasks(m, ignored));
    }
    if (results.gtAnnIds && results.gtAnnIds.length === n) {
      gt.annIds = pick(results.gtAnnIds, valid, 1);
      ign.annIds = pick(results.gtAnnIds, ignored, 1);
    }

    const imgShape: [number, number] = [img.height, img.width];
    const meta: DetMeta = {
      imgId: results.imgId ?? -1,
      oriShape: results.oriShape ?? imgShape,
      imgShape: results.imgShape ?? imgShape,
      scaleFactor: results.scaleFactor ?? [1, 1],
    };
    for (const key of this.metaKeys) {
      const ck = snakeToCamel(key);
      if (results[ck] !== undefined) (meta as Record<string, unknown>)[ck] = results[ck];
    }
    const dataSample: DetDataSample = { metainfo: meta, gtInstances: gt, ignoredInstances: ign };
    return {
      inputs: { data: img.data, height: img.height, width: img.width, channels: img.channels, channelOrder: img.channels === 1 ? 'gray' : 'bgr' },
      dataSample,
    };
  }
}
