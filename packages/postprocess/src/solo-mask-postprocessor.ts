// SPDX-License-Identifier: Apache-2.0
/**
 * SOLO-family mask post-processing (mmdetection `SOLOHead/SOLOV2Head._predict_by_feat_single` after the score
 * threshold), registry key `SOLOMaskPostProcessor` (scope `task_utils`).
 *
 * Input: candidates (n, h4, w4) mask probabilities at the H/4 padded resolution with class scores, labels and
 * level strides. Steps (solo-spec §6.1 4–8):
 * 1. masks = prob > mask_thr; area = Σ masks; keep area > stride (strict);
 * 2. maskness = Σ(prob·mask) / area; score = cls_score · maskness;
 * 3. Matrix NMS (mask_area = area, nms_pre, max_per_img, kernel, sigma, filter_thr);
 * 4. kept probability maps → bilinear (align_corners=False) to (4·h4, 4·w4) → crop to img_shape → bilinear to
 *    ori_shape → > mask_thr; done in chunks of `chunk_size` masks to bound memory;
 * 5. InstanceData: masks (BitmapMasks at ori_shape), labels, scores (decayed), bboxes from the final masks
 *    (mmdetection outputs zero boxes; these are the masks' pixel extents, see `masksToBoxes`).
 * Empty candidate sets at any step give an empty InstanceData (0 masks of ori_shape).
 */
import * as tf from '@tensorflow/tfjs-core';
import { ConfigError, ShapeError, type BuildContext, type DetMeta, type InstanceData, type MaskCandidates, type MaskPostProcessor, type OptionSpecs, type SoloTestCfg } from '@solo-ts/core';
import { resizeBilinear } from '@solo-ts/ops';
import { masksToBoxes } from './mask-boxes.js';
import { matrixNms } from './matrix-nms.js';

export interface SOLOMaskPostProcessorOptions {
  /** Masks resized per chunk in the final upsampling (bounds memory: chunk × H0 × W0 floats). */
  chunkSize: number;
}

/** Empty result at the original size. */
export function emptyInstances(oriShape: [number, number]): InstanceData {
  return {
    masks: { count: 0, height: oriShape[0], width: oriShape[1], data: new Uint8Array(0) },
    labels: new Int32Array(0),
    scores: new Float32Array(0),
    bboxes: new Float32Array(0),
  };
}

export class SOLOMaskPostProcessor implements MaskPostProcessor {
  static readonly type = 'SOLOMaskPostProcessor';
  static readonly description = 'SOLO mask post-processing: area filter, maskness, Matrix NMS, resize to the original image';
  static readonly options: OptionSpecs = {
    chunk_size: { type: 'integer', default: 8, doc: 'masks resized together in the final upsampling (memory bound)' },
  };

  readonly chunkSize: number;

  constructor(options: Partial<SOLOMaskPostProcessorOptions> = {}, _ctx?: BuildContext) {
    this.chunkSize = options.chunkSize ?? 8;
    if (!Number.isInteger(this.chunkSize) || this.chunkSize < 1) {
      throw new ConfigError(`SOLOMaskPostProcessor: chunk_size must be a positive integer, got ${String(this.chunkSize)}`);
    }
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

      // 1-2: binarise, area, maskness
      const [areaT, probSumT] = tf.tidy(() => {
        const m = tf.cast(tf.greater(maskProbs, tf.scalar(cfg.maskThr)), 'float32');
        return [tf.sum(m, [1, 2]), tf.sum(tf.mul(maskProbs, m), [1, 2])];
      });
      let area: Float32Array;
      let probSum: Float32Array;
      try {
        area = (await areaT.data()) as Float32Array;
        probSum = (await probSumT.data()) as Float32Array;
      } finally {
        tf.dispose([areaT, probSumT]);
      }
      const kept: number[] = [];
      for (let i = 0; i < n; i++) if (area[i] > Math.fround(strides[i])) kept.push(i);
      if (kept.length === 0) return emptyInstances(oriShape);
      const keptArea = new Float32Array(kept.length);
      const keptScores = new Float32Array(kept.length);
      const keptLabels = new Int32Array(kept.length);
      kept.forEach((i, k) => {
        keptArea[k] = area[i];
        const maskness = Math.fround(probSum[i] / area[i]);
        keptScores[k] = Math.fround(clsScores[i] * maskness);
        keptLabels[k] = labels[i];
      });

      // 3: Matrix NMS on the binary masks of the kept candidates
      const keptIdx = tf.tensor1d(kept, 'int32');
      const binary = tf.tidy(() => tf.greater(tf.gather(maskProbs, keptIdx), tf.scalar(cfg.maskThr))) as tf.Tensor3D;
      let nms;
      try {
        nms = await matrixNms(binary, keptLabels, keptScores, {
          maskArea: keptArea,
          nmsPre: cfg.nmsPre,
          maxNum: cfg.maxPerImg,
          kernel: cfg.kernel,
          sigma: cfg.sigma,
          filterThr: cfg.filterThr,
        });
      } finally {
        tf.dispose([keptIdx, binary]);
      }
      const m = nms.keepInds.length;
      if (m === 0) return emptyInstances(oriShape);

      // 4: resize the kept probability maps, chunk by chunk
      const [H0, W0] = oriShape;
      const [imgH, imgW] = meta.imgShape;
      const padH = 4 * h4;
      const padW = 4 * w4;
      const cropH = Math.min(imgH, padH);
      const cropW = Math.min(imgW, padW);
      const out = new Uint8Array(m * H0 * W0);
      for (let s = 0; s < m; s += this.chunkSize) {
        const e = Math.min(m, s + this.chunkSize);
        const idx = Array.from(nms.keepInds.subarray(s, e), (k) => kept[k]);
        const bin = tf.tidy(() => {
          const sel = tf.reshape(tf.gather(maskProbs, tf.tensor1d(idx, 'int32')), [e - s, h4, w4, 1]) as tf.Tensor4D;
          const up = resizeBilinear(sel, [padH, padW]);
          const crop = tf.slice(up, [0, 0, 0, 0], [e - s, cropH, cropW, 1]);
          const ori = resizeBilinear(crop, [H0, W0]);
          return tf.greater(ori, tf.scalar(cfg.maskThr));
        });
        try {
          const data = (await bin.data()) as Uint8Array;
          out.set(data, s * H0 * W0);
        } finally {
          bin.dispose();
        }
      }
      const masks = { count: m, height: H0, width: W0, data: out };
      return { masks, labels: nms.labels, scores: nms.scores, bboxes: masksToBoxes(masks) };
    } finally {
      maskProbs.dispose();
    }
  }
}
