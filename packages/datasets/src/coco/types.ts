// SPDX-License-Identifier: Apache-2.0
/**
 * Types of COCO instance files and of the per-image records ("data infos") the dataset hands to the pipeline.
 * Field names of the JSON are COCO's; the records use mmdetection's meaning in camelCase.
 */

/** A polygon list (each `[x1, y1, x2, y2, ...]`) or an RLE object, as written in COCO files. */
export type CocoSegmentation = number[][] | { size: [number, number]; counts: string | number[] };

export interface CocoImageJson {
  id: number;
  file_name: string;
  height: number;
  width: number;
  [key: string]: unknown;
}

export interface CocoCategoryJson {
  id: number;
  name: string;
  supercategory?: string;
  [key: string]: unknown;
}

export interface CocoAnnotationJson {
  id: number;
  image_id: number;
  category_id: number;
  /** [x, y, w, h] */
  bbox: [number, number, number, number];
  area: number;
  iscrowd?: number | boolean;
  ignore?: number | boolean;
  segmentation?: CocoSegmentation;
  [key: string]: unknown;
}

export interface CocoJson {
  images: CocoImageJson[];
  annotations?: CocoAnnotationJson[];
  categories: CocoCategoryJson[];
  [key: string]: unknown;
}

/** One instance of an image after mmdetection's `parse_data_info` rules. */
export interface CocoInstance {
  /** [x1, y1, x2, y2] in original image pixels (not clipped). */
  bbox: [number, number, number, number];
  /** 0-based label (position of the category in the dataset's classes). */
  bboxLabel: number;
  /** 1 for crowd (`iscrowd`) instances; LoadAnnotations also sets it for unusable masks. */
  ignoreFlag: 0 | 1;
  /** Raw segmentation (polygons or RLE); absent when the annotation has none. */
  mask?: CocoSegmentation;
  /** COCO annotation id (for messages). */
  annId: number;
}

/** One image record: what `CocoDataset.getDataInfo(i)` returns and the pipeline starts from. */
export interface CocoDataInfo {
  imgPath: string;
  imgId: number;
  height: number;
  width: number;
  instances: CocoInstance[];
}

/** Dataset meta information. */
export interface CocoMetainfo {
  /** Class names, index = label. */
  classes: string[];
  /** RGB colour per class. */
  palette: [number, number, number][];
  /** COCO category id per label (`cat_ids` / `label2cat`). */
  catIds: number[];
}
