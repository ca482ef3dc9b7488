// SPDX-License-Identifier: Apache-2.0
/**
 * `LoadAnnotations` (registry key `LoadAnnotations`, scope `transforms`): turns the dataset's `instances` into
 * `gtBboxes` (float32 xyxy), `gtBboxesLabels`, `gtIgnoreFlags` and `gtMasks`, following mmdetection 3.x:
 *
 * - masks are decoded at `oriShape` (the loaded image size; the annotation file's size when no image was
 *   loaded yet), polygons rasterised and merged with the pycocotools port, RLE decoded;
 * - polygons with an odd number of coordinates or fewer than 3 points are dropped; an instance left without a
 *   polygon, or with an RLE map lacking `counts`/`size`, is marked ignored with an empty mask (mmdetection's
 *   "fake mask"), as is an instance that has no segmentation at all (mmdetection would fail on it);
 * - `poly2mask: false` keeps polygons (`PolygonMasks`); RLE instances are then ignored, like mmdetection.
 *
 * Browser-safe.
 */
import { DatasetError, defineOptions, resolveOptions, type BuildContext, type OptionsInput, type RandomSource, type ResolvedOptions, type Transform } from '@solo-ts/core';
import { decodeSegmentationInto, validPolygons } from '../coco/masks.js';
import { segmentationKind } from '../coco/parse.js';
import type { PolygonMasks } from './masks.js';
import type { PipelineResults } from './results.js';

/** The options of {@link LoadAnnotations} (mmdet `LoadAnnotations.__init__`), declared once. */
export const loadAnnotationsOptions = defineOptions({
  with_bbox: { type: 'boolean', default: true, doc: 'load gt boxes (float32 xyxy) and ignore flags' },
  with_label: { type: 'boolean', default: true, doc: 'load gt labels' },
  with_mask: { type: 'boolean', default: false, doc: 'load instance masks' },
  with_seg: { type: 'boolean', default: false, doc: 'semantic segmentation maps (not supported: false only)' },
  poly2mask: { type: 'boolean', default: true, doc: 'rasterise polygons to bitmap masks (false keeps polygons)' },
  box_type: { type: 'string', nullable: true, default: 'hbox', doc: 'box type; only hbox (horizontal xyxy)' },
  reduce_zero_label: { type: 'boolean', default: false, doc: 'semantic segmentation maps only (with_seg), which are not supported: no effect' },
  ignore_index: { type: 'integer', default: 255, doc: 'semantic segmentation maps only (with_seg), which are not supported: no effect' },
  imdecode_backend: { type: 'string', default: 'cv2', doc: 'semantic segmentation maps only (with_seg), which are not supported: no effect' },
  backend_args: { type: 'object', nullable: true, default: null, doc: 'semantic segmentation maps only (with_seg), which are not supported: no effect' },
});
/** Resolved options of {@link LoadAnnotations}. */
export type LoadAnnotationsOptions = ResolvedOptions<typeof loadAnnotationsOptions>;

export class LoadAnnotations implements Transform<PipelineResults> {
  static readonly type = 'LoadAnnotations';
  static readonly description = 'Load boxes, labels and instance masks of the sample (mmdetection rules).';
  static readonly options = loadAnnotationsOptions;

  readonly withBbox: boolean;
  readonly withLabel: boolean;
  readonly withMask: boolean;
  readonly poly2mask: boolean;

  constructor(input: OptionsInput<typeof loadAnnotationsOptions> = {}, _ctx?: BuildContext) {
    const options = resolveOptions(loadAnnotationsOptions, input, 'LoadAnnotations');
    if (options.withSeg) throw new DatasetError('LoadAnnotations: with_seg (semantic segmentation maps) is not supported');
    if (options.boxType != null && options.boxType !== 'hbox') {
      throw new DatasetError(`LoadAnnotations: box_type "${options.boxType}" is not supported (hbox only)`);
    }
    this.withBbox = options.withBbox;
    this.withLabel = options.withLabel;
    this.withMask = options.withMask;
    this.poly2mask = options.poly2mask;
  }

  transform(results: PipelineResults, _rng?: RandomSource): PipelineResults {
    const instances = results.instances ?? [];
    const n = instances.length;
    const flags = new Uint8Array(n);
    instances.forEach((ins, i) => (flags[i] = ins.ignoreFlag ? 1 : 0));
    results.gtAnnIds = Int32Array.from(instances, (ins) => ins.annId);
    if (this.withBbox) {
      const b = new Float32Array(n * 4);
      instances.forEach((ins, i) => b.set(ins.bbox, i * 4));
      results.gtBboxes = b;
      results.gtIgnoreFlags = flags;
    }
    if (this.withLabel) results.gtBboxesLabels = Int32Array.from(instances, (ins) => ins.bboxLabel);
    if (this.withMask) {
      const shape = results.oriShape ?? (results.height && results.width ? [results.height, results.width] : undefined);
      if (!shape) throw new DatasetError(`LoadAnnotations: the size of image ${results.imgPath ?? results.imgId} is unknown`);
      const [h, w] = shape;
      if (this.poly2mask) {
        const hw = h * w;
        const data = new Uint8Array(n * hw);
        instances.forEach((ins, i) => {
          const kind = segmentationKind(ins.mask);
          if (kind === 'empty' || kind === 'unknown' || (kind === 'polygons' && validPolygons(ins.mask).length === 0)) {
            flags[i] = 1;
            return;
          }
          try {
            decodeSegmentationInto(ins.mask, h, w, data.subarray(i * hw, (i + 1) * hw));
          } catch (e) {
            throw new DatasetError(`annotation id ${ins.annId} of ${results.imgPath ?? `image ${results.imgId}`}: cannot decode its segmentation: ${(e as Error).message}`, { cause: e });
          }
        });
        results.gtMasks = { count: n, height: h, width: w, data };
      } else {
        const polygons: number[][][] = instances.map((ins, i) => {
          const polys = validPolygons(ins.mask);
          if (polys.length === 0) flags[i] = 1;
          return polys.map((p) => p.slice());
        });
        const pm: PolygonMasks = { kind: 'polygons', polygons, height: h, width: w };
        results.gtMasks = pm;
      }
      results.gtIgnoreFlags = flags;
    }
    return results;
  }
}
