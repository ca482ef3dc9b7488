// SPDX-License-Identifier: Apache-2.0
/**
 * @solo-ts/apis: what mmdetection's `mmdet.apis` offers, and the default registry.
 *
 * - `buildDetector(config, {checkpoint})` and `inferImage(detector, image)`: inference on one image, COCO results;
 * - `buildDetector(config, {checkpoint, runtime: 'onnx'})` or `buildDetector('model.onnx')`: the same on ONNX Runtime
 *   (onnxruntime-node; the graph exported and cached, or a `.onnx` file), the same `inferImage` / `testModel`;
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
  type BuildDetectorOptions, type Detector, type InferResult, type RuntimeChoice,
} from './detector.js';
export { exportOnnx, type ExportedOnnx, type ExportOnnxOptions } from './export.js';
export {
  buildOnnxParts, checkOnnxMatchesConfig, configFromOnnxInfo, defaultOrtThreads, loadOrtNode, onnxCacheDir, onnxCachePath, onnxModelInfo,
  ortNodeAvailable, OnnxDetectorModel, type BuildOnnxDetectorOptions, type OnnxModelInfo, type OnnxPredictTimings,
} from './onnx-detector.js';
export { drawInstances, type DrawOptions, type RawImage } from './draw.js';
export { testModel, type TestOptions, type TestResult } from './test.js';
export { createDefaultRegistry, defaultComponentModules, defaultRegistryFactory } from './registry.js';
