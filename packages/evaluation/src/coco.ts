// SPDX-License-Identifier: Apache-2.0
/**
 * pycocotools' `COCO` class: a dataset index with `getAnnIds`/`getCatIds`/`getImgIds`, `loadAnns`/`loadCats`/
 * `loadImgs`, `loadRes` (detection results -> a results COCO) and `annToRLE`/`annToMask`.
 *
 * It takes an already parsed dataset object (this package never touches the file system). Differences from
 * pycocotools: `loadRes` copies the result objects instead of mutating them, accepts an empty list (a results
 * COCO with no annotations; pycocotools raises IndexError), and throws `SoloError` naming the detection where
 * pycocotools asserts or raises KeyError.
 */
import { SoloError } from '@solo-ts/core';
import {
  annToRleData,
  fromRleData,
  rleArea,
  rleDecodeRowMajor,
  rleToBbox,
  type BinaryMask,
  type CocoAnnotation,
  type CocoCategory,
  type CocoDataset,
  type CocoImage,
  type RLE,
  type RleData,
} from '@solo-ts/cocoapi';

type Ids = number | readonly number[];
const asList = (x: Ids | undefined): readonly number[] => (x === undefined ? [] : typeof x === 'number' ? [x] : x);

export class COCO {
  dataset: CocoDataset;
  anns = new Map<number, CocoAnnotation>();
  imgs = new Map<number, CocoImage>();
  cats = new Map<number, CocoCategory>();
  imgToAnns = new Map<number, CocoAnnotation[]>();
  catToImgs = new Map<number, number[]>();
  /** Name used in error messages (e.g. the file the dataset came from). */
  readonly source: string;
  private readonly rleCache = new WeakMap<object, RleData>();

  constructor(dataset: CocoDataset = {}, source = 'ground truth') {
    if (typeof dataset !== 'object' || dataset === null || Array.isArray(dataset)) {
      throw new SoloError(`${source}: annotation file format ${Array.isArray(dataset) ? 'list' : typeof dataset} not supported`, {
        code: 'DATASET',
        expected: 'a COCO dataset object {images, annotations, categories}',
      });
    }
    this.dataset = dataset;
    this.source = source;
    this.createIndex();
  }

  createIndex(): void {
    const d = this.dataset;
    this.anns = new Map();
    this.imgs = new Map();
    this.cats = new Map();
    this.imgToAnns = new Map();
    this.catToImgs = new Map();
    if (d.annotations !== undefined && !Array.isArray(d.annotations)) throw this.formatError('"annotations" is not a list');
    if (d.images !== undefined && !Array.isArray(d.images)) throw this.formatError('"images" is not a list');
    if (d.categories !== undefined && !Array.isArray(d.categories)) throw this.formatError('"categories" is not a list');
    if (d.annotations) {
      d.annotations.forEach((ann, i) => {
        if (typeof ann !== 'object' || ann === null || !('id' in ann) || !('image_id' in ann)) {
          throw this.formatError(`annotation #${i} has no "id" or no "image_id"`);
        }
      });
      for (const ann of d.annotations) {
        let list = this.imgToAnns.get(ann.image_id);
        if (!list) this.imgToAnns.set(ann.image_id, (list = []));
        list.push(ann);
        this.anns.set(ann.id as number, ann);
      }
    }
    d.images?.forEach((img, i) => {
      if (typeof img !== 'object' || img === null || !('id' in img)) throw this.formatError(`image #${i} has no "id"`);
      this.imgs.set(img.id, img);
    });
    d.categories?.forEach((cat, i) => {
      if (typeof cat !== 'object' || cat === null || !('id' in cat)) throw this.formatError(`category #${i} has no "id"`);
      this.cats.set(cat.id, cat);
    });
    if (d.annotations && d.categories) {
      for (const ann of d.annotations) {
        let list = this.catToImgs.get(ann.category_id);
        if (!list) this.catToImgs.set(ann.category_id, (list = []));
        list.push(ann.image_id);
      }
    }
  }

  private formatError(what: string): SoloError {
    return new SoloError(`${this.source}: ${what}`, { code: 'DATASET', expected: 'a COCO dataset {images: [...], annotations: [...], categories: [...]}' });
  }

  /** Ids of annotations passing every given filter (areaRng is exclusive, as in pycocotools). */
  getAnnIds(opts: { imgIds?: Ids; catIds?: Ids; areaRng?: readonly number[]; iscrowd?: boolean | number | null } = {}): number[] {
    const imgIds = asList(opts.imgIds);
    const catIds = asList(opts.catIds);
    const areaRng = opts.areaRng ?? [];
    let anns: CocoAnnotation[];
    const all = this.dataset.annotations ?? [];
    if (imgIds.length === 0 && catIds.length === 0 && areaRng.length === 0) {
      anns = all;
    } else {
      if (imgIds.length !== 0) {
        anns = [];
        for (const id of imgIds) {
          const l = this.imgToAnns.get(id);
          if (l) for (const a of l) anns.push(a);
        }
      } else anns = all;
      if (catIds.length !== 0) {
        const set = new Set(catIds);
        anns = anns.filter((a) => set.has(a.category_id));
      }
      if (areaRng.length !== 0) anns = anns.filter((a) => (a.area as number) > areaRng[0] && (a.area as number) < areaRng[1]);
    }
    const crowd = opts.iscrowd;
    if (crowd !== undefined && crowd !== null) return anns.filter((a) => Number(a.iscrowd) === Number(crowd)).map((a) => a.id as number);
    return anns.map((a) => a.id as number);
  }

  /** Category ids, in the order of `categories`, filtered by names / supercategories / ids. */
  getCatIds(opts: { catNms?: string | readonly string[]; supNms?: string | readonly string[]; catIds?: Ids } = {}): number[] {
    const names = opts.catNms === undefined ? [] : typeof opts.catNms === 'string' ? [opts.catNms] : opts.catNms;
    const sups = opts.supNms === undefined ? [] : typeof opts.supNms === 'string' ? [opts.supNms] : opts.supNms;
    const ids = asList(opts.catIds);
    let cats = this.dataset.categories ?? [];
    if (names.length) cats = cats.filter((c) => names.includes(c.name as string));
    if (sups.length) cats = cats.filter((c) => sups.includes(c.supercategory as string));
    if (ids.length) cats = cats.filter((c) => ids.includes(c.id));
    return cats.map((c) => c.id);
  }

  /**
   * Image ids: all (in `images` order, first occurrence) or those given that contain all of `catIds`.
   * pycocotools returns a Python set's order there; this returns them sorted.
   */
  getImgIds(opts: { imgIds?: Ids; catIds?: Ids } = {}): number[] {
    const imgIds = asList(opts.imgIds);
    const catIds = asList(opts.catIds);
    if (imgIds.length === 0 && catIds.length === 0) return [...this.imgs.keys()];
    let ids = new Set(imgIds);
    catIds.forEach((catId, i) => {
      const withCat = new Set(this.catToImgs.get(catId) ?? []);
      ids = i === 0 && ids.size === 0 ? withCat : new Set([...ids].filter((id) => withCat.has(id)));
    });
    return [...ids].sort((a, b) => a - b);
  }

  loadAnns(ids: Ids = []): CocoAnnotation[] {
    return asList(ids).map((id) => this.lookup(this.anns, id, 'annotation'));
  }

  loadCats(ids: Ids = []): CocoCategory[] {
    return asList(ids).map((id) => this.lookup(this.cats, id, 'category'));
  }

  loadImgs(ids: Ids = []): CocoImage[] {
    return asList(ids).map((id) => this.lookup(this.imgs, id, 'image'));
  }

  private lookup<T>(map: Map<number, T>, id: number, what: string): T {
    const v = map.get(id);
    if (v === undefined) throw new SoloError(`${this.source}: no ${what} with id ${id}`, { code: 'DATASET' });
    return v;
  }

  /** The RLE run lengths of an annotation's segmentation (cached per annotation object). */
  annToRleData(ann: CocoAnnotation): RleData {
    const cached = this.rleCache.get(ann);
    if (cached) return cached;
    const img = this.imgs.get(ann.image_id);
    if (!img) throw new SoloError(`${this.source}: annotation id ${ann.id} refers to unknown image_id ${ann.image_id}`, { code: 'DATASET' });
    let r: RleData;
    try {
      r = annToRleData(ann.segmentation, Number(img.height), Number(img.width));
    } catch (e) {
      throw new SoloError(`${this.source}: annotation id ${ann.id}: ${(e as Error).message}`, { code: 'DATASET', cause: e });
    }
    this.rleCache.set(ann, r);
    return r;
  }

  /** `annToRLE`: polygons -> merged RLE, uncompressed RLE -> compressed, compressed -> itself. */
  annToRLE(ann: CocoAnnotation): RLE {
    const seg = ann.segmentation as { counts?: unknown } | undefined;
    if (seg && typeof seg === 'object' && !Array.isArray(seg) && typeof seg.counts === 'string') return seg as RLE;
    return fromRleData(this.annToRleData(ann));
  }

  annToMask(ann: CocoAnnotation): BinaryMask {
    const r = this.annToRleData(ann);
    return { data: rleDecodeRowMajor(r), height: r.h, width: r.w };
  }

  /**
   * `loadRes`: a results COCO holding `results` (COCO results format) on this dataset's images. Detection i gets
   * id i+1 and iscrowd 0. Chosen by the first result, as pycocotools: with a non-empty `bbox`, area = w*h (and a
   * box polygon when there is no segmentation); otherwise area and (missing) bbox come from the segmentation.
   */
  loadRes(results: readonly CocoAnnotation[], source = 'detections'): COCO {
    if (!Array.isArray(results)) {
      throw new SoloError(`${source}: results in not an array of objects`, { code: 'DATASET', expected: 'a JSON list of detections' });
    }
    const res = new COCO({}, source);
    res.dataset.images = [...(this.dataset.images ?? [])];
    res.dataset.categories = structuredClone(this.dataset.categories ?? []);
    const anns: CocoAnnotation[] = results.map((r, i) => {
      if (typeof r !== 'object' || r === null || Array.isArray(r)) throw resError(source, i, undefined, 'is not an object');
      if (!this.imgs.has(r.image_id)) {
        throw resError(source, i, r, `has image_id ${JSON.stringify(r.image_id)}, which is not an image of ${this.source}`, 'Results do not correspond to current coco set');
      }
      return { ...r };
    });
    if (anns.length > 0) {
      const first = anns[0];
      const bboxBranch = 'bbox' in first && !(Array.isArray(first.bbox) && first.bbox.length === 0);
      if (bboxBranch) {
        anns.forEach((ann, i) => {
          const bb = ann.bbox;
          if (!Array.isArray(bb) || bb.length < 4 || bb.slice(0, 4).some((v) => typeof v !== 'number')) {
            throw resError(source, i, ann, 'has no valid "bbox" [x, y, w, h] (the first detection has one, so all must)');
          }
          const [x1, x2, y1, y2] = [bb[0], bb[0] + bb[2], bb[1], bb[1] + bb[3]];
          if (!('segmentation' in ann)) ann.segmentation = [[x1, y1, x1, y2, x2, y2, x2, y1]];
          ann.area = bb[2] * bb[3];
          ann.id = i + 1;
          ann.iscrowd = 0;
        });
      } else if ('segmentation' in first) {
        anns.forEach((ann, i) => {
          if (!('segmentation' in ann)) throw resError(source, i, ann, 'has no "segmentation" (the first detection has one, so all must)');
          ann.id = i + 1;
          ann.iscrowd = 0;
          let r: RleData;
          try {
            r = res.annToRleDataOf(ann, this);
          } catch (e) {
            throw resError(source, i, ann, `segmentation: ${(e as Error).message}`);
          }
          ann.area = rleArea(r);
          if (!('bbox' in ann)) ann.bbox = rleToBbox(r);
        });
      } else {
        throw resError(source, 0, first, 'has neither "bbox" nor "segmentation"', undefined, 'detections need "segmentation" (RLE) for segm or "bbox" for bbox');
      }
    }
    res.dataset.annotations = anns;
    res.createIndex();
    return res;
  }

  /** annToRleData with image sizes from `gt` (used before this results COCO is indexed). */
  private annToRleDataOf(ann: CocoAnnotation, gt: COCO): RleData {
    const img = gt.imgs.get(ann.image_id) as CocoImage;
    const r = annToRleData(ann.segmentation, Number(img.height), Number(img.width));
    this.rleCache.set(ann, r);
    return r;
  }
}

function resError(source: string, i: number, ann: CocoAnnotation | undefined, what: string, pyMsg?: string, expected?: string): SoloError {
  const hint = pyMsg ? `pycocotools: "${pyMsg}"` : undefined;
  return new SoloError(`${source}: detection #${i} (image_id ${ann ? JSON.stringify(ann.image_id) : '?'}) ${what}`, {
    code: 'DATASET',
    expected,
    hint,
  });
}
