// SPDX-License-Identifier: Apache-2.0
/**
 * The boundary between a head's tfjs forward and its runtime-neutral post-processing (mmdetection `forward` /
 * `predict_by_feat`): raw outputs as plain NCHW arrays ({@link ArrayTensor} of @solo-ts/core), the layout of the
 * outputs of an ONNX export of the mmdetection graph. Conversion of NHWC tensors to such arrays, shape checks of
 * a set of raw outputs, and the index arithmetic of the grid cells on them.
 */
import * as tf from '@tensorflow/tfjs-core';
import { ShapeError, type ArrayTensor, type MaskHeadRawOutputs } from '@solo-ts/core';

/** An NHWC `[B, H, W, C]` tensor read back as an NCHW array `[B, C, H, W]` (does not dispose `t`). */
export async function tensorToArray(t: tf.Tensor4D): Promise<ArrayTensor> {
  const nchw = tf.transpose(t, [0, 3, 1, 2]);
  try {
    return { data: (await nchw.data()) as Float32Array, shape: nchw.shape.slice() };
  } finally {
    nchw.dispose();
  }
}

/** Every NHWC tensor (or list of them) of a head's forward outputs as NCHW arrays, under the same names. */
export async function outputsToArrays(outputs: Readonly<Record<string, tf.Tensor4D | readonly tf.Tensor4D[]>>): Promise<Record<string, ArrayTensor | ArrayTensor[]>> {
  const out: Record<string, ArrayTensor | ArrayTensor[]> = {};
  for (const [name, v] of Object.entries(outputs)) out[name] = Array.isArray(v) ? await Promise.all(v.map((t: tf.Tensor4D) => tensorToArray(t))) : await tensorToArray(v as tf.Tensor4D);
  return out;
}

/** An NCHW array `[B, C, H, W]` as an NHWC tensor (caller owns it). */
export function arrayToNhwc(a: ArrayTensor): tf.Tensor4D {
  return tf.tidy(() => tf.transpose(tf.tensor4d(a.data, a.shape as [number, number, number, number], 'float32'), [0, 2, 3, 1]));
}

function checkArray(a: unknown, label: string, where: string): ArrayTensor {
  const t = a as ArrayTensor;
  if (!t || !(t.data instanceof Float32Array) || !Array.isArray(t.shape)) throw new ShapeError(`${where}: ${label} must be {data: Float32Array, shape: number[]}`);
  const size = t.shape.reduce((p, d) => p * d, 1);
  if (t.shape.length !== 4 || size !== t.data.length) {
    throw new ShapeError(`${where}: ${label} must be an NCHW array [B, C, H, W] with as many values as its shape, got shape [${t.shape.join(', ')}] and ${t.data.length} values`);
  }
  return t;
}

/** The raw output `name`, one NCHW array per level (`numLevels`), checked against `want(l)` (undefined = any). */
export function rawLevels(outputs: MaskHeadRawOutputs, name: string, numLevels: number, want: (l: number) => Array<number | undefined>, where: string): ArrayTensor[] {
  const v = outputs[name];
  if (!Array.isArray(v)) throw new ShapeError(`${where}: predictByFeat needs \`${name}\`, one NCHW array per level (got ${v === undefined ? 'none' : 'a single array'})`);
  if (v.length !== numLevels) throw new ShapeError(`${where}: \`${name}\` has ${v.length} levels, the head has ${numLevels}`);
  return v.map((a: ArrayTensor, l: number) => checkShape(checkArray(a, `${name}[${l}]`, where), want(l), `${name}[${l}]`, where));
}

/** The single raw output `name` (an NCHW array), checked against `want`. */
export function rawMap(outputs: MaskHeadRawOutputs, name: string, want: Array<number | undefined>, where: string): ArrayTensor {
  const v = outputs[name];
  if (v === undefined || Array.isArray(v)) throw new ShapeError(`${where}: predictByFeat needs \`${name}\`, one NCHW array`);
  return checkShape(checkArray(v, name, where), want, name, where);
}

function checkShape(a: ArrayTensor, want: Array<number | undefined>, label: string, where: string): ArrayTensor {
  if (want.some((d, i) => d !== undefined && a.shape[i] !== d)) {
    throw new ShapeError(`${where}: ${label} has shape [${a.shape.join(', ')}], expected [${want.map((d) => d ?? '*').join(', ')}]`);
  }
  return a;
}

/** First flat cell index of each level (and the total at the end), cells row-major within a level. */
export function levelStarts(numGrids: number[]): number[] {
  const starts = [0];
  for (const g of numGrids) starts.push(starts[starts.length - 1] + g * g);
  return starts;
}

/** Level of a flat cell index. */
export function levelOfCell(cell: number, starts: number[]): number {
  for (let l = 0; l < starts.length - 1; l++) if (cell < starts[l + 1]) return l;
  throw new RangeError(`cell index ${cell} beyond the last level`);
}

/**
 * Class scores of image `b` from per-level NCHW `[B, C, G, G]` arrays as one flat `[cells, C]` array, levels
 * concatenated, cells row-major (mmdet `torch.cat([s.permute(0, 2, 3, 1).view(B, -1, C) ...], 1)[b]`).
 */
export function flatScores(levels: ArrayTensor[], b: number): Float32Array {
  const C = levels[0].shape[1];
  const cells = levels.reduce((s, a) => s + a.shape[2] * a.shape[3], 0);
  const out = new Float32Array(cells * C);
  let off = 0;
  for (const a of levels) {
    const g2 = a.shape[2] * a.shape[3];
    for (let c = 0; c < C; c++) {
      const src = (b * C + c) * g2;
      for (let k = 0; k < g2; k++) out[(off + k) * C + c] = a.data[src + k];
    }
    off += g2;
  }
  return out;
}

/** Channel `c` of image `b` of an NCHW array as a view `[H * W]` (no copy). */
export function channelView(a: ArrayTensor, b: number, c: number): Float32Array {
  const [, C, h, w] = a.shape;
  const hw = h * w;
  return a.data.subarray((b * C + c) * hw, (b * C + c + 1) * hw);
}

/** The common `[H, W]` of per-level NCHW maps that must share it (the mask maps, all at H/4 x W/4). */
export function sameMapSize(levels: ArrayTensor[], name: string, where: string): [number, number] {
  const [h, w] = levels[0].shape.slice(2);
  levels.forEach((a, l) => {
    if (a.shape[2] !== h || a.shape[3] !== w) throw new ShapeError(`${where}: ${name}[${l}] is ${a.shape[2]}x${a.shape[3]}, level 0 is ${h}x${w} (all levels share the mask size)`);
  });
  return [h, w];
}
