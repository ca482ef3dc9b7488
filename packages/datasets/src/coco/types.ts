// SPDX-License-Identifier: Apache-2.0
/**
 * Types of COCO instance files and of the per-image records ("data infos") the dataset hands to the pipeline.
 * The JSON types themselves are `@solo-ts/cocoapi`'s; the records use mmdetection's meaning in camelCase.
 */
import type { CocoAnnotation, CocoCategory, CocoImage, CocoSegmentation } from '@solo-ts/cocoapi';

/** An image of the annotation file after `scanCoco`'s checks (`file_name`, positive integer size). */
export type CheckedCocoImage = CocoImage & { file_name: string; height: number; width: number };

/** A category after `scanCoco`'s checks (a unique `name`). */
export type CheckedCocoCategory = CocoCategory & { name: string };

/** An annotation after `scanCoco`'s checks (`id`, `[x, y, w, h]` box, `area`, a known segmentation format). */
export type CheckedCocoAnnotation = CocoAnnotation & {
  id: number;
  bbox: [number, number, number, number];
  area: number;
  segmentation?: CocoSegmentation;
};

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
