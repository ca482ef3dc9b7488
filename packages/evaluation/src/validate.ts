// SPDX-License-Identifier: Apache-2.0
/**
 * Input checks for `runEval` / `solo eval`: a ground-truth COCO dataset and a detections list are checked
 * before evaluation, and every problem becomes a `SoloError` naming the file and the annotation index / id
 * (pycocotools would fail later with a bare KeyError, AssertionError or TypeError, or silently misbehave).
 * The JSON text itself is parsed by `@solo-ts/cocoapi`'s `parseJsonText` (Python `json`'s rules).
 */
import { SoloError } from '@solo-ts/core';
import type { CocoAnnotation, CocoDataset } from '@solo-ts/cocoapi';
import type { IouType } from './params.js';

const SEGM_FORMATS =
  'a list of polygons [[x1, y1, x2, y2, ...], ...] or an RLE object {"size": [h, w], "counts": "..." | [runs]}';

function fail(message: string, expected?: string): never {
  throw new SoloError(message, { code: 'DATASET', expected });
}

const isObj = (x: unknown): x is Record<string, unknown> => typeof x === 'object' && x !== null && !Array.isArray(x);
const isNum = (x: unknown): x is number => typeof x === 'number' && !Number.isNaN(x);
const isId = (x: unknown): boolean => typeof x === 'number' || typeof x === 'string';

/** Why `seg` is not a valid segmentation, or null. */
export function segmentationProblem(seg: unknown): string | null {
  if (Array.isArray(seg)) {
    for (let i = 0; i < seg.length; i++) {
      const p = seg[i];
      if (!Array.isArray(p)) return `polygon ${i} is not a list of numbers`;
      if (!p.every((v) => typeof v === 'number' && Number.isFinite(v))) return `polygon ${i} holds a value that is not a finite number`;
    }
    return null;
  }
  if (isObj(seg) && 'counts' in seg && 'size' in seg) {
    const size = seg.size;
    if (!Array.isArray(size) || size.length !== 2 || !size.every((v) => Number.isInteger(v) && (v as number) >= 0)) {
      return 'RLE "size" must be [height, width]';
    }
    const counts = seg.counts;
    if (typeof counts === 'string') return null;
    if (Array.isArray(counts)) {
      if (!counts.every((v) => Number.isInteger(v) && (v as number) >= 0)) return 'uncompressed RLE "counts" must be non-negative integers';
      const total = counts.reduce((s: number, v: number) => s + v, 0);
      const hw = (size[0] as number) * (size[1] as number);
      if (total !== hw) return `uncompressed RLE "counts" add up to ${total}, expected height*width = ${hw}`;
      return null;
    }
    return 'RLE "counts" must be a string or a list of run lengths';
  }
  return 'segmentation of unknown format';
}

function checkBox(b: unknown): boolean {
  return Array.isArray(b) && b.length === 4 && b.every((v) => isNum(v));
}

/** Check a ground-truth dataset for evaluation with `iouType`. */
export function validateGroundTruth(gt: unknown, file: string, iouType: IouType): CocoDataset {
  if (!isObj(gt)) fail(`${file}: ground truth must be a JSON object`, 'a COCO dataset {"images": [...], "annotations": [...], "categories": [...]}');
  for (const key of ['images', 'annotations', 'categories']) {
    if (!(key in gt)) fail(`${file}: missing key "${key}"`, 'a COCO dataset {"images": [...], "annotations": [...], "categories": [...]}');
    if (!Array.isArray(gt[key])) fail(`${file}: "${key}" must be a list`);
  }
  const images = gt.images as unknown[];
  images.forEach((img, i) => {
    if (!isObj(img) || !isId(img.id)) fail(`${file}: image #${i} has no "id"`);
    if (iouType === 'segm' && (!isNum(img.height) || !isNum(img.width))) {
      fail(`${file}: image #${i} (id ${String(img.id)}) needs numeric "height" and "width" for segm evaluation`);
    }
  });
  (gt.categories as unknown[]).forEach((c, i) => {
    if (!isObj(c) || !isId(c.id)) fail(`${file}: category #${i} has no "id"`);
  });
  (gt.annotations as unknown[]).forEach((a, i) => {
    if (!isObj(a)) fail(`${file}: annotation #${i} is not an object`);
    const where = `${file}: annotation #${i} (id ${String(a.id)})`;
    for (const key of ['id', 'image_id', 'category_id']) if (!isId(a[key])) fail(`${where}: missing or invalid "${key}"`);
    if (!isNum(a.area)) fail(`${where}: missing or non-numeric "area"`, 'COCOeval assigns gts to small/medium/large by their "area" field');
    if ('iscrowd' in a && !(isNum(a.iscrowd) || typeof a.iscrowd === 'boolean')) fail(`${where}: "iscrowd" must be 0 or 1`);
    if (iouType === 'segm') {
      if (!('segmentation' in a)) fail(`${where}: missing "segmentation"`, SEGM_FORMATS);
      const problem = segmentationProblem(a.segmentation);
      if (problem) fail(`${where}: ${problem}`, SEGM_FORMATS);
    } else if (!checkBox(a.bbox)) {
      fail(`${where}: missing or invalid "bbox"`, '[x, y, width, height]');
    }
  });
  return gt as CocoDataset;
}

/** Check a detections list (COCO results format) against the gt's image ids. */
export function validateDetections(dt: unknown, file: string, imageIds: ReadonlySet<unknown>, iouType: IouType): CocoAnnotation[] {
  if (!Array.isArray(dt)) {
    fail(`${file}: detections must be a JSON list`, 'COCO results: [{"image_id", "category_id", "score", "segmentation" | "bbox"}, ...]');
  }
  dt.forEach((d, i) => {
    if (!isObj(d)) fail(`${file}: detection #${i} is not an object`);
    const where = `${file}: detection #${i} (image_id ${JSON.stringify(d.image_id)})`;
    if (!isId(d.image_id)) fail(`${where}: missing or invalid "image_id"`);
    if (!imageIds.has(d.image_id)) fail(`${where}: image_id ${JSON.stringify(d.image_id)} is not an image of the ground truth`);
    if (!isId(d.category_id)) fail(`${where}: missing or invalid "category_id"`);
    if (!isNum(d.score)) fail(`${where}: missing or non-numeric "score"`);
    if (iouType === 'segm') {
      if (!('segmentation' in d)) fail(`${where}: missing "segmentation" (needed for --iou-type segm)`, SEGM_FORMATS);
      const problem = segmentationProblem(d.segmentation);
      if (problem) fail(`${where}: ${problem}`, SEGM_FORMATS);
    } else if ('bbox' in d || !('segmentation' in d)) {
      if (!checkBox(d.bbox)) fail(`${where}: missing or invalid "bbox" (needed for --iou-type bbox)`, '[x, y, width, height]');
    } else {
      const problem = segmentationProblem(d.segmentation);
      if (problem) fail(`${where}: ${problem}`, SEGM_FORMATS);
    }
  });
  return dt as CocoAnnotation[];
}
