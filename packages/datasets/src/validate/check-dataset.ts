// SPDX-License-Identifier: Apache-2.0
/**
 * `checkDataset`: validate a COCO instances file and its images before training (`solo check-dataset`).
 *
 * Reports every problem with the JSON path and annotation id:
 * - everything `scanCoco` finds (malformed JSON, missing keys, wrong types, NaN, duplicate ids, unknown
 *   segmentation formats, RLE sizes, image ids pointing nowhere, undeclared categories);
 * - polygons with fewer than 3 points or an odd number of coordinates, polygon or box coordinates outside the
 *   image, boxes mmdetection skips (w or h < 1, area <= 0, no overlap with the image), boxes that do not match
 *   their segmentation (IoU < 0.5), empty segmentations, annotations without segmentation, images listed twice;
 * - every image decoded once (`decodeImage`, as `LoadImageFromFile` does, EXIF orientation applied): missing or
 *   unreadable files and sizes that differ from the JSON `height`/`width`.
 * The summary counts instances per class (crowd separately), COCO size buckets (area < 32^2, < 96^2, larger)
 * and, given `scaleRanges` (a SOLO head's `scale_ranges`), how many instances fall in each range at the
 * training scale (sqrt of the box area after the keep-ratio resize to `trainScale`, like SOLO's targets).
 * Node-only.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { COCO_INSTANCES, annToRleData, parseJsonText, rleArea, rleToBbox } from '@solo-ts/cocoapi';
import { DatasetError } from '@solo-ts/core';
import { rescaleSize } from '@solo-ts/ops';
import { scanCoco, segmentationKind, type CocoProblem } from '../coco/parse.js';
import type { CheckedCocoAnnotation, CheckedCocoImage } from '../coco/types.js';
import { decodeImage } from '../transforms/decode-image.js';

export interface CheckDatasetOptions {
  annFile: string;
  /** Image directory (default: the annotation file's `../<split>` is not guessed; give it, or skip images). */
  imgDir?: string;
  /** Decode the images (default true when imgDir is given). */
  checkImages?: boolean;
  /** SOLO `scale_ranges` to histogram the instance sizes against. */
  scaleRanges?: [number, number][];
  /** Training resize scale [w, h] (keep ratio) applied before measuring sizes for `scaleRanges`. */
  trainScale?: [number, number];
  /** Images decoded concurrently (default 4). */
  concurrency?: number;
  onProgress?: (done: number, total: number) => void;
}

export interface ClassSummary {
  id: number;
  name: string;
  instances: number;
  crowd: number;
}

export interface CheckReport {
  annFile: string;
  imgDir?: string;
  images: number;
  annotations: number;
  imagesWithoutAnnotations: number;
  imagesChecked: number;
  classes: ClassSummary[];
  /** COCO area buckets of non-crowd instances. */
  sizes: { small: number; medium: number; large: number };
  scaleRanges?: {
    trainScale?: [number, number];
    ranges: { range: [number, number]; instances: number }[];
    belowAll: number;
    aboveAll: number;
  };
  problems: CocoProblem[];
  errors: number;
  warnings: number;
}

function boxIou(a: number[], b: number[]): number {
  const ix = Math.max(0, Math.min(a[0] + a[2], b[0] + b[2]) - Math.max(a[0], b[0]));
  const iy = Math.max(0, Math.min(a[1] + a[3], b[1] + b[3]) - Math.max(a[1], b[1]));
  const inter = ix * iy;
  const u = a[2] * a[3] + b[2] * b[3] - inter;
  return u > 0 ? inter / u : 0;
}

function checkAnnotation(ann: CheckedCocoAnnotation, img: CheckedCocoImage, path: string, problems: CocoProblem[]): void {
  const at = { annId: ann.id, imageId: img.id, path };
  const warn = (kind: CocoProblem['kind'], message: string, extra: Partial<CocoProblem> = {}): void => {
    problems.push({ severity: 'warning', kind, message: `annotation id ${ann.id}: ${message}`, ...at, ...extra });
  };
  const [x, y, w, h] = ann.bbox;
  const tol = 1;
  if (w < 1 || h < 1 || ann.area <= 0) warn('bbox', `box [${ann.bbox.join(', ')}] with area ${ann.area} is skipped by the dataset (needs w >= 1, h >= 1, area > 0)`, { path: `${path}.bbox` });
  const interW = Math.max(0, Math.min(x + w, img.width) - Math.max(x, 0));
  const interH = Math.max(0, Math.min(y + h, img.height) - Math.max(y, 0));
  if (interW * interH === 0) warn('out-of-image', `box [${ann.bbox.join(', ')}] does not overlap image id ${img.id} (${img.width}x${img.height}); the dataset skips it`, { path: `${path}.bbox` });
  else if (x < -tol || y < -tol || x + w > img.width + tol || y + h > img.height + tol) {
    warn('out-of-image', `box [${ann.bbox.join(', ')}] extends outside image id ${img.id} (${img.width}x${img.height})`, { path: `${path}.bbox` });
  }
  const seg = ann.segmentation;
  const kind = segmentationKind(seg);
  if (kind === 'empty') {
    warn('no-segmentation', 'has no segmentation; mask training ignores it', { path: `${path}.segmentation` });
    return;
  }
  if (kind === 'polygons') {
    const polys = seg as number[][];
    let kept = 0;
    polys.forEach((p, k) => {
      if (p.length < 6 || p.length % 2 !== 0) {
        warn('polygon', `polygon ${k} has ${p.length} coordinates (needs an even number, at least 6); it is dropped`, { path: `${path}.segmentation[${k}]` });
        return;
      }
      kept++;
      for (let i = 0; i < p.length; i += 2) {
        if (p[i] < -tol || p[i] > img.width + tol || p[i + 1] < -tol || p[i + 1] > img.height + tol) {
          warn('out-of-image', `polygon ${k} has point (${p[i]}, ${p[i + 1]}) outside image id ${img.id} (${img.width}x${img.height})`, { path: `${path}.segmentation[${k}]` });
          break;
        }
      }
    });
    if (kept === 0) {
      warn('polygon', 'no usable polygon is left; the instance is ignored in training', { path: `${path}.segmentation` });
      return;
    }
  }
  let R;
  try {
    const usable = kind === 'polygons' ? (seg as number[][]).filter((p) => p.length >= 6 && p.length % 2 === 0) : seg;
    R = annToRleData(usable, img.height, img.width);
  } catch (e) {
    problems.push({ severity: 'error', kind: 'rle', message: `annotation id ${ann.id}: cannot decode the segmentation: ${(e as Error).message}`, ...at, path: `${path}.segmentation` });
    return;
  }
  const area = rleArea(R);
  if (area === 0) {
    warn('polygon', 'segmentation covers no pixel', { path: `${path}.segmentation` });
    return;
  }
  const mb = rleToBbox(R);
  if (w >= 1 && h >= 1 && boxIou(ann.bbox, mb) < 0.5) {
    warn('bbox', `box [${ann.bbox.map((v) => +v.toFixed(2)).join(', ')}] does not match its segmentation (mask box [${mb.join(', ')}], IoU ${boxIou(ann.bbox, mb).toFixed(2)})`, { path: `${path}.bbox` });
  }
}

export async function checkDataset(options: CheckDatasetOptions): Promise<CheckReport> {
  const file = options.annFile;
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (e) {
    throw new DatasetError(`cannot read annotation file ${file}: ${(e as { code?: string }).code === 'ENOENT' ? 'file not found' : (e as Error).message}`, { location: { file } });
  }
  const report: CheckReport = {
    annFile: file,
    imgDir: options.imgDir,
    images: 0,
    annotations: 0,
    imagesWithoutAnnotations: 0,
    imagesChecked: 0,
    classes: [],
    sizes: { small: 0, medium: 0, large: 0 },
    problems: [],
    errors: 0,
    warnings: 0,
  };
  let raw: unknown;
  try {
    raw = parseJsonText(text, file, COCO_INSTANCES);
  } catch (e) {
    const err = e as DatasetError;
    report.problems.push({ severity: 'error', kind: 'file', message: err.format ? err.format() : String(e) });
    report.errors = 1;
    return report;
  }
  const scan = scanCoco(raw);
  const problems = report.problems;
  problems.push(...scan.problems);
  report.images = scan.images.length;
  report.annotations = Array.isArray((raw as { annotations?: unknown }).annotations) ? (raw as { annotations: unknown[] }).annotations.length : 0;

  // annotation-level checks on the structurally valid annotations
  const annIndex = new Map<CheckedCocoAnnotation, number>();
  ((raw as { annotations?: unknown[] }).annotations ?? []).forEach((a, i) => annIndex.set(a as CheckedCocoAnnotation, i));
  const perClass = new Map(scan.categories.map((c) => [c.id, { id: c.id, name: c.name, instances: 0, crowd: 0 }]));
  const ranges = options.scaleRanges;
  const rangeCounts = ranges ? ranges.map(() => 0) : [];
  let below = 0;
  let above = 0;
  for (const ann of scan.annotations) {
    const img = scan.imagesById.get(ann.image_id)!;
    checkAnnotation(ann, img, `annotations[${annIndex.get(ann)}]`, problems);
    const cls = perClass.get(ann.category_id)!;
    if (ann.iscrowd) {
      cls.crowd++;
      continue;
    }
    cls.instances++;
    if (ann.area < 32 * 32) report.sizes.small++;
    else if (ann.area < 96 * 96) report.sizes.medium++;
    else report.sizes.large++;
    if (ranges) {
      const f = options.trainScale ? rescaleSize(img.width, img.height, options.trainScale).factor : 1;
      const s = Math.sqrt(Math.max(0, ann.bbox[2] * f) * Math.max(0, ann.bbox[3] * f));
      let hit = false;
      ranges.forEach(([lo, hi], i) => {
        if (s >= lo && s <= hi) {
          rangeCounts[i]++;
          hit = true;
        }
      });
      if (!hit) {
        if (s < Math.min(...ranges.map((r) => r[0]))) below++;
        else above++;
      }
    }
  }
  report.classes = [...perClass.values()];
  if (ranges) report.scaleRanges = { trainScale: options.trainScale, ranges: ranges.map((r, i) => ({ range: r, instances: rangeCounts[i] })), belowAll: below, aboveAll: above };
  for (const img of scan.images) if (!scan.annsByImage.has(img.id)) report.imagesWithoutAnnotations++;
  const names = new Map<string, number>();
  scan.images.forEach((img) => {
    const prev = names.get(img.file_name);
    if (prev !== undefined) problems.push({ severity: 'warning', kind: 'image', message: `image id ${img.id}: file_name "${img.file_name}" is also used by image id ${prev}`, imageId: img.id });
    else names.set(img.file_name, img.id);
  });

  // images
  const checkImages = options.checkImages ?? options.imgDir !== undefined;
  if (checkImages) {
    const dir = options.imgDir ?? '';
    const list = scan.images;
    let next = 0;
    let done = 0;
    const work = async (): Promise<void> => {
      while (next < list.length) {
        const img = list[next++];
        const path = dir ? join(dir, img.file_name) : img.file_name;
        try {
          const bytes = await readFile(path);
          const dec = await decodeImage(bytes, 'color');
          if (dec.height !== img.height || dec.width !== img.width) {
            problems.push({ severity: 'error', kind: 'image-size', message: `image id ${img.id} (${path}): decoded size ${dec.width}x${dec.height} differs from the JSON ${img.width}x${img.height} (width x height)`, imageId: img.id });
          }
        } catch (e) {
          const code = (e as { code?: string }).code;
          problems.push({ severity: 'error', kind: 'image-decode', message: `image id ${img.id}: ${code === 'ENOENT' ? `file not found: ${path}` : `cannot decode ${path}: ${(e as Error).message}`}`, imageId: img.id });
        }
        report.imagesChecked++;
        options.onProgress?.(++done, list.length);
      }
    };
    await Promise.all(Array.from({ length: Math.max(1, options.concurrency ?? 4) }, work));
  }
  report.errors = problems.filter((p) => p.severity === 'error').length;
  report.warnings = problems.length - report.errors;
  return report;
}

/** Human-readable report. */
export function formatCheckReport(r: CheckReport): string {
  const lines: string[] = [];
  lines.push(`annotation file: ${r.annFile}`);
  if (r.imgDir !== undefined) lines.push(`image directory: ${r.imgDir} (${r.imagesChecked} images decoded)`);
  lines.push(`images: ${r.images} (${r.imagesWithoutAnnotations} without annotations), annotations: ${r.annotations}, classes: ${r.classes.length}`);
  if (r.classes.length) {
    const w = Math.max(5, ...r.classes.map((c) => c.name.length));
    lines.push('', `${'class'.padEnd(w)}  cat_id  instances  crowd`);
    for (const c of r.classes) lines.push(`${c.name.padEnd(w)}  ${String(c.id).padStart(6)}  ${String(c.instances).padStart(9)}  ${String(c.crowd).padStart(5)}`);
  }
  lines.push('', `object sizes (COCO area): small ${r.sizes.small}, medium ${r.sizes.medium}, large ${r.sizes.large}`);
  if (r.scaleRanges) {
    const s = r.scaleRanges;
    lines.push(`scale ranges (sqrt of box area${s.trainScale ? ` after resizing to ${s.trainScale.join('x')} keep-ratio` : ', original size'}):`);
    s.ranges.forEach((x, i) => lines.push(`  level ${i} [${x.range[0]}, ${x.range[1]}]: ${x.instances}`));
    lines.push(`  below every range: ${s.belowAll}, above every range: ${s.aboveAll}`);
  }
  lines.push('');
  if (r.problems.length === 0) lines.push('no problems found');
  else {
    lines.push(`${r.problems.length} problem${r.problems.length > 1 ? 's' : ''} (${r.errors} error${r.errors === 1 ? '' : 's'}, ${r.warnings} warning${r.warnings === 1 ? '' : 's'}):`);
    for (const p of r.problems) lines.push(`  ${p.severity === 'error' ? 'error  ' : 'warning'} ${p.message}${p.path ? `  [${p.path}]` : ''}`);
  }
  return lines.join('\n');
}
