// SPDX-License-Identifier: Apache-2.0
/**
 * `RandomFlip` (scope `transforms`), mmcv 2.x / mmdetection 3.x semantics: with `prob` p and one direction the
 * sample is flipped with probability p; with a list of directions and a single p, each direction gets p / n;
 * with a list of probabilities, direction i gets prob[i]. The choice is `np.random.choice` over
 * [directions..., no flip] (first index whose cumulative probability exceeds a uniform draw).
 * Image (`mmcv.imflip`), boxes (`x1' = w - x2`, float32) and masks are flipped; `flip` / `flipDirection` are set.
 * Browser-safe.
 */
import { DatasetError, defineOptions, resolveOptions, typed, type BuildContext, type OptionsInput, type RandomSource, type ResolvedOptions, type Transform } from '@solo-ts/core';
import type { ImageU8 } from '@solo-ts/ops';
import { flipMasks } from './masks.js';
import type { FlipDirection, PipelineResults } from './results.js';

const DIRECTIONS: readonly FlipDirection[] = ['horizontal', 'vertical', 'diagonal'];

/** The options of {@link RandomFlip} (mmdet `RandomFlip.__init__`), declared once. */
export const randomFlipOptions = defineOptions({
  prob: typed<number | number[]>()({ type: 'any', required: true, doc: 'flip probability, or one probability per direction' }),
  direction: typed<FlipDirection | FlipDirection[]>()({ type: 'any', default: 'horizontal', doc: "'horizontal', 'vertical', 'diagonal' or a list of them" }),
  swap_seg_labels: { type: 'any', nullable: true, default: null, doc: 'semantic segmentation maps only (not loaded here): no effect' },
});
/** Resolved options of {@link RandomFlip}. */
export type RandomFlipOptions = ResolvedOptions<typeof randomFlipOptions>;

/** Flip a uint8 HWC image. */
export function flipImage(img: ImageU8, direction: FlipDirection): ImageU8 {
  const { height: h, width: w, channels: c } = img;
  const fx = direction !== 'vertical';
  const fy = direction !== 'horizontal';
  const out = new Uint8Array(img.data.length);
  const row = w * c;
  for (let y = 0; y < h; y++) {
    const sy = fy ? h - 1 - y : y;
    const src = sy * row;
    const dst = y * row;
    if (!fx) {
      out.set(img.data.subarray(src, src + row), dst);
      continue;
    }
    const data = img.data;
    if (c === 3) {
      for (let x = 0, s = src + (w - 1) * 3, d = dst; x < w; x++, s -= 3, d += 3) {
        out[d] = data[s];
        out[d + 1] = data[s + 1];
        out[d + 2] = data[s + 2];
      }
    } else {
      for (let x = 0; x < w; x++) {
        const s = src + (w - 1 - x) * c;
        const d = dst + x * c;
        for (let k = 0; k < c; k++) out[d + k] = data[s + k];
      }
    }
  }
  return { data: out, height: h, width: w, channels: c };
}

/** Flip xyxy boxes in place like `HorizontalBoxes.flip_` (float32). */
export function flipBoxes(b: Float32Array, imgShape: [number, number], direction: FlipDirection): void {
  const [h, w] = imgShape;
  for (let i = 0; i < b.length; i += 4) {
    if (direction !== 'vertical') {
      const x1 = b[i];
      b[i] = Math.fround(w - b[i + 2]);
      b[i + 2] = Math.fround(w - x1);
    }
    if (direction !== 'horizontal') {
      const y1 = b[i + 1];
      b[i + 1] = Math.fround(h - b[i + 3]);
      b[i + 3] = Math.fround(h - y1);
    }
  }
}

export class RandomFlip implements Transform<PipelineResults> {
  static readonly type = 'RandomFlip';
  static readonly description = 'Flip image, boxes and masks at random (horizontal, vertical or diagonal).';
  static readonly options = randomFlipOptions;

  readonly directions: (FlipDirection | null)[];
  readonly probs: number[];

  constructor(input: OptionsInput<typeof randomFlipOptions>, _ctx?: BuildContext) {
    const options = resolveOptions(randomFlipOptions, input, 'RandomFlip');
    const dir = options.direction;
    const dirs = Array.isArray(dir) ? dir : [dir];
    for (const d of dirs) {
      if (!DIRECTIONS.includes(d)) throw new DatasetError(`RandomFlip: direction must be one of ${DIRECTIONS.join(', ')}, got ${JSON.stringify(d)}`);
    }
    const prob = options.prob;
    let probs: number[];
    if (Array.isArray(prob)) {
      if (prob.length !== dirs.length) throw new DatasetError(`RandomFlip: ${prob.length} probabilities for ${dirs.length} directions`);
      const sum = prob.reduce((a, b) => a + b, 0);
      if (!prob.every((p) => typeof p === 'number' && p >= 0) || sum > 1 + 1e-9) throw new DatasetError(`RandomFlip: probabilities must be >= 0 and sum to at most 1, got ${JSON.stringify(prob)}`);
      probs = [...prob, 1 - sum];
    } else if (typeof prob === 'number' && prob >= 0 && prob <= 1) {
      probs = [...dirs.map(() => prob / dirs.length), 1 - prob];
    } else {
      throw new DatasetError(`RandomFlip: prob must be a number in [0, 1] or a list of them, got ${JSON.stringify(prob)}`);
    }
    this.directions = [...dirs, null];
    this.probs = probs;
  }

  /** np.random.choice(directions, p=probs) with one uniform draw. */
  chooseDirection(rng?: RandomSource): FlipDirection | null {
    const u = rng ? rng.random() : Math.random();
    const total = this.probs.reduce((a, b) => a + b, 0);
    let cdf = 0;
    for (let i = 0; i < this.probs.length; i++) {
      cdf += this.probs[i];
      if (cdf / total > u) return this.directions[i];
    }
    return this.directions[this.directions.length - 1];
  }

  transform(results: PipelineResults, rng?: RandomSource): PipelineResults {
    const dir = this.chooseDirection(rng);
    if (dir === null) {
      results.flip = false;
      results.flipDirection = null;
      return results;
    }
    results.flip = true;
    results.flipDirection = dir;
    if (results.img) results.img = flipImage(results.img, dir);
    const shape: [number, number] = results.img ? [results.img.height, results.img.width] : (results.imgShape as [number, number]);
    if (results.gtBboxes) flipBoxes(results.gtBboxes, shape, dir);
    if (results.gtMasks) results.gtMasks = flipMasks(results.gtMasks, dir);
    return results;
  }
}
