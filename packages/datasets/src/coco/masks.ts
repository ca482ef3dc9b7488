// SPDX-License-Identifier: Apache-2.0
/**
 * COCO segmentations to bitmap masks (mmdetection `LoadAnnotations._poly2mask`) and masks to boxes.
 * Uses the pycocotools port in `@solo-ts/cocoapi`: polygons are rasterised with `frPyObjects` semantics and
 * merged, RLE objects (compressed or not) are decoded. Browser-safe.
 */
import { annToRleData, rleDecodeRowMajor, rleEmpty, toRleData, type RLEInput } from '@solo-ts/cocoapi';
import { DatasetError, type BitmapMasks } from '@solo-ts/core';
import { segmentationKind } from './parse.js';

/** Keep the polygons LoadAnnotations keeps: an even number of coordinates and at least 3 points. */
export function validPolygons(seg: unknown): number[][] {
  if (segmentationKind(seg) !== 'polygons') return [];
  return (seg as number[][]).filter((p) => p.length % 2 === 0 && p.length >= 6);
}

/**
 * Decode one segmentation into `out` (row-major h*w, values 0/1). Polygons: rasterise every part and merge
 * (pycocotools `frPyObjects` + `merge` + `decode`); RLE: decode (its size must be h x w).
 */
export function decodeSegmentationInto(seg: unknown, h: number, w: number, out: Uint8Array): void {
  const kind = segmentationKind(seg);
  if (kind === 'polygons') {
    const polys = validPolygons(seg);
    if (polys.length === 0) {
      out.fill(0);
      return;
    }
    rleDecodeRowMajor(annToRleData(polys, h, w), out);
    return;
  }
  if (kind === 'rle' || kind === 'uncompressed-rle') {
    const R = toRleData(seg as RLEInput);
    if (R.h !== h || R.w !== w) throw new DatasetError(`RLE of size ${R.h}x${R.w} for an image of ${h}x${w}`);
    rleDecodeRowMajor(R, out);
    return;
  }
  rleDecodeRowMajor(rleEmpty(h, w), out);
}

/** Decode a list of segmentations into BitmapMasks of size h x w. */
export function segmentationsToMasks(segs: readonly unknown[], h: number, w: number): BitmapMasks {
  const hw = h * w;
  const data = new Uint8Array(segs.length * hw);
  segs.forEach((s, i) => decodeSegmentationInto(s, h, w, data.subarray(i * hw, (i + 1) * hw)));
  return { count: segs.length, height: h, width: w, data };
}

/**
 * Tight xyxy boxes of masks (mmdetection `BitmapMasks.get_bboxes`): x1 = first column with a pixel,
 * x2 = last column + 1 (same for rows); an empty mask gives [0, 0, 0, 0].
 */
export function bboxFromMask(masks: BitmapMasks): Float32Array {
  const { count, height: h, width: w, data } = masks;
  const out = new Float32Array(count * 4);
  const hw = h * w;
  for (let i = 0; i < count; i++) {
    let x1 = w;
    let y1 = h;
    let x2 = -1;
    let y2 = -1;
    const base = i * hw;
    for (let y = 0; y < h; y++) {
      const row = base + y * w;
      let first = -1;
      let last = -1;
      for (let x = 0; x < w; x++) {
        if (data[row + x]) {
          if (first < 0) first = x;
          last = x;
        }
      }
      if (first >= 0) {
        if (y < y1) y1 = y;
        y2 = y;
        if (first < x1) x1 = first;
        if (last > x2) x2 = last;
      }
    }
    if (x2 >= 0) out.set([x1, y1, x2 + 1, y2 + 1], i * 4);
  }
  return out;
}
