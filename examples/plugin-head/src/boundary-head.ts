// SPDX-License-Identifier: Apache-2.0
/**
 * `acme.SOLOV2BoundaryHead`: a SOLOv2 head whose mask loss adds a boundary-weighted binary cross-entropy to
 * SOLOv2's Dice loss, so mask edges are learned sharper. Everything else (kernel and cls branches, mask
 * features, grid assignment, Matrix NMS) is `SOLOV2Head` from @solo-ts/heads, reused by subclassing.
 *
 * Mask loss of one positive with logits x and target t (both `[h, w]`, at the mask-feature resolution):
 *
 *   dice(x, t)  +  loss_boundary_weight * sum(w * bce(x, t)) / sum(w),   w = 1 + boundary_weight * band(t)
 *
 * where `band(t)` is 1 on pixels within `boundary_width` pixels of the mask's edge (inside or outside) and
 * `bce(x, t) = max(x, 0) - x t + log(1 + exp(-|x|))`. Summed over positives and divided by the number of
 * positive cells like the Dice term. With no ground truth the mask loss is 0, as for SOLOv2.
 */
import * as tf from '@tensorflow/tfjs-core';
import { defineOptions, resolveOptions, type BitmapMasks, type BuildContext, type OptionsInput, type ResolvedOptions } from '@solo-ts/core';
import { SOLOV2Head } from '@solo-ts/heads';

/**
 * The options of this head, declared once (types, defaults, checks and docs come from here): every option of
 * SOLOV2Head, spread in, and the three this head adds.
 */
export const boundaryHeadOptions = defineOptions({
  ...SOLOV2Head.options,
  boundary_weight: { type: 'number', default: 4.0, doc: 'extra BCE weight of pixels near a mask edge (0 = plain BCE)' },
  boundary_width: { type: 'integer', default: 1, doc: 'half-width of the boundary band, in mask-feature pixels' },
  loss_boundary_weight: { type: 'number', default: 1.0, doc: 'weight of the boundary BCE term added to the Dice mask loss' },
});
/** Resolved options of {@link SOLOV2BoundaryHead} (camelCase, defaults filled in). */
export type SOLOV2BoundaryHeadOptions = ResolvedOptions<typeof boundaryHeadOptions>;
/** What code passes to `new SOLOV2BoundaryHead(...)`. */
export type SOLOV2BoundaryHeadInput = OptionsInput<typeof boundaryHeadOptions>;

/** 1 where a pixel lies within `width` pixels (Chebyshev distance) of a pixel with the other value. */
export function boundaryBand(mask: Uint8Array, h: number, w: number, width: number): Uint8Array {
  const out = new Uint8Array(h * w);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      const v = mask[y * w + x];
      let edge = 0;
      for (let dy = -width; dy <= width && !edge; dy++) {
        const yy = y + dy;
        if (yy < 0 || yy >= h) continue;
        for (let dx = -width; dx <= width; dx++) {
          const xx = x + dx;
          if (xx >= 0 && xx < w && mask[yy * w + xx] !== v) {
            edge = 1;
            break;
          }
        }
      }
      out[y * w + x] = edge;
    }
  }
  return out;
}

export class SOLOV2BoundaryHead extends SOLOV2Head {
  static override readonly type: string = 'acme.SOLOV2BoundaryHead';
  static override readonly description: string = 'SOLOv2 head with Dice + boundary-weighted BCE mask loss (example plugin)';
  static override readonly options = boundaryHeadOptions;

  /**
   * What the registry sweep of @solo-ts/testing builds and exercises (see docs/plugins.md): a tiny instance and
   * its kind. GN with 4 groups for 8 channels; overlapping scale ranges so every level gets positives.
   */
  static readonly contract = {
    kind: 'mask_head',
    config: {
      num_classes: 3,
      in_channels: 8,
      feat_channels: 8,
      stacked_convs: 1,
      num_grids: [8, 6, 5, 4, 3],
      strides: [8, 8, 16, 32, 32],
      scale_ranges: [[1, 256], [1, 256], [1, 256], [1, 256], [1, 256]],
      norm_cfg: { type: 'GN', num_groups: 4, requires_grad: true },
      mask_feature_head: { feat_channels: 8, start_level: 0, end_level: 3, out_channels: 8, mask_stride: 4, norm_cfg: { type: 'GN', num_groups: 4, requires_grad: true } },
    },
  } as const;

  readonly boundaryWeight: number;
  readonly boundaryWidth: number;
  readonly lossBoundaryWeight: number;

  constructor(options: SOLOV2BoundaryHeadInput, ctx: BuildContext) {
    super(options, ctx); // checks every option against this class's declaration and builds the SOLOv2 layers
    // the same resolution, typed by this head's declaration (options the registry resolved come back unchanged)
    const own = resolveOptions(boundaryHeadOptions, options, SOLOV2BoundaryHead.type);
    this.boundaryWeight = own.boundaryWeight;
    this.boundaryWidth = own.boundaryWidth;
    this.lossBoundaryWeight = own.lossBoundaryWeight;
    if (!(this.boundaryWeight >= 0)) throw new RangeError(`acme.SOLOV2BoundaryHead: boundary_weight must be >= 0, got ${this.boundaryWeight}`);
    if (!Number.isInteger(this.boundaryWidth) || this.boundaryWidth < 1) throw new RangeError(`acme.SOLOV2BoundaryHead: boundary_width must be an integer >= 1, got ${this.boundaryWidth}`);
  }

  /** Targets `[P, h, w]` (0/1) and BCE weights `[P, h, w]` of one level's positives. */
  protected targetsAndWeights(targets: BitmapMasks[]): { t: tf.Tensor3D; w: tf.Tensor3D } {
    const p = targets.reduce((s, m) => s + m.count, 0);
    const { height: h, width: w } = targets[0];
    const t = new Float32Array(p * h * w);
    const wt = new Float32Array(p * h * w);
    let off = 0;
    for (const m of targets) {
      for (let i = 0; i < m.count; i++) {
        const mask = m.data.subarray(i * h * w, (i + 1) * h * w);
        const band = boundaryBand(mask, h, w, this.boundaryWidth);
        for (let k = 0; k < h * w; k++) {
          t[off + k] = mask[k];
          wt[off + k] = 1 + this.boundaryWeight * band[k];
        }
        off += h * w;
      }
    }
    return { t: tf.tensor3d(t, [p, h, w]), w: tf.tensor3d(wt, [p, h, w]) };
  }

  protected override maskLoss(levelPreds: Array<tf.Tensor3D | null>, levelTargets: BitmapMasks[][], numPos: number, zero: () => tf.Scalar): tf.Scalar {
    const dice = super.maskLoss(levelPreds, levelTargets, numPos, zero);
    if (numPos === 0 || this.lossBoundaryWeight === 0) return dice;
    return tf.tidy(() => {
      const terms: tf.Tensor[] = [];
      levelPreds.forEach((x, l) => {
        if (!x) return;
        const { t, w } = this.targetsAndWeights(levelTargets[l]);
        // numerically stable BCE with logits
        const bce = tf.add(tf.sub(tf.relu(x), tf.mul(x, t)), tf.log1p(tf.exp(tf.neg(tf.abs(x)))));
        terms.push(tf.div(tf.sum(tf.mul(bce, w), [1, 2]), tf.sum(w, [1, 2])));
      });
      const boundary = tf.mul(tf.div(tf.sum(tf.concat(terms, 0)), numPos), this.lossBoundaryWeight);
      return tf.add(dice, boundary) as tf.Scalar;
    });
  }
}
