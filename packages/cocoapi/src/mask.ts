// SPDX-License-Identifier: Apache-2.0
/**
 * pycocotools' `mask` module (`pycocotools.mask` + `_mask.pyx`) with the same names and results:
 * `frPyObjects`, `encode`, `decode`, `merge`, `area`, `toBbox`, `iou`, `frBbox`, `frPoly`, plus `annToRLE`
 * (what `COCO.annToRLE` does with a segmentation).
 *
 * Where pycocotools raises on an input whose meaning is clear, this port accepts it:
 * - a plain list of `[x, y, w, h]` boxes in `frPyObjects` (pycocotools wants a numpy array);
 * - a flat polygon `[x1, y1, ...]` or box not wrapped in a list (pycocotools raises `TypeError`);
 * - compressed RLE objects in `frPyObjects` (passed through) and uncompressed ones in `merge`/`area`/...;
 * - a polygon segmentation whose first part has 4 numbers in `annToRLE` (rasterised as polygons).
 */
import { bbIouInto, rleBoxes, rleIouInto } from './iou.js';
import { rleFrBbox, rleFrPoly } from './poly.js';
import {
  rleArea,
  rleDecodeRowMajor,
  rleEmpty,
  rleEncodeRowMajor,
  rleFromCounts,
  rleFromString,
  rleMerge,
  rleToBbox,
  rleToString,
} from './rle.js';
import {
  MaskApiError,
  type BinaryMask,
  type Box,
  type Polygon,
  type RLE,
  type RLEInput,
  type RleData,
  type UncompressedRLE,
} from './types.js';

function isObject(x: unknown): x is Record<string, unknown> {
  return typeof x === 'object' && x !== null && !Array.isArray(x) && !ArrayBuffer.isView(x);
}

function isListLike(x: unknown): x is ArrayLike<unknown> {
  return Array.isArray(x) || (ArrayBuffer.isView(x) && !(x instanceof DataView));
}

/** True for `{size: [h, w], counts}` (compressed string or uncompressed list). */
export function isRLE(x: unknown): x is RLEInput {
  if (!isObject(x) || !('counts' in x) || !('size' in x)) return false;
  const size = x.size;
  return isListLike(size) && size.length >= 2 && (typeof x.counts === 'string' || isListLike(x.counts));
}

/** The in-memory run lengths of an RLE object, compressed or not (`_frString` / `frUncompressedRLE`). */
export function toRleData(rle: RLEInput): RleData {
  if (!isRLE(rle)) throw new MaskApiError('expected an RLE object {size: [h, w], counts}');
  const h = Number(rle.size[0]);
  const w = Number(rle.size[1]);
  return typeof rle.counts === 'string' ? rleFromString(rle.counts, h, w) : rleFromCounts(rle.counts, h, w);
}

/** The compressed RLE object of run lengths (`_toString`). */
export function fromRleData(R: RleData): RLE {
  return { size: [R.h, R.w], counts: rleToString(R) };
}


/** `frPoly`: one RLE per polygon (`floor(len / 2)` vertices each). */
export function frPoly(polys: readonly Polygon[], h: number, w: number): RLE[] {
  return polys.map((p) => fromRleData(rleFrPoly(p, Math.floor(p.length / 2), h, w)));
}

/** `frBbox`: one RLE per `[x, y, w, h]` box. */
export function frBbox(boxes: readonly ArrayLike<number>[], h: number, w: number): RLE[] {
  return boxes.map((b) => {
    if (!isListLike(b) || b.length !== 4) throw new MaskApiError('frBbox: every box must be [x, y, w, h]');
    return fromRleData(rleFrBbox(b, h, w));
  });
}

function isNumberList(x: unknown): x is ArrayLike<number> {
  if (!isListLike(x)) return false;
  for (let i = 0; i < x.length; i++) if (typeof x[i] !== 'number') return false;
  return true;
}

function compressed(rle: RLEInput): RLE {
  if (typeof rle.counts === 'string') return { size: [Number(rle.size[0]), Number(rle.size[1])], counts: rle.counts };
  // frUncompressedRLE: the object's own size is used, not h/w.
  return fromRleData(toRleData(rle));
}

/**
 * `frPyObjects(pyobj, h, w)`:
 * - a list of polygons -> one RLE per polygon (routed on the first element, as pycocotools does);
 * - a list of `[x, y, w, h]` boxes -> `frBbox`;
 * - a list of RLE objects -> a list of compressed RLEs; one RLE object -> one compressed RLE;
 * - a single polygon or box (flat list of numbers) -> one RLE.
 */
export function frPyObjects(pyobj: RLEInput, h: number, w: number): RLE;
export function frPyObjects(pyobj: readonly (Polygon | Box | RLEInput)[], h: number, w: number): RLE[];
export function frPyObjects(pyobj: Polygon | Box, h: number, w: number): RLE;
export function frPyObjects(pyobj: unknown, h: number, w: number): RLE | RLE[];
export function frPyObjects(pyobj: unknown, h: number, w: number): RLE | RLE[] {
  if (isRLE(pyobj)) return compressed(pyobj);
  if (!isListLike(pyobj)) throw new MaskApiError('frPyObjects: input type is not supported (expected polygons, boxes or RLE objects)');
  if (pyobj.length === 0) return [];
  const first = pyobj[0];
  if (isListLike(first)) {
    const parts = pyobj as ArrayLike<unknown>;
    for (let i = 0; i < parts.length; i++) {
      if (!isNumberList(parts[i])) throw new MaskApiError(`frPyObjects: element ${i} is not a list of numbers`);
    }
    const list = Array.from(parts as ArrayLike<ArrayLike<number>>);
    // pycocotools routes on the first element: 4 numbers = boxes (frBbox), more = polygons (frPoly). A list
    // that mixes a 4-number first part with other lengths can only be polygons (pycocotools raises on it).
    if (first.length === 4 && list.every((p) => p.length === 4)) return frBbox(list, h, w);
    return frPoly(list, h, w);
  }
  if (isRLE(first)) {
    return Array.from(pyobj as ArrayLike<unknown>, (o, i) => {
      if (!isRLE(o)) throw new MaskApiError(`frPyObjects: element ${i} is not an RLE object`);
      return compressed(o);
    });
  }
  if (isNumberList(pyobj)) {
    if (pyobj.length === 4) return fromRleData(rleFrBbox(pyobj, h, w));
    if (pyobj.length > 4) return fromRleData(rleFrPoly(pyobj, Math.floor(pyobj.length / 2), h, w));
  }
  throw new MaskApiError('frPyObjects: input type is not supported (expected polygons, boxes or RLE objects)');
}

/**
 * What `COCO.annToRLE` does with a `segmentation`: polygons -> their merged (union) RLE; uncompressed RLE ->
 * compressed; compressed RLE -> itself. An empty polygon list gives an empty h x w mask.
 */
export function annToRLE(segmentation: unknown, h: number, w: number): RLE {
  return fromRleData(annToRleData(segmentation, h, w));
}

/** {@link annToRLE} returning the in-memory run lengths (no string round trip). */
export function annToRleData(segmentation: unknown, h: number, w: number): RleData {
  if (isRLE(segmentation)) return toRleData(segmentation);
  if (isListLike(segmentation)) {
    const parts: RleData[] = [];
    for (let i = 0; i < segmentation.length; i++) {
      const p = segmentation[i];
      if (!isNumberList(p)) throw new MaskApiError(`segmentation polygon ${i} is not a list of numbers`);
      parts.push(rleFrPoly(p, Math.floor(p.length / 2), h, w));
    }
    if (parts.length === 0) return rleEmpty(h, w);
    return rleMerge(parts, false);
  }
  throw new MaskApiError('segmentation must be a list of polygons or an RLE object {size, counts}');
}

/** `encode`: a row-major binary mask (or several) to compressed RLE. */
export function encode(mask: BinaryMask): RLE;
export function encode(masks: readonly BinaryMask[]): RLE[];
export function encode(mask: BinaryMask | readonly BinaryMask[]): RLE | RLE[] {
  if (Array.isArray(mask)) return mask.map((m) => encode(m as BinaryMask));
  const m = mask as BinaryMask;
  if (m.data.length < m.height * m.width) throw new MaskApiError(`encode: mask data has ${m.data.length} values, expected ${m.height}x${m.width}`);
  return fromRleData(rleEncodeRowMajor(m.data, m.height, m.width));
}

/** Encode `n` row-major masks stored back to back (`data[(i * h + y) * w + x]`, e.g. a BitmapMasks). */
export function encodeMasks(data: ArrayLike<number>, n: number, h: number, w: number): RLE[] {
  const out: RLE[] = [];
  for (let i = 0; i < n; i++) out.push(fromRleData(rleEncodeRowMajor(data, h, w, i * h * w)));
  return out;
}

/** `decode`: RLE (or several) to row-major binary masks. */
export function decode(rle: RLEInput): BinaryMask;
export function decode(rles: readonly RLEInput[]): BinaryMask[];
export function decode(rle: RLEInput | readonly RLEInput[]): BinaryMask | BinaryMask[] {
  if (Array.isArray(rle)) return rle.map((r) => decode(r as RLEInput));
  const R = toRleData(rle as RLEInput);
  return { data: rleDecodeRowMajor(R), height: R.h, width: R.w };
}

/** Decode into a column-major Uint8Array (`data[x * h + y]`), no transpose. */
export function decodeToColumnMajor(rle: RLEInput): Uint8Array {
  const R = toRleData(rle);
  const out = new Uint8Array(R.h * R.w);
  let pos = 0;
  for (let j = 0; j < R.cnts.length && pos < out.length; j++) {
    const end = Math.min(out.length, pos + R.cnts[j]);
    if (j & 1) out.fill(1, pos, end);
    pos = end;
  }
  return out;
}

/** `merge`: union (default) or intersection of RLEs of one size; different sizes give a 0x0 RLE. */
export function merge(rles: readonly RLEInput[], intersect: boolean | number = false): RLE {
  return fromRleData(rleMerge(rles.map(toRleData), !!intersect));
}

/** `area`: foreground pixel count(s). */
export function area(rle: RLEInput): number;
export function area(rles: readonly RLEInput[]): number[];
export function area(rle: RLEInput | readonly RLEInput[]): number | number[] {
  if (Array.isArray(rle)) return rle.map((r) => rleArea(toRleData(r as RLEInput)));
  return rleArea(toRleData(rle as RLEInput));
}

/** `toBbox`: `[x, y, w, h]` of the RLE(s) (reference-commit `rleToBbox`, see {@link rleToBbox}). */
export function toBbox(rle: RLEInput): [number, number, number, number];
export function toBbox(rles: readonly RLEInput[]): [number, number, number, number][];
export function toBbox(rle: RLEInput | readonly RLEInput[]): [number, number, number, number] | [number, number, number, number][] {
  if (Array.isArray(rle)) return rle.map((r) => rleToBbox(toRleData(r as RLEInput)));
  return rleToBbox(toRleData(rle as RLEInput));
}

/**
 * `iou(dt, gt, iscrowd)`: the `len(dt) x len(gt)` IoU matrix (rows = detections) of RLEs or of `[x, y, w, h]`
 * boxes. Crowd gts use the detection's area as the union. Either list empty gives `[]`. RLEs of different
 * sizes whose boxes overlap give -1.
 */
export function iou(
  dt: readonly (RLEInput | Box)[],
  gt: readonly (RLEInput | Box)[],
  iscrowd: ArrayLike<number | boolean>,
): number[][] {
  const kd = kindOf(dt, 'dt');
  const kg = kindOf(gt, 'gt');
  const m = dt.length;
  const n = gt.length;
  if (m === 0 || n === 0) return [];
  if (kd !== kg) throw new MaskApiError('iou: the dt and gt should have the same data type, either RLEs or boxes');
  const out = new Float64Array(m * n);
  if (kd === 'box') {
    bbIouInto(flatBoxes(dt as Box[]), flatBoxes(gt as Box[]), m, n, iscrowd, out);
  } else {
    const D = (dt as RLEInput[]).map(toRleData);
    const G = (gt as RLEInput[]).map(toRleData);
    rleIouInto(D, G, iscrowd, out, rleBoxes(D), rleBoxes(G));
  }
  const rows: number[][] = [];
  for (let d = 0; d < m; d++) rows.push(Array.from(out.subarray(d * n, (d + 1) * n)));
  return rows;
}

function kindOf(objs: readonly unknown[], name: string): 'box' | 'rle' | 'empty' {
  if (objs.length === 0) return 'empty';
  if (objs.every((o) => isListLike(o) && o.length === 4)) return 'box';
  if (objs.every((o) => isRLE(o))) return 'rle';
  throw new MaskApiError(`iou: ${name} list input can be bounding boxes (Nx4) or RLEs ([RLE])`);
}

function flatBoxes(boxes: readonly Box[]): Float64Array {
  const out = new Float64Array(boxes.length * 4);
  for (let i = 0; i < boxes.length; i++) for (let j = 0; j < 4; j++) out[i * 4 + j] = Number(boxes[i][j]);
  return out;
}

export type { UncompressedRLE };
