// SPDX-License-Identifier: Apache-2.0
/**
 * COCOeval speed benchmark on a large synthetic COCO-like case.
 *
 *   node --conditions=source --import tsx packages/evaluation/scripts/bench-eval.ts \
 *     [--images 2000] [--dets 40] [--runs 3] [--out /tmp/solo-bench-eval] [--iou-type segm|bbox|both]
 *
 * Writes `gt.json` / `dt.json` into `--out` (reused when the parameters match), so pycocotools can be timed on
 * the same files with `bench-pycocotools.py`. Ground truth: random radial polygons (some multi-part), ~1% crowd
 * regions as uncompressed RLE, shoelace areas, 80 categories; detections: jittered copies of most gts,
 * duplicates, random false positives, compressed RLE masks with boxes. Timed per run: JSON parse + COCO +
 * loadRes (segm: bbox dropped, as mmdetection) + evaluate + accumulate + summarize; the median is reported.
 * The stats are written to `<out>/stats-ts-<iouType>.json` for comparison with pycocotools.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { frPoly, merge, toBbox, decodeToColumnMajor, type CocoAnnotation, type RLE } from '@solo-ts/cocoapi';
import { COCO, COCOeval } from '../src/index.js';

function arg(name: string, def: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && i + 1 < process.argv.length ? process.argv[i + 1] : def;
}

/** mulberry32: small deterministic PRNG. */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const round2 = (v: number): number => Math.round(v * 100) / 100;

function radialPolygon(r: () => number, cx: number, cy: number, radius: number, n: number): number[] {
  const p: number[] = [];
  for (let i = 0; i < n; i++) {
    const a = (2 * Math.PI * i) / n;
    const rr = radius * (0.6 + 0.4 * r());
    p.push(round2(cx + rr * Math.cos(a)), round2(cy + rr * Math.sin(a)));
  }
  return p;
}

function shoelace(p: number[]): number {
  let s = 0;
  for (let i = 0; i < p.length; i += 2) {
    const j = (i + 2) % p.length;
    s += p[i] * p[j + 1] - p[j] * p[i + 1];
  }
  return Math.abs(s) / 2;
}

function extent(parts: number[][]): number[] {
  let x0 = Infinity, y0 = Infinity, x1 = -Infinity, y1 = -Infinity;
  for (const p of parts) {
    for (let i = 0; i < p.length; i += 2) {
      x0 = Math.min(x0, p[i]); x1 = Math.max(x1, p[i]);
      y0 = Math.min(y0, p[i + 1]); y1 = Math.max(y1, p[i + 1]);
    }
  }
  return [x0, y0, x1 - x0, y1 - y0];
}

function generate(nImages: number, detsPerImage: number): { gt: object; dt: CocoAnnotation[] } {
  const r = rng(20261121);
  const categories = Array.from({ length: 80 }, (_, i) => ({ id: i + 1 + Math.floor(i / 10), name: `class_${i}` }));
  const images: { id: number; height: number; width: number; file_name: string }[] = [];
  const annotations: CocoAnnotation[] = [];
  const dt: CocoAnnotation[] = [];
  let annId = 1;
  for (let im = 0; im < nImages; im++) {
    const h = 360 + Math.floor(r() * 281);
    const w = 480 + Math.floor(r() * 161);
    const id = 100000 + im * 7;
    images.push({ id, height: h, width: w, file_name: `${id}.jpg` });
    const nGt = Math.floor(r() * 15);
    const gtsHere: { parts: number[][]; cat: number }[] = [];
    for (let g = 0; g < nGt; g++) {
      const cat = categories[Math.floor(r() ** 2 * 80)].id;
      const radius = Math.exp(Math.log(4) + r() * (Math.log(200) - Math.log(4)));
      const cx = r() * w;
      const cy = r() * h;
      const parts = [radialPolygon(r, cx, cy, radius, 8 + Math.floor(r() * 33))];
      if (r() < 0.1) parts.push(radialPolygon(r, cx + radius, cy, radius / 2, 8));
      const crowd = r() < 0.01;
      if (crowd) {
        const rle = merge(frPoly(parts, h, w));
        const col = decodeToColumnMajor(rle);
        const counts: number[] = [];
        let v = 0, run = 0;
        for (const px of col) { if (px !== v) { counts.push(run); run = 0; v = px; } run++; }
        counts.push(run);
        const area = counts.reduce((s, c, i) => (i % 2 ? s + c : s), 0);
        annotations.push({ id: annId++, image_id: id, category_id: cat, iscrowd: 1, area, bbox: toBbox(rle), segmentation: { size: [h, w], counts } });
      } else {
        annotations.push({
          id: annId++, image_id: id, category_id: cat, iscrowd: 0,
          area: parts.reduce((s, p) => s + shoelace(p), 0), bbox: extent(parts), segmentation: parts,
        });
        gtsHere.push({ parts, cat });
      }
    }
    const dets: { parts: number[][]; cat: number }[] = [];
    for (const g of gtsHere) {
      if (r() < 0.15) continue;
      const copies = r() < 0.1 ? 2 : 1;
      for (let c = 0; c < copies; c++) {
        const dx = (r() - 0.5) * 8, dy = (r() - 0.5) * 8, s = 0.85 + 0.3 * r();
        const [bx, by, bw, bh] = extent(g.parts);
        const cx = bx + bw / 2, cy = by + bh / 2;
        const parts = g.parts.map((p) => p.map((v, i) => round2((i % 2 ? cy + (v - cy) * s + dy : cx + (v - cx) * s + dx) + (r() - 0.5) * 2)));
        dets.push({ parts, cat: r() < 0.9 ? g.cat : categories[Math.floor(r() * 80)].id });
      }
    }
    while (dets.length < detsPerImage) {
      const radius = Math.exp(Math.log(4) + r() * (Math.log(150) - Math.log(4)));
      dets.push({ parts: [radialPolygon(r, r() * w, r() * h, radius, 12)], cat: categories[Math.floor(r() * 80)].id });
    }
    for (const d of dets.slice(0, Math.max(detsPerImage, dets.length))) {
      const rle: RLE = merge(frPoly(d.parts, h, w));
      dt.push({ image_id: id, category_id: d.cat, segmentation: rle, bbox: toBbox(rle), score: Math.round(r() * 1e6) / 1e6 });
    }
  }
  return { gt: { images, annotations, categories }, dt };
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
}

function main(): void {
  const nImages = Number(arg('images', '2000'));
  const detsPerImage = Number(arg('dets', '40'));
  const runs = Number(arg('runs', '3'));
  const out = arg('out', '/tmp/solo-bench-eval');
  const which = arg('iou-type', 'both');
  mkdirSync(out, { recursive: true });
  const meta = JSON.stringify({ nImages, detsPerImage, version: 1 });
  if (!existsSync(join(out, 'meta.json')) || readFileSync(join(out, 'meta.json'), 'utf8') !== meta) {
    const t0 = performance.now();
    const { gt, dt } = generate(nImages, detsPerImage);
    writeFileSync(join(out, 'gt.json'), JSON.stringify(gt));
    writeFileSync(join(out, 'dt.json'), JSON.stringify(dt));
    writeFileSync(join(out, 'meta.json'), meta);
    console.log(`generated in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
  }
  const gtText = readFileSync(join(out, 'gt.json'), 'utf8');
  const dtText = readFileSync(join(out, 'dt.json'), 'utf8');
  const gt0 = JSON.parse(gtText);
  const dt0 = JSON.parse(dtText);
  console.log(`${gt0.images.length} images, ${gt0.annotations.length} gt annotations, ${dt0.length} detections, 80 categories`);
  for (const iouType of which === 'both' ? (['segm', 'bbox'] as const) : [which as 'segm' | 'bbox']) {
    const totals: number[] = [];
    const evals: number[] = [];
    const cpus: number[] = [];
    let stats: number[] = [];
    for (let i = 0; i < runs; i++) {
      const t0 = performance.now();
      const c0 = process.cpuUsage();
      const gt = new COCO(JSON.parse(gtText));
      let dets: CocoAnnotation[] = JSON.parse(dtText);
      if (iouType === 'segm') dets = dets.map(({ bbox: _b, ...rest }) => rest as CocoAnnotation);
      const dt = gt.loadRes(dets);
      const t1 = performance.now();
      const E = new COCOeval(gt, dt, iouType);
      E.evaluate();
      E.accumulate();
      stats = E.summarize();
      const t2 = performance.now();
      const c = process.cpuUsage(c0);
      cpus.push((c.user + c.system) / 1e6);
      totals.push((t2 - t0) / 1000);
      evals.push((t2 - t1) / 1000);
      console.log(`  ${iouType} run ${i + 1}: total ${totals[i].toFixed(2)} s wall, ${cpus[i].toFixed(2)} s cpu (evaluate+accumulate+summarize ${evals[i].toFixed(2)} s wall)`);
    }
    writeFileSync(join(out, `stats-ts-${iouType}.json`), JSON.stringify(stats));
    console.log(`${iouType}: median total ${median(totals).toFixed(2)} s wall / ${median(cpus).toFixed(2)} s cpu, median evaluate+accumulate+summarize ${median(evals).toFixed(2)} s wall; AP ${stats[0]}`);
  }
}

main();
