// SPDX-License-Identifier: Apache-2.0
/**
 * mmdetection 3.x `CocoDataset.load_data_list` / `parse_data_info` / `filter_data` on a validated COCO file.
 * Browser-safe.
 *
 * - Classes: `metainfo.classes` when given (labels follow that order; names missing from the file are reported),
 *   otherwise every category of the file, in file order. (mmdetection numbers labels in the file's category
 *   order even when `metainfo.classes` lists them in another order; here label i is always `classes[i]`, and
 *   `catIds[i]` is its category id. Both agree whenever the config lists classes in file order.)
 * - Instances: `ignore` annotations skipped; boxes with no overlap with the image, `area <= 0`, `w < 1` or
 *   `h < 1` skipped; categories outside the classes skipped; `iscrowd` -> `ignoreFlag = 1`;
 *   bbox = [x, y, x + w, y + h]; the segmentation is kept raw when it is non-empty.
 * - Filter (train only, `filter_cfg`): `filter_empty_gt` drops images without any annotation of a selected
 *   category (crowd ones count, as in mmdetection); `min_size` drops images whose shorter side is smaller.
 */
import type { CocoScan } from './parse.js';
import type { CocoSegmentation } from '@solo-ts/cocoapi';
import type { CocoDataInfo, CocoInstance } from './types.js';

export interface FilterCfg {
  filterEmptyGt?: boolean;
  minSize?: number;
}

export interface DataListOptions {
  /** Class names (metainfo.classes); undefined = all categories of the file. */
  classes?: readonly string[];
  /** Directory prefix joined with each `file_name`. */
  imgPrefix: string;
  testMode: boolean;
  filterCfg?: FilterCfg | null;
}

export interface DataListResult {
  dataList: CocoDataInfo[];
  classes: string[];
  catIds: number[];
  /** Requested class names that the file does not declare. */
  missingClasses: string[];
  /** Images dropped by the filter. */
  filtered: number;
}

/** Join a directory prefix and a relative file name with '/'. */
export function joinPath(prefix: string, name: string): string {
  if (!prefix || name.startsWith('/')) return name;
  return prefix.endsWith('/') ? prefix + name : `${prefix}/${name}`;
}

export function buildDataList(scan: CocoScan, opts: DataListOptions): DataListResult {
  const byName = new Map(scan.categories.map((c) => [c.name, c.id]));
  let classes: string[];
  let catIds: number[];
  const missingClasses: string[] = [];
  if (opts.classes) {
    classes = [...opts.classes];
    catIds = classes.map((name) => {
      const id = byName.get(name);
      if (id === undefined) missingClasses.push(name);
      return id ?? Number.NaN;
    });
  } else {
    classes = scan.categories.map((c) => c.name);
    catIds = scan.categories.map((c) => c.id);
  }
  const cat2label = new Map<number, number>();
  catIds.forEach((id, i) => {
    if (!Number.isNaN(id)) cat2label.set(id, i);
  });

  const dataList: CocoDataInfo[] = [];
  const withSelectedCat = new Set<number>();
  for (const img of scan.images) {
    const anns = scan.annsByImage.get(img.id) ?? [];
    const instances: CocoInstance[] = [];
    for (const ann of anns) {
      if (cat2label.has(ann.category_id)) withSelectedCat.add(img.id);
      if (ann.ignore) continue;
      const [x1, y1, w, h] = ann.bbox;
      const interW = Math.max(0, Math.min(x1 + w, img.width) - Math.max(x1, 0));
      const interH = Math.max(0, Math.min(y1 + h, img.height) - Math.max(y1, 0));
      if (interW * interH === 0) continue;
      if (ann.area <= 0 || w < 1 || h < 1) continue;
      const label = cat2label.get(ann.category_id);
      if (label === undefined) continue;
      const ins: CocoInstance = {
        bbox: [x1, y1, x1 + w, y1 + h],
        bboxLabel: label,
        ignoreFlag: ann.iscrowd ? 1 : 0,
        annId: ann.id,
      };
      const seg = ann.segmentation;
      if (seg && (!Array.isArray(seg) || seg.length > 0)) ins.mask = seg as CocoSegmentation;
      instances.push(ins);
    }
    dataList.push({ imgPath: joinPath(opts.imgPrefix, img.file_name), imgId: img.id, height: img.height, width: img.width, instances });
  }

  let filtered = 0;
  let list = dataList;
  if (!opts.testMode && opts.filterCfg) {
    const filterEmpty = opts.filterCfg.filterEmptyGt ?? false;
    const minSize = opts.filterCfg.minSize ?? 0;
    list = dataList.filter((d) => {
      if (filterEmpty && !withSelectedCat.has(d.imgId)) return false;
      return Math.min(d.width, d.height) >= minSize;
    });
    filtered = dataList.length - list.length;
  }
  return { dataList: list, classes, catIds, missingClasses, filtered };
}

/** A deterministic palette: evenly spread hues (golden angle), fixed saturation and value. */
export function defaultPalette(n: number): [number, number, number][] {
  const out: [number, number, number][] = [];
  for (let i = 0; i < n; i++) {
    const h = ((i * 137.508) % 360) / 60;
    const s = 0.75;
    const v = 0.95 - 0.2 * ((i >> 3) % 2);
    const c = v * s;
    const x = c * (1 - Math.abs((h % 2) - 1));
    const m = v - c;
    const [r, g, b] = h < 1 ? [c, x, 0] : h < 2 ? [x, c, 0] : h < 3 ? [0, c, x] : h < 4 ? [0, x, c] : h < 5 ? [x, 0, c] : [c, 0, x];
    out.push([Math.round((r + m) * 255), Math.round((g + m) * 255), Math.round((b + m) * 255)]);
  }
  return out;
}
