// SPDX-License-Identifier: Apache-2.0
/**
 * Synthetic "shapes" images: one image and its instance annotations, deterministic from a seed. Browser-safe.
 *
 * - Background: a two-colour linear gradient, a diagonal sinusoidal pattern and per-pixel noise.
 * - Objects: filled circles/ellipses, triangles, squares/rectangles, five-point stars and hexagons, randomly
 *   rotated and stretched, each with its own colour, a shading gradient and noise. Sizes (square root of the
 *   area) are log-uniform between about 10 px and 55% of the shorter image side, so they spread over the
 *   SOLO scale ranges.
 * - Objects are painted in order and may occlude earlier ones; a placement is rejected when it would hide more
 *   than 40% of an earlier object (every object stays at least 60% visible... of what was visible before).
 * - The object's mask is its polygon rasterised with the pycocotools port, so the annotation and the painted
 *   pixels agree exactly. Annotations describe the **visible** part: an object nobody covers is annotated with
 *   its polygon (coordinates rounded to 0.01, the rounded polygon is what gets painted); an occluded object with
 *   the compressed RLE of its visible pixels. `bbox` and `area` are computed from the visible mask.
 */
import { fromRleData, rleArea, rleDecodeRowMajor, rleEncodeRowMajor, rleFrPoly, rleToBbox, type RLE } from '@solo-ts/cocoapi';
import { SeededRandom } from '@solo-ts/core';

export const SHAPE_CATEGORIES = ['circle', 'triangle', 'square', 'star', 'hexagon'] as const;
export type ShapeName = (typeof SHAPE_CATEGORIES)[number];

export interface ShapeAnnotation {
  /** 1-based COCO category id (index in SHAPE_CATEGORIES + 1). */
  categoryId: number;
  segmentation: number[][] | RLE;
  bbox: [number, number, number, number];
  area: number;
  /** True when another object covers part of it (segmentation is then an RLE). */
  occluded: boolean;
}

export interface RenderedImage {
  width: number;
  height: number;
  /** RGB, HWC. */
  rgb: Uint8Array;
  annotations: ShapeAnnotation[];
}

export interface RenderOptions {
  width: number;
  height: number;
  seed: number;
  /** Objects per image: uniform in [minObjects, maxObjects] (default 1..6). */
  minObjects?: number;
  maxObjects?: number;
  /** Smallest object size, sqrt(area) in px (default 10). */
  minSize?: number;
  /** Largest object size as a fraction of the shorter side (default 0.55). */
  maxSizeFrac?: number;
}

const round2 = (v: number): number => Math.round(v * 100) / 100;

/** Unit polygon (radius 1) of a shape, as [x, y] pairs. */
function unitShape(name: ShapeName): number[] {
  const pts: number[] = [];
  const ring = (n: number, r: (i: number) => number, phase = -Math.PI / 2): void => {
    for (let i = 0; i < n; i++) {
      const a = phase + (2 * Math.PI * i) / n;
      pts.push(r(i) * Math.cos(a), r(i) * Math.sin(a));
    }
  };
  switch (name) {
    case 'circle':
      ring(40, () => 1);
      break;
    case 'triangle':
      ring(3, () => 1);
      break;
    case 'square':
      ring(4, () => 1, -Math.PI / 4);
      break;
    case 'star':
      ring(10, (i) => (i % 2 === 0 ? 1 : 0.45));
      break;
    case 'hexagon':
      ring(6, () => 1);
      break;
  }
  return pts;
}

function polygonArea(p: number[]): number {
  let a = 0;
  for (let i = 0; i < p.length; i += 2) {
    const j = (i + 2) % p.length;
    a += p[i] * p[j + 1] - p[j] * p[i + 1];
  }
  return Math.abs(a) / 2;
}

function rasterise(poly: number[], h: number, w: number): Uint8Array {
  return rleDecodeRowMajor(rleFrPoly(poly, poly.length / 2, h, w));
}

/** Render one image. */
export function renderShapesImage(opts: RenderOptions): RenderedImage {
  const { width: w, height: h } = opts;
  const rng = new SeededRandom(opts.seed);
  const rgb = new Uint8Array(w * h * 3);
  // ---- background
  const c0 = [rng.randint(256), rng.randint(256), rng.randint(256)];
  const c1 = [rng.randint(256), rng.randint(256), rng.randint(256)];
  const ang = rng.random() * 2 * Math.PI;
  const dx = Math.cos(ang);
  const dy = Math.sin(ang);
  const span = Math.abs(dx) * w + Math.abs(dy) * h;
  const freq = 0.02 + rng.random() * 0.08;
  const amp = 10 + rng.random() * 25;
  const phase = rng.random() * 2 * Math.PI;
  const noise = 6 + rng.random() * 10;
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      const t = ((x - w / 2) * dx + (y - h / 2) * dy) / span + 0.5;
      const wave = amp * Math.sin((x + y) * freq + phase);
      for (let c = 0; c < 3; c++) {
        const v = c0[c] * (1 - t) + c1[c] * t + wave + (rng.random() - 0.5) * 2 * noise;
        rgb[(y * w + x) * 3 + c] = v < 0 ? 0 : v > 255 ? 255 : Math.round(v);
      }
    }
  }
  // ---- objects
  const minObjects = opts.minObjects ?? 1;
  const maxObjects = opts.maxObjects ?? 6;
  const count = minObjects + rng.randint(maxObjects - minObjects + 1);
  const minSize = opts.minSize ?? 10;
  const maxSize = Math.max(minSize * 1.5, (opts.maxSizeFrac ?? 0.55) * Math.min(w, h));
  const objs: { cat: number; poly: number[]; full: Uint8Array; visible: Uint8Array; visArea: number }[] = [];
  for (let k = 0; k < count; k++) {
    const cat = rng.randint(SHAPE_CATEGORIES.length);
    const unit = unitShape(SHAPE_CATEGORIES[cat]);
    for (let attempt = 0; attempt < 25; attempt++) {
      const size = minSize * Math.pow(maxSize / minSize, rng.random());
      const rot = rng.random() * 2 * Math.PI;
      const stretch = 1 + rng.random() * 0.5;
      const sx = cat === 1 || cat === 3 || cat === 4 ? 1 : stretch; // circles/squares may become ellipses/rectangles
      const sy = 1;
      // shape at unit scale, stretched and rotated
      const p = new Array<number>(unit.length);
      for (let i = 0; i < unit.length; i += 2) {
        const x = unit[i] * sx;
        const y = unit[i + 1] * sy;
        p[i] = x * Math.cos(rot) - y * Math.sin(rot);
        p[i + 1] = x * Math.sin(rot) + y * Math.cos(rot);
      }
      let r = size / Math.sqrt(polygonArea(p));
      let minX = Infinity;
      let maxX = -Infinity;
      let minY = Infinity;
      let maxY = -Infinity;
      for (let i = 0; i < p.length; i += 2) {
        minX = Math.min(minX, p[i]);
        maxX = Math.max(maxX, p[i]);
        minY = Math.min(minY, p[i + 1]);
        maxY = Math.max(maxY, p[i + 1]);
      }
      r = Math.min(r, (w - 2) / (maxX - minX), (h - 2) / (maxY - minY));
      const cx = 1 - minX * r + rng.random() * Math.max(0, w - 2 - (maxX - minX) * r);
      const cy = 1 - minY * r + rng.random() * Math.max(0, h - 2 - (maxY - minY) * r);
      const poly = p.map((v, i) => round2((i % 2 === 0 ? cx : cy) + v * r));
      const full = rasterise(poly, h, w);
      let area = 0;
      for (let i = 0; i < full.length; i++) area += full[i];
      if (area < 16) continue;
      // occlusion check against the visible parts of earlier objects
      let ok = true;
      for (const o of objs) {
        let hidden = 0;
        for (let i = 0; i < full.length; i++) if (full[i] && o.visible[i]) hidden++;
        if (hidden > 0.4 * o.visArea || o.visArea - hidden < 16) {
          ok = false;
          break;
        }
      }
      if (!ok) continue;
      for (const o of objs) {
        for (let i = 0; i < full.length; i++) if (full[i] && o.visible[i]) o.visible[i] = 0;
        o.visArea = 0;
        for (let i = 0; i < full.length; i++) o.visArea += o.visible[i];
      }
      objs.push({ cat, poly, full, visible: full.slice(), visArea: area });
      // paint
      const col = [rng.randint(256), rng.randint(256), rng.randint(256)];
      const shade = 0.25 + rng.random() * 0.35;
      const sAng = rng.random() * 2 * Math.PI;
      const onoise = 3 + rng.random() * 8;
      const ext = Math.max(1, r * Math.max(maxX - minX, maxY - minY));
      for (let y = 0; y < h; y++) {
        for (let x = 0; x < w; x++) {
          const i = y * w + x;
          if (!full[i]) continue;
          const t = ((x - cx) * Math.cos(sAng) + (y - cy) * Math.sin(sAng)) / ext; // -0.5..0.5
          const f = 1 + shade * t;
          for (let c = 0; c < 3; c++) {
            const v = col[c] * f + (rng.random() - 0.5) * 2 * onoise;
            rgb[i * 3 + c] = v < 0 ? 0 : v > 255 ? 255 : Math.round(v);
          }
        }
      }
      break;
    }
  }
  // ---- annotations (visible parts)
  const annotations: ShapeAnnotation[] = objs.map((o) => {
    const occluded = o.visArea < o.full.reduce((a, b) => a + b, 0);
    const R = rleEncodeRowMajor(o.visible, h, w);
    const box = rleToBbox(R);
    return {
      categoryId: o.cat + 1,
      segmentation: occluded ? fromRleData(R) : [o.poly],
      bbox: [box[0], box[1], box[2], box[3]],
      area: rleArea(R),
      occluded,
    };
  });
  return { width: w, height: h, rgb, annotations };
}
