// SPDX-License-Identifier: Apache-2.0
/**
 * @solo-ts/evaluation: COCO evaluation identical to pycocotools (`COCO`, `COCOeval` for segm and bbox), the
 * mask API as `maskUtils`, mmdetection's `CocoMetric` and its results JSON (`predictionToCocoResults`), and a
 * testable `runEval` behind `solo eval`. The COCO JSON types and reader are `@solo-ts/cocoapi`'s.
 *
 * The public API only: the numpy-style helpers, the accumulation and summary internals and the table
 * formatting are not exported (tests import them by relative path).
 */
export const PACKAGE_NAME = '@solo-ts/evaluation';
export { maskUtils } from '@solo-ts/cocoapi';
export { COCO } from './coco.js';
export { Params, type IouType } from './params.js';
export { COCOeval } from './cocoeval.js';
/** Reading `COCOeval.eval`'s flat precision / recall arrays. */
export { precisionIndex, recallIndex, type EvalResult } from './accumulate.js';
export { perCategorySummary } from './summarize.js';
export { classwiseTable, type ClasswiseRow } from './classwise.js';
export { validateDetections, validateGroundTruth } from './validate.js';
export {
  evaluateDetections,
  runEval,
  type EvaluateDetectionsOptions,
  type EvaluateDetectionsResult,
  type RunEvalOptions,
  type RunEvalResult,
} from './evaluate-detections.js';
export { CocoMetric, type CocoMetricOptions } from './coco-metric.js';
export { predictionToCocoResults, type CocoPrediction, type CocoResultsOptions } from './results.js';
export { evaluationComponents } from './components.js';
