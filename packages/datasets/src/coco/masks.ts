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

