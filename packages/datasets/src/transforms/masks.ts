// SPDX-License-Identifier: Apache-2.0
/**
 * Mask containers of the pipeline: core `BitmapMasks` (the default, `poly2mask=True`) and `PolygonMasks`
 * (`poly2mask=False`: polygons kept as coordinates, transformed geometrically, rasterised when packed), with the
 * mmdetection operations the transforms need (rescale/resize with cv2 INTER_NEAREST, flip).
 */
import { annToRleData, rleDecodeRowMajor } from '@solo-ts/cocoapi';
import type { BitmapMasks } from '@solo-ts/core';
import { resizeNearestU8 } from '@solo-ts/ops';
import type { FlipDirection } from './results.js';

/** mmdetection `PolygonMasks`: per instance a list of flat polygons, in an image of height x width. */
export interface PolygonMasks {
  kind: 'polygons';
  polygons: number[][][];
  height: number;
  width: number;
}

export type AnyMasks = BitmapMasks | PolygonMasks;

export function isPolygonMasks(m: unknown): m is PolygonMasks {
  return typeof m === 'object' && m !== null && (m as PolygonMasks).kind === 'polygons';
}


/** Resize every mask to (w, h) with cv2 INTER_NEAREST (BitmapMasks) or scale the coordinates (PolygonMasks). */
export function resizeMasks(m: AnyMasks, w: number, h: number): AnyMasks {
  if (isPolygonMasks(m)) {
    const sx = w / m.width;
    const sy = h / m.height;
    const polygons = m.polygons.map((obj) =>
      obj.map((p) => {
        const q = p.slice();
        for (let i = 0; i < q.length; i += 2) {
          q[i] *= sx;
          q[i + 1] *= sy;
        }
        return q;
      }),
    );
    return { kind: 'polygons', polygons, height: h, width: w };
  }
  const hw = m.height * m.width;
  const out = new Uint8Array(m.count * w * h);
  for (let i = 0; i < m.count; i++) {
    const r = resizeNearestU8({ data: m.data.subarray(i * hw, (i + 1) * hw), height: m.height, width: m.width, channels: 1 }, w, h);
    out.set(r.data, i * w * h);
  }
  return { count: m.count, height: h, width: w, data: out };
}

/** Flip masks like `BitmapMasks.flip` / `PolygonMasks.flip` (polygons: x -> width - x). */
export function flipMasks(m: AnyMasks, direction: FlipDirection): AnyMasks {
  const fx = direction === 'horizontal' || direction === 'diagonal';
  const fy = direction === 'vertical' || direction === 'diagonal';
  if (isPolygonMasks(m)) {
    const polygons = m.polygons.map((obj) =>
      obj.map((p) => {
        const q = p.slice();
        for (let i = 0; i < q.length; i += 2) {
          if (fx) q[i] = m.width - q[i];
          if (fy) q[i + 1] = m.height - q[i + 1];
        }
        return q;
      }),
    );
    return { ...m, polygons };
  }
  const { height: h, width: w, count } = m;
  const out = new Uint8Array(m.data.length);
  const hw = h * w;
  for (let i = 0; i < count; i++) {
    const base = i * hw;
    for (let y = 0; y < h; y++) {
      const sy = fy ? h - 1 - y : y;
      const src = base + sy * w;
      const dst = base + y * w;
      if (fx) {
        const d = m.data;
        for (let x = 0, sx = src + w - 1; x < w; x++, sx--) out[dst + x] = d[sx];
      }
      else out.set(m.data.subarray(src, src + w), dst);
    }
  }
  return { count, height: h, width: w, data: out };
}

/** Select instances by index. */
export function selectMasks(m: AnyMasks, idx: readonly number[]): AnyMasks {
  if (isPolygonMasks(m)) return { ...m, polygons: idx.map((i) => m.polygons[i]) };
  const hw = m.height * m.width;
  const out = new Uint8Array(idx.length * hw);
  idx.forEach((i, k) => out.set(m.data.subarray(i * hw, (i + 1) * hw), k * hw));
  return { count: idx.length, height: m.height, width: m.width, data: out };
}

/** Rasterise PolygonMasks (mmdetection `polygon_to_bitmap`: frPyObjects + merge + decode); bitmaps pass through. */
export function toBitmapMasks(m: AnyMasks): BitmapMasks {
  if (!isPolygonMasks(m)) return m;
  const { height: h, width: w } = m;
  const hw = h * w;
  const data = new Uint8Array(m.polygons.length * hw);
  m.polygons.forEach((polys, i) => {
    if (polys.length > 0) rleDecodeRowMajor(annToRleData(polys, h, w), data.subarray(i * hw, (i + 1) * hw));
  });
  return { count: m.polygons.length, height: h, width: w, data };
}
