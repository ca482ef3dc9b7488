// SPDX-License-Identifier: Apache-2.0
/**
 * @solo-ts/evaluation: COCO evaluation identical to pycocotools (`COCO`, `COCOeval` for segm and bbox), the
 * mask API as `maskUtils`, mmdetection's `CocoMetric` and a testable `runEval` behind `solo eval`.
 */
export const PACKAGE_NAME = '@solo-ts/evaluation';
export * as maskUtils from './mask-utils.js';
export * from './coco.js';
export * from './params.js';
export * from './cocoeval.js';
export * from './accumulate.js';
export * from './summarize.js';
export * from './numpy.js';
export * from './classwise.js';
export * from './validate.js';
export * from './evaluate-detections.js';
export * from './coco-metric.js';
export * from './results.js';
export * from './components.js';
