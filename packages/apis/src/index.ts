// SPDX-License-Identifier: Apache-2.0
/**
 * @solo-ts/apis: what mmdetection's `mmdet.apis` offers, and the default registry.
 *
 * - `buildDetector(config, {checkpoint})` and `inferImage(detector, image)`: inference on one image, COCO results;
 * - `testModel(config, {checkpoint})`: mmdetection's `tools/test.py` (metrics, results file, pictures);
 * - `drawInstances(image, instances)`: pictures of predictions;
 * - `COCO_CLASSES`, `COCO_CATEGORY_IDS`: the 80 COCO class names and category ids;
 * - `createDefaultRegistry(extraModules)`: a registry with every shipped component (the one place that lists the
 *   component packages), and `defaultRegistryFactory` to hand it to `buildRunnerFromConfig` of @solo-ts/engine.
 */
export const PACKAGE_NAME = '@solo-ts/apis';

export { COCO_CATEGORY_IDS, COCO_CLASSES } from './coco-classes.js';
export {
  buildDetector, filterInstances, inferImage, pictureStyle, resolveClasses, toCocoResults,
  type BuildDetectorOptions, type Detector, type InferResult,
} from './detector.js';
export { exportOnnx, type ExportedOnnx, type ExportOnnxOptions } from './export.js';
export { drawInstances, type DrawOptions, type RawImage } from './draw.js';
export { testModel, type TestOptions, type TestResult } from './test.js';
export { createDefaultRegistry, defaultComponentModules, defaultRegistryFactory } from './registry.js';
