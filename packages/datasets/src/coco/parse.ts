// SPDX-License-Identifier: Apache-2.0
/**
 * Structural validation of a parsed COCO instances file. Browser-safe.
 *
 * `scanCoco` walks images, categories and annotations once and reports every problem it finds with the JSON
 * path and annotation id. Problems are `error` (the dataset cannot be used: missing keys, wrong types, NaN
 * coordinates, duplicate ids, unknown segmentation formats, RLE of the wrong size) or `warning` (mmdetection
 * would silently skip or the data is suspicious: annotations whose image id points nowhere or whose category is
 * not declared, annotations without a segmentation, degenerate polygons, polygons outside the image).
 * `CocoDataset` throws a `DatasetError` on errors and prints warnings; `check-dataset` reports all of them.
 */
import type { CheckedCocoAnnotation, CheckedCocoCategory, CheckedCocoImage } from './types.js';

/** What an annotation file must be (for `parseJsonText`'s syntax errors). */

export type ProblemKind =
  | 'file'
  | 'structure'
  | 'image'
  | 'category'
  | 'duplicate-id'
  | 'missing-key'
  | 'wrong-type'
  | 'nan'
  | 'image-id'
  | 'category-id'
  | 'bbox'
  | 'segmentation-format'
  | 'polygon'
  | 'rle'
  | 'no-segmentation'
  | 'crowd'
  | 'out-of-image'
  | 'image-size'
  | 'image-decode';

export interface CocoProblem {
  severity: 'error' | 'warning';
  kind: ProblemKind;
  message: string;
  /** JSON path, e.g. `annotations[12].bbox`. */
  path?: string;
  annId?: number;
  imageId?: number;
}

export interface CocoScan {
  images: CheckedCocoImage[];
  categories: CheckedCocoCategory[];
  /** Annotations that passed validation and point to a known image and category, in file order. */
  annotations: CheckedCocoAnnotation[];
  imagesById: Map<number, CheckedCocoImage>;
  annsByImage: Map<number, CheckedCocoAnnotation[]>;
  problems: CocoProblem[];
}

function isObj(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
function isNum(v: unknown): v is number {
  return typeof v === 'number';
}
function describe(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'a list';
  if (typeof v === 'object') return 'a map';
  if (typeof v === 'number' && !Number.isFinite(v)) return String(v);
  return `${typeof v} ${JSON.stringify(v)}`;
}

/** Polygon list / RLE shape checks shared with LoadAnnotations. */
export function segmentationKind(seg: unknown): 'polygons' | 'rle' | 'uncompressed-rle' | 'empty' | 'unknown' {
  if (seg === undefined || seg === null) return 'empty';
  if (Array.isArray(seg)) {
    if (seg.length === 0) return 'empty';
    return seg.every((p) => Array.isArray(p)) ? 'polygons' : 'unknown';
  }
  if (isObj(seg) && Array.isArray(seg.size) && seg.counts !== undefined) {
    if (typeof seg.counts === 'string') return 'rle';
    if (Array.isArray(seg.counts)) return 'uncompressed-rle';
  }
  return 'unknown';
}

/** Validate a parsed COCO JSON value. Never throws; see `problems`. */
export function scanCoco(raw: unknown): CocoScan {
  const problems: CocoProblem[] = [];
  const scan: CocoScan = { images: [], categories: [], annotations: [], imagesById: new Map(), annsByImage: new Map(), problems };
  const err = (kind: ProblemKind, message: string, extra: Partial<CocoProblem> = {}): void => {
    problems.push({ severity: 'error', kind, message, ...extra });
  };
  const warn = (kind: ProblemKind, message: string, extra: Partial<CocoProblem> = {}): void => {
    problems.push({ severity: 'warning', kind, message, ...extra });
  };
  if (!isObj(raw)) {
    err('structure', `the file must hold a JSON object with \`images\`, \`annotations\` and \`categories\`, got ${describe(raw)}`);
    return scan;
  }
  if (!Array.isArray(raw.images)) {
    err('structure', raw.images === undefined ? 'missing key `images`' : `\`images\` must be a list, got ${describe(raw.images)}`, { path: 'images' });
  }
  if (!Array.isArray(raw.categories)) {
    err('structure', raw.categories === undefined ? 'missing key `categories`' : `\`categories\` must be a list, got ${describe(raw.categories)}`, { path: 'categories' });
  }
  if (raw.annotations !== undefined && !Array.isArray(raw.annotations)) {
    err('structure', `\`annotations\` must be a list, got ${describe(raw.annotations)}`, { path: 'annotations' });
  }

  // ---- images
  const images = Array.isArray(raw.images) ? raw.images : [];
  images.forEach((im: unknown, i) => {
    const path = `images[${i}]`;
    if (!isObj(im)) return err('image', `${path} must be a map, got ${describe(im)}`, { path });
    const id = im.id;
    if (!isNum(id) || !Number.isFinite(id)) {
      return err(id === undefined ? 'missing-key' : 'wrong-type', `${path} ${id === undefined ? 'has no `id`' : `has id ${describe(id)} (expected a number)`}`, { path: `${path}.id` });
    }
    let ok = true;
    if (typeof im.file_name !== 'string' || im.file_name.length === 0) {
      err(im.file_name === undefined ? 'missing-key' : 'wrong-type', `image id ${id}: \`file_name\` must be a non-empty string, got ${describe(im.file_name)}`, { path: `${path}.file_name`, imageId: id });
      ok = false;
    }
    for (const k of ['height', 'width'] as const) {
      const v = im[k];
      if (!isNum(v) || !Number.isInteger(v) || v <= 0) {
        err(v === undefined ? 'missing-key' : isNum(v) && !Number.isFinite(v) ? 'nan' : 'wrong-type', `image id ${id}: \`${k}\` must be a positive integer, got ${describe(v)}`, { path: `${path}.${k}`, imageId: id });
        ok = false;
      }
    }
    if (scan.imagesById.has(id)) {
      err('duplicate-id', `image id ${id} appears more than once (${path})`, { path, imageId: id });
      return;
    }
    if (!ok) return;
    const rec = im as CheckedCocoImage;
    scan.imagesById.set(id, rec);
    scan.images.push(rec);
  });

  // ---- categories
  const catIds = new Set<number>();
  const catNames = new Set<string>();
  const cats = Array.isArray(raw.categories) ? raw.categories : [];
  cats.forEach((c: unknown, i) => {
    const path = `categories[${i}]`;
    if (!isObj(c)) return err('category', `${path} must be a map, got ${describe(c)}`, { path });
    if (!isNum(c.id) || !Number.isFinite(c.id)) return err(c.id === undefined ? 'missing-key' : 'wrong-type', `${path}: \`id\` must be a number, got ${describe(c.id)}`, { path: `${path}.id` });
    if (typeof c.name !== 'string') return err(c.name === undefined ? 'missing-key' : 'wrong-type', `category id ${c.id}: \`name\` must be a string, got ${describe(c.name)}`, { path: `${path}.name` });
    if (catIds.has(c.id)) return err('duplicate-id', `category id ${c.id} appears more than once (${path})`, { path });
    if (catNames.has(c.name)) return err('duplicate-id', `category name "${c.name}" is used by more than one category (${path}, id ${c.id})`, { path });
    catIds.add(c.id);
    catNames.add(c.name);
    scan.categories.push(c as CheckedCocoCategory);
  });

  // ---- annotations
  const anns = Array.isArray(raw.annotations) ? raw.annotations : [];
  const annIds = new Set<number>();
  anns.forEach((a: unknown, i) => {
    const path = `annotations[${i}]`;
    if (!isObj(a)) return err('structure', `${path} must be a map, got ${describe(a)}`, { path });
    const id = a.id;
    if (!isNum(id) || !Number.isFinite(id)) {
      return err(id === undefined ? 'missing-key' : 'wrong-type', `${path} ${id === undefined ? 'has no `id`' : `has id ${describe(id)} (expected a number)`}`, { path: `${path}.id` });
    }
    const at = { path, annId: id };
    if (annIds.has(id)) {
      err('duplicate-id', `annotation id ${id} appears more than once (${path}); annotation ids must be unique`, at);
      return;
    }
    annIds.add(id);
    let ok = true;
    const need = (k: string, check: (v: unknown) => boolean, what: string): void => {
      const v = a[k];
      if (v === undefined) {
        err('missing-key', `annotation id ${id}: missing key \`${k}\` (${what})`, { ...at, path: `${path}.${k}` });
        ok = false;
      } else if (isNum(v) && !Number.isFinite(v)) {
        err('nan', `annotation id ${id}: \`${k}\` is ${v}`, { ...at, path: `${path}.${k}` });
        ok = false;
      } else if (!check(v)) {
        err('wrong-type', `annotation id ${id}: \`${k}\` must be ${what}, got ${describe(v)}`, { ...at, path: `${path}.${k}` });
        ok = false;
      }
    };
    need('image_id', isNum, 'a number');
    need('category_id', isNum, 'a number');
    need('area', isNum, 'a number');
    const bbox = a.bbox;
    if (bbox === undefined) {
      err('missing-key', `annotation id ${id}: missing key \`bbox\` ([x, y, w, h])`, { ...at, path: `${path}.bbox` });
      ok = false;
    } else if (!Array.isArray(bbox) || bbox.length !== 4 || !bbox.every(isNum)) {
      err('wrong-type', `annotation id ${id}: \`bbox\` must be [x, y, w, h] (4 numbers), got ${describe(bbox)}${Array.isArray(bbox) ? ` of length ${bbox.length}` : ''}`, { ...at, path: `${path}.bbox` });
      ok = false;
    } else if (!bbox.every((v: number) => Number.isFinite(v))) {
      err('nan', `annotation id ${id}: \`bbox\` has a non-finite coordinate [${bbox.join(', ')}]`, { ...at, path: `${path}.bbox` });
      ok = false;
    }
    for (const k of ['iscrowd', 'ignore'] as const) {
      const v = a[k];
      if (v !== undefined && v !== 0 && v !== 1 && v !== true && v !== false) {
        err(k === 'iscrowd' ? 'crowd' : 'wrong-type', `annotation id ${id}: \`${k}\` must be 0 or 1, got ${describe(v)}`, { ...at, path: `${path}.${k}` });
        ok = false;
      }
    }
    if (!checkSegmentation(a.segmentation, id, `${path}.segmentation`, scan.imagesById.get(a.image_id as number), err, warn)) ok = false;
    if (!ok) return;
    const ann = a as CheckedCocoAnnotation;
    const img = scan.imagesById.get(ann.image_id);
    if (!img) {
      warn('image-id', `annotation id ${id}: image_id ${ann.image_id} points to no image; the annotation is skipped`, { ...at, path: `${path}.image_id` });
      return;
    }
    if (!catIds.has(ann.category_id)) {
      warn('category-id', `annotation id ${id}: category_id ${ann.category_id} is not among the categories; the annotation is skipped`, { ...at, path: `${path}.category_id`, imageId: img.id });
      return;
    }
    scan.annotations.push(ann);
    let list = scan.annsByImage.get(ann.image_id);
    if (!list) scan.annsByImage.set(ann.image_id, (list = []));
    list.push(ann);
  });
  return scan;
}

type Report = (kind: ProblemKind, message: string, extra?: Partial<CocoProblem>) => void;

/** Check one segmentation; returns false on an error that makes the annotation unusable. */
function checkSegmentation(seg: unknown, id: number, path: string, img: CheckedCocoImage | undefined, err: Report, warn: Report): boolean {
  const at = { path, annId: id, imageId: img?.id };
  const kind = segmentationKind(seg);
  if (kind === 'empty') {
    if (seg !== undefined) return true; // explicit empty: mmdet treats it as "no mask"
    return true;
  }
  if (kind === 'unknown') {
    err('segmentation-format', `annotation id ${id}: unknown segmentation format (${describe(seg)}); expected a list of polygons [[x1, y1, x2, y2, ...], ...] or an RLE map {size: [h, w], counts}`, at);
    return false;
  }
  if (kind === 'polygons') {
    const polys = seg as unknown[][];
    for (let p = 0; p < polys.length; p++) {
      const poly = polys[p];
      for (let k = 0; k < poly.length; k++) {
        const v = poly[k];
        if (!isNum(v)) {
          err('segmentation-format', `annotation id ${id}: polygon ${p} has a non-number at position ${k} (${describe(v)})`, { ...at, path: `${path}[${p}][${k}]` });
          return false;
        }
        if (!Number.isFinite(v)) {
          err('nan', `annotation id ${id}: polygon ${p} has a non-finite coordinate ${v} at position ${k}`, { ...at, path: `${path}[${p}][${k}]` });
          return false;
        }
      }
    }
    return true;
  }
  // RLE
  const rle = seg as { size: unknown[]; counts: unknown };
  const size = rle.size;
  if (size.length !== 2 || !size.every((v) => isNum(v) && Number.isInteger(v) && v >= 0)) {
    err('rle', `annotation id ${id}: RLE \`size\` must be [height, width], got ${JSON.stringify(size)}`, at);
    return false;
  }
  if (img && (size[0] !== img.height || size[1] !== img.width)) {
    err('rle', `annotation id ${id}: RLE size [${size.join(', ')}] does not match its image (id ${img.id}) of height ${img.height} and width ${img.width}`, at);
    return false;
  }
  if (kind === 'uncompressed-rle') {
    const counts = rle.counts as unknown[];
    let total = 0;
    for (const c of counts) {
      if (!isNum(c) || !Number.isInteger(c) || c < 0) {
        err('rle', `annotation id ${id}: RLE counts must be non-negative integers, got ${describe(c)}`, at);
        return false;
      }
      total += c;
    }
    const hw = (size[0] as number) * (size[1] as number);
    if (total !== hw) warn('rle', `annotation id ${id}: RLE counts sum to ${total}, expected height*width = ${hw}`, at);
  }
  return true;
}

