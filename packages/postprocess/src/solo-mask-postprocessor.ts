// SPDX-License-Identifier: Apache-2.0
/**
 * SOLO-family mask post-processing (mmdetection `SOLOHead/SOLOV2Head._predict_by_feat_single` after the score
 * threshold), registry key `SOLOMaskPostProcessor` (scope `task_utils`).
 *
 * Input: candidates (n, h4, w4) mask probabilities at the H/4 padded resolution with class scores, labels and
 * level strides. Steps (those of `_predict_by_feat_single` after the candidates):
 * 1. masks = prob > mask_thr; area = Σ masks; keep area > stride (strict);
 * 2. maskness = Σ(prob·mask) / area; score = cls_score · maskness;
 * 3. Matrix NMS (mask_area = area, nms_pre, max_per_img, kernel, sigma, filter_thr);
 * 4. kept probability maps → bilinear (align_corners=False) to (4·h4, 4·w4) → crop to img_shape → bilinear to
 *    ori_shape → > mask_thr; done in chunks of `chunk_size` masks to bound memory;
 * 5. InstanceData: masks (BitmapMasks at ori_shape), labels, scores (decayed), bboxes from the final masks
 *    (mmdetection outputs zero boxes; these are the masks' pixel extents, see `masksToBoxes`).
 * Empty candidate sets at any step give an empty InstanceData (0 masks of ori_shape, `emptyInstances` of core).
 *
 * Two equivalent implementations: on backends whose tensors live in host memory (`cpu`, `wasm`) every step runs in
 * JS on the downloaded maps, with a PyTorch-order float32 bilinear (`host-resize.ts`) that computes only the
 * img_shape crop of the padded resize, one mask at a time (tfjs-cpu element-wise ops, slices and resizes are much
 * slower); on GPU backends everything but the NMS stays in tensors (`resizeBilinear` of @solo-ts/ops, chunks of
 * `chunk_size` masks). Option `host_compute` forces one or the other.
 */
import * as tf from '@tensorflow/tfjs-core';
import { ConfigError, defineOptions, resolveOptions, ShapeError, emptyInstances, type BitmapMasks, type BuildContext, type DetMeta, type InstanceData, type MaskCandidates, type MaskPostProcessor, type OptionsInput, type ResolvedOptions, type SoloTestCfg } from '@solo-ts/core';
import { resizeBilinear } from '@solo-ts/ops';
import { masksToBoxes } from './mask-boxes.js';
import { matrixNms, matrixNmsWithPacker, type MatrixNmsResult } from './matrix-nms.js';
import { packMasksThreshold } from './packed-masks.js';
import { bilinearTaps, resizeCropResizeThreshold } from './host-resize.js';

/** The options of {@link SOLOMaskPostProcessor}, declared once. */
export const soloMaskPostProcessorOptions = defineOptions({
  chunk_size: { type: 'integer', default: 8, doc: 'masks resized together in the final upsampling (memory bound)' },
  host_compute: { type: 'string', default: 'auto', enum: ['auto', 'on', 'off'], doc: "element-wise steps in JS ('auto': on cpu/wasm backends)" },
});
/** Resolved options of {@link SOLOMaskPostProcessor}. */
export type SOLOMaskPostProcessorOptions = ResolvedOptions<typeof soloMaskPostProcessorOptions>;

const HOST_BACKENDS = new Set(['cpu', 'wasm', 'tensorflow']);

interface Geometry {
  n: number;
  h4: number;
  w4: number;
  padH: number;
  padW: number;
  cropH: number;
  cropW: number;
  H0: number;
  W0: number;
}

export class SOLOMaskPostProcessor implements MaskPostProcessor {
  static readonly type = 'SOLOMaskPostProcessor';
  static readonly description = 'SOLO mask post-processing: area filter, maskness, Matrix NMS, resize to the original image';
  static readonly options = soloMaskPostProcessorOptions;

  readonly chunkSize: number;
  readonly hostCompute: 'auto' | 'on' | 'off';

  constructor(options: OptionsInput<typeof soloMaskPostProcessorOptions> = {}, _ctx?: BuildContext) {
    const o = resolveOptions(soloMaskPostProcessorOptions, options, 'SOLOMaskPostProcessor');
    this.chunkSize = o.chunkSize;
    this.hostCompute = o.hostCompute;
    // integer kind and the host_compute enum are checked by resolveOptions
    if (this.chunkSize < 1) throw new ConfigError(`SOLOMaskPostProcessor: chunk_size must be a positive integer, got ${String(this.chunkSize)}`);
  }

  async process(candidates: MaskCandidates, meta: DetMeta, cfg: SoloTestCfg): Promise<InstanceData> {
    const { maskProbs, clsScores, labels, strides } = candidates;
    const oriShape: [number, number] = [meta.oriShape[0], meta.oriShape[1]];
    try {
      const n = clsScores.length;
      if (maskProbs.rank !== 3 || maskProbs.shape[0] !== n || labels.length !== n || strides.length !== n) {
        throw new ShapeError(
          `SOLOMaskPostProcessor: candidates disagree: maskProbs ${JSON.stringify(maskProbs.shape)}, ${n} scores, ${labels.length} labels, ${strides.length} strides`,
        );
      }
      if (n === 0) return emptyInstances(oriShape);
      const [, h4, w4] = maskProbs.shape;
      const g: Geometry = { n, h4, w4, padH: 4 * h4, padW: 4 * w4, cropH: 0, cropW: 0, H0: oriShape[0], W0: oriShape[1] };
      // mmdet crops with [:h, :w] (clamped to the padded size)
      g.cropH = Math.min(meta.imgShape[0], g.padH);
      g.cropW = Math.min(meta.imgShape[1], g.padW);
      const host = this.hostCompute === 'on' || (this.hostCompute === 'auto' && HOST_BACKENDS.has(tf.getBackend()));
      const result = host ? await this.processHost(candidates, g, cfg) : await this.processTensors(candidates, g, cfg);
      if (!result) return emptyInstances(oriShape);
      const { nms, masks } = result;
      return { masks, labels: nms.labels, scores: nms.scores, bboxes: masksToBoxes(masks) };
    } finally {
      maskProbs.dispose();
    }
  }

  /** Steps 1-2 from area / masked-probability sums: kept candidates and their NMS inputs (null when none). */
  private select(c: MaskCandidates, area: ArrayLike<number>, probSum: ArrayLike<number>) {
    const kept: number[] = [];
    for (let i = 0; i < c.clsScores.length; i++) if (area[i] > Math.fround(c.strides[i])) kept.push(i);
    if (kept.length === 0) return null;
    const keptArea = new Float32Array(kept.length);
    const keptScores = new Float32Array(kept.length);
    const keptLabels = new Int32Array(kept.length);
    kept.forEach((i, k) => {
      keptArea[k] = area[i];
      const maskness = Math.fround(probSum[i] / area[i]);
      keptScores[k] = Math.fround(c.clsScores[i] * maskness);
      keptLabels[k] = c.labels[i];
    });
    return { kept, keptArea, keptScores, keptLabels };
  }

  private nmsOptions(cfg: SoloTestCfg, maskArea: Float32Array) {
    return { maskArea, nmsPre: cfg.nmsPre, maxNum: cfg.maxPerImg, kernel: cfg.kernel, sigma: cfg.sigma, filterThr: cfg.filterThr };
  }

  private async processHost(c: MaskCandidates, g: Geometry, cfg: SoloTestCfg): Promise<{ nms: MatrixNmsResult; masks: BitmapMasks } | null> {
    const { n, h4, w4, padH, padW, cropH, cropW, H0, W0 } = g;
    const hw = h4 * w4;
    const probs = (await c.maskProbs.data()) as Float32Array; // read only (may be the backend's own store)
    const thr = Math.fround(cfg.maskThr);
    const area = new Float64Array(n);
    const probSum = new Float64Array(n);
    for (let i = 0; i < n; i++) {
      let a = 0;
      let s = 0;
      const off = i * hw;
      for (let k = 0; k < hw; k++) {
        const v = probs[off + k];
        if (v > thr) {
          a++;
          s += v;
        }
      }
      area[i] = a;
      probSum[i] = Math.fround(s);
    }
    const sel = this.select(c, area, probSum);
    if (!sel) return null;
    const { kept } = sel;
    const nms = matrixNmsWithPacker(
      kept.length,
      (order) => packMasksThreshold(probs, n, h4, w4, thr, order.map((k) => kept[k])),
      sel.keptLabels,
      sel.keptScores,
      this.nmsOptions(cfg, sel.keptArea),
    );
    const m = nms.keepInds.length;
    if (m === 0) return null;
    // resize to the padded size restricted to the img_shape crop, then to ori_shape, thresholded (no padded map
    // and no second float map is materialised)
    const out = new Uint8Array(m * H0 * W0);
    const crop = new Float32Array(cropH * cropW);
    const upY = bilinearTaps(h4, padH, cropH);
    const upX = bilinearTaps(w4, padW, cropW);
    const oriY = bilinearTaps(cropH, H0);
    const oriX = bilinearTaps(cropW, W0);
    for (let j = 0; j < m; j++) {
      const src = kept[nms.keepInds[j]];
      resizeCropResizeThreshold(probs, src * hw, h4, w4, upY, upX, oriY, oriX, thr, crop, out, j * H0 * W0);
    }
    return { nms, masks: { count: m, height: H0, width: W0, data: out } };
  }

  private async processTensors(c: MaskCandidates, g: Geometry, cfg: SoloTestCfg): Promise<{ nms: MatrixNmsResult; masks: BitmapMasks } | null> {
    const { h4, w4, padH, padW, cropH, cropW, H0, W0 } = g;
    const { maskProbs } = c;
    const thr = tf.scalar(cfg.maskThr);
    try {
      const [areaT, probSumT] = tf.tidy(() => {
        const mk = tf.cast(tf.greater(maskProbs, thr), 'float32');
        return [tf.sum(mk, [1, 2]), tf.sum(tf.mul(maskProbs, mk), [1, 2])];
      });
      let area: Float32Array;
      let probSum: Float32Array;
      try {
        area = (await areaT.data()) as Float32Array;
        probSum = (await probSumT.data()) as Float32Array;
      } finally {
        tf.dispose([areaT, probSumT]);
      }
      const sel = this.select(c, area, probSum);
      if (!sel) return null;
      const { kept } = sel;
      const keptIdx = tf.tensor1d(kept, 'int32');
      const binary = tf.tidy(() => tf.greater(tf.gather(maskProbs, keptIdx), thr)) as tf.Tensor3D;
      let nms: MatrixNmsResult;
      try {
        nms = await matrixNms(binary, sel.keptLabels, sel.keptScores, this.nmsOptions(cfg, sel.keptArea));
      } finally {
        tf.dispose([keptIdx, binary]);
      }
      const m = nms.keepInds.length;
      if (m === 0) return null;
      const out = new Uint8Array(m * H0 * W0);
      for (let s = 0; s < m; s += this.chunkSize) {
        const e = Math.min(m, s + this.chunkSize);
        const cn = e - s;
        const idx = Array.from(nms.keepInds.subarray(s, e), (k) => kept[k]);
        const bin = tf.tidy(() => {
          const x = tf.reshape(tf.gather(maskProbs, tf.tensor1d(idx, 'int32')), [cn, h4, w4, 1]) as tf.Tensor4D;
          const up = resizeBilinear(x, [padH, padW]);
          // crop as a 2-D slice of rows (a 4-D slice is much slower on some backends)
          const rows = tf.reshape(tf.slice(up, [0, 0, 0, 0], [cn, cropH, padW, 1]), [cn * cropH, padW]);
          const crop = tf.reshape(tf.slice(rows, [0, 0], [cn * cropH, cropW]), [cn, cropH, cropW, 1]) as tf.Tensor4D;
          return tf.greater(resizeBilinear(crop, [H0, W0]), thr);
        });
        try {
          out.set((await bin.data()) as Uint8Array, s * H0 * W0);
        } finally {
          bin.dispose();
        }
      }
      return { nms, masks: { count: m, height: H0, width: W0, data: out } };
    } finally {
      thr.dispose();
    }
  }
}
