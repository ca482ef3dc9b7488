// SPDX-License-Identifier: Apache-2.0
/**
 * `DetDataPreprocessor` (mmdetection `DetDataPreprocessor` over mmengine `ImgDataPreprocessor`); registry key
 * `DetDataPreprocessor` (scope `models`).
 *
 * Input: a batch of HWC images (uint8 values, BGR as LoadImageFromFile gives them) and their data samples.
 * Per image: optional BGR -> RGB, cast to float32, `(x - mean) / std`. Then every image is padded at the bottom /
 * right with `pad_value` (in normalised space) to the batch maximum H, W rounded up to `pad_size_divisor`, and
 * stacked: output NHWC `[B, H_pad, W_pad, C]` float32 (caller owns it). Each sample gets `batchInputShape` and
 * `padShape` (its own size rounded up); in training with `pad_mask` the gt masks are padded to the batch input
 * size with `mask_pad_value`.
 */
import * as tf from '@tensorflow/tfjs-core';
import { ConfigError, defineOptions, resolveOptions, SoloError, padBitmapMasks, type DetDataSample, type OptionsInput, type ResolvedOptions } from '@solo-ts/core';

/** One image of a batch: a `[H, W, C]` tensor, or a plain HWC array with its size. */
export type ImageInput =
  | tf.Tensor3D
  | { data: ArrayLike<number>; height: number; width: number; channels?: number }
  | { data: ArrayLike<number>; shape: [number, number, number] | [number, number] };

/** A batch as the data loader yields it. */
export interface DetDataBatch {
  inputs: ImageInput[] | unknown[];
  dataSamples: DetDataSample[];
}

/** The options of {@link DetDataPreprocessor} (mmdet `DetDataPreprocessor.__init__`), declared once. */
export const detDataPreprocessorOptions = defineOptions({
  mean: { type: 'array', items: 'number', nullable: true, doc: 'per-channel mean subtracted after the channel conversion (null: no normalisation)' },
  std: { type: 'array', items: 'number', nullable: true, doc: 'per-channel std divided after subtracting the mean' },
  pad_size_divisor: { type: 'integer', default: 1, doc: 'pad H and W of the batch up to a multiple of this' },
  pad_value: { type: 'number', default: 0, doc: 'value of padded image pixels (in normalised space)' },
  pad_mask: { type: 'boolean', default: false, doc: 'pad gt masks to the batch input size in training' },
  mask_pad_value: { type: 'integer', default: 0, doc: 'value of padded mask pixels' },
  bgr_to_rgb: { type: 'boolean', default: false, doc: 'reverse channels BGR -> RGB (images come from LoadImageFromFile as BGR)' },
  rgb_to_bgr: { type: 'boolean', default: false, doc: 'reverse channels RGB -> BGR' },
  boxtype2tensor: { type: 'boolean', default: true, doc: 'accepted for mmdetection compatibility (boxes are plain arrays here)' },
  non_blocking: { type: 'boolean', default: false, doc: 'accepted for mmengine compatibility (no effect)' },
  batch_augments: { type: 'array', nullable: true, doc: 'batch augmentations (not supported: must be null)' },
});
/** Resolved options of {@link DetDataPreprocessor}. */
export type DetDataPreprocessorOptions = ResolvedOptions<typeof detDataPreprocessorOptions>;

function toImageTensor(img: unknown, i: number): tf.Tensor3D {
  if (img instanceof tf.Tensor) {
    if (img.rank === 2) return tf.expandDims(tf.cast(img, 'float32'), 2) as tf.Tensor3D;
    if (img.rank !== 3) throw new SoloError(`data preprocessor: image ${i} must be HWC, got shape [${img.shape.join(', ')}]`, { code: 'SHAPE' });
    return tf.cast(img, 'float32') as tf.Tensor3D;
  }
  const o = img as { data?: ArrayLike<number>; height?: number; width?: number; channels?: number; shape?: number[] };
  if (!o || !o.data) throw new SoloError(`data preprocessor: image ${i} is neither a tensor nor {data, height, width[, channels]}`, { code: 'ARGUMENT' });
  const [h, w, c] = o.shape ? [o.shape[0], o.shape[1], o.shape[2] ?? 1] : [o.height!, o.width!, o.channels ?? 3];
  if (o.data.length !== h * w * c) throw new SoloError(`data preprocessor: image ${i} has ${o.data.length} values for ${h}x${w}x${c}`, { code: 'SHAPE' });
  return tf.tensor3d(o.data instanceof Float32Array ? o.data : Float32Array.from(o.data), [h, w, c], 'float32');
}

export class DetDataPreprocessor {
  static readonly type = 'DetDataPreprocessor';
  static readonly description = 'Normalise, convert BGR to RGB, pad to a multiple of pad_size_divisor and stack a batch of images';
  static readonly options = detDataPreprocessorOptions;

  readonly mean: number[] | null;
  readonly std: number[] | null;
  readonly padSizeDivisor: number;
  readonly padValue: number;
  readonly padMask: boolean;
  readonly maskPadValue: number;
  readonly channelConversion: boolean;

  constructor(input: OptionsInput<typeof detDataPreprocessorOptions> = {}) {
    const options = resolveOptions(detDataPreprocessorOptions, input, 'DetDataPreprocessor');
    this.mean = options.mean ?? null;
    this.std = options.std ?? null;
    if ((this.mean === null) !== (this.std === null)) throw new ConfigError('DetDataPreprocessor: mean and std must be both set or both null');
    if (this.mean && this.std && this.mean.length !== this.std.length) throw new ConfigError(`DetDataPreprocessor: mean has ${this.mean.length} values, std ${this.std.length}`);
    if (options.bgrToRgb && options.rgbToBgr) throw new ConfigError('DetDataPreprocessor: bgr_to_rgb and rgb_to_bgr cannot both be true');
    if (options.batchAugments && options.batchAugments.length > 0) {
      throw new ConfigError('DetDataPreprocessor: batch_augments are not supported by solo-ts (the SOLO zoo configs have none)');
    }
    this.padSizeDivisor = options.padSizeDivisor;
    if (!Number.isInteger(this.padSizeDivisor) || this.padSizeDivisor < 1) throw new ConfigError(`DetDataPreprocessor: pad_size_divisor must be a positive integer, got ${this.padSizeDivisor}`);
    this.padValue = options.padValue;
    this.padMask = options.padMask;
    this.maskPadValue = options.maskPadValue;
    this.channelConversion = options.bgrToRgb || options.rgbToBgr;
  }

  private roundUp(v: number): number {
    return Math.ceil(v / this.padSizeDivisor) * this.padSizeDivisor;
  }

  /** Normalise, pad and stack; returns the NHWC batch (caller owns it) and the samples with shapes set. */
  forward(batch: DetDataBatch, training = false): { inputs: tf.Tensor4D; dataSamples: DetDataSample[] } {
    const n = batch.inputs.length;
    if (n === 0) throw new SoloError('data preprocessor: empty batch', { code: 'ARGUMENT' });
    if (batch.dataSamples && batch.dataSamples.length !== n) {
      throw new SoloError(`data preprocessor: ${n} images but ${batch.dataSamples.length} data samples`, { code: 'ARGUMENT' });
    }
    const inputs = tf.tidy(() => {
      const imgs = batch.inputs.map((img, i) => {
        let x = toImageTensor(img, i);
        const c = x.shape[2];
        if (this.channelConversion && c === 3) x = tf.reverse(x, 2);
        if (this.mean && this.std) {
          if (this.mean.length !== 1 && this.mean.length !== c) throw new SoloError(`data preprocessor: mean has ${this.mean.length} values for a ${c}-channel image ${i}`, { code: 'SHAPE' });
          x = tf.div(tf.sub(x, tf.tensor1d(this.mean, 'float32')), tf.tensor1d(this.std, 'float32'));
        }
        return x;
      });
      const hMax = this.roundUp(Math.max(...imgs.map((x) => x.shape[0])));
      const wMax = this.roundUp(Math.max(...imgs.map((x) => x.shape[1])));
      const padded = imgs.map((x) =>
        x.shape[0] === hMax && x.shape[1] === wMax
          ? x
          : tf.pad(x, [
              [0, hMax - x.shape[0]],
              [0, wMax - x.shape[1]],
              [0, 0],
            ], this.padValue),
      );
      return tf.stack(padded) as tf.Tensor4D;
    });
    const batchInputShape: [number, number] = [inputs.shape[1], inputs.shape[2]];
    const shapes = batch.inputs.map((img) => {
      if (img instanceof tf.Tensor) return [img.shape[0], img.shape[1]];
      const o = img as { height?: number; width?: number; shape?: number[] };
      return o.shape ? [o.shape[0], o.shape[1]] : [o.height!, o.width!];
    });
    const dataSamples = (batch.dataSamples ?? []).map((s, i) => {
      const out: DetDataSample = { ...s, metainfo: { ...s.metainfo, batchInputShape, padShape: [this.roundUp(shapes[i][0]), this.roundUp(shapes[i][1])] } };
      if (training && this.padMask && s.gtInstances?.masks) {
        out.gtInstances = { ...s.gtInstances, masks: padBitmapMasks(s.gtInstances.masks, batchInputShape, this.maskPadValue) };
      }
      return out;
    });
    return { inputs, dataSamples };
  }
}
