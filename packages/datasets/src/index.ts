// SPDX-License-Identifier: Apache-2.0
/**
 * @solo-ts/datasets: CocoDataset, mmdetection transforms (bit-exact cv2 resize), samplers, the data loader,
 * synthetic shapes data and the dataset validator. See docs/datasets.md. The cv2 resize emulation is
 * `@solo-ts/ops`' (`resizeLinearU8`, ...), the COCO JSON types and reader `@solo-ts/cocoapi`'s.
 *
 * Browser-safe modules: coco/{parse,data-list,masks,types}, transforms other than
 * LoadImageFromFile, loader/{samplers,torch-random}. Node-only: CocoDataset (fs), LoadImageFromFile (sharp),
 * the loader, synthetic data and the validator.
 *
 * The public API only: the COCO scan, the mask/flip/resize helpers of the transforms, the torch-exact random
 * generators and the worker protocol are internals (tests import them by relative path).
 */
export const PACKAGE_NAME = '@solo-ts/datasets';

export { datasetsComponents } from './components.js';

export type { CocoDataInfo, CocoInstance, CocoMetainfo } from './coco/types.js';
export type { CocoProblem, ProblemKind } from './coco/parse.js';
export type { FilterCfg } from './coco/data-list.js';
export { segmentationsToMasks } from './coco/masks.js';
export { CocoDataset, type CocoDatasetOptions, type DetDataset } from './coco/coco-dataset.js';

/** The pipeline's image type (`@solo-ts/ops`' host image; `decodeImage` returns it). */
export type { ImageU8 } from '@solo-ts/ops';
export type { PipelineResults, PackedSample, PackedInputs, FlipDirection } from './transforms/results.js';
export { Compose, type AnyTransform } from './transforms/compose.js';
export { LoadImageFromFile, type LoadImageFromFileOptions } from './transforms/load-image.js';
export { decodeImage, sniffImageFormat, type ColorType, type ImageFormat } from './transforms/decode-image.js';
export { LoadAnnotations, type LoadAnnotationsOptions } from './transforms/load-annotations.js';
export { Resize, RandomChoiceResize, type ResizeOptions, type RandomChoiceResizeOptions, type ScaleSpec } from './transforms/resize.js';
export { RandomFlip, type RandomFlipOptions } from './transforms/flip.js';
export { PackDetInputs, type PackDetInputsOptions } from './transforms/pack.js';
export type { PolygonMasks, AnyMasks } from './transforms/masks.js';

export {
  DefaultSampler,
  AspectRatioBatchSampler,
  shardSizes,
  type Sampler,
  type BatchSampler,
  type SizedDataset,
  type DefaultSamplerOptions,
  type AspectRatioBatchSamplerOptions,
} from './loader/samplers.js';
export {
  DataLoader,
  type DataBatch,
  type DataLoaderOptions,
  type LoaderState,
  type LoaderStats,
  type LoaderFailure,
  type SampleRunner,
} from './loader/data-loader.js';
export { resolveWorkerEntry, type WorkerEntry } from './loader/worker-pool.js';
export { buildDataLoader, type DataLoaderCfg, type BuildDataLoaderOptions } from './loader/build.js';
export { renderShapesImage, SHAPE_CATEGORIES, type ShapeName, type ShapeAnnotation, type RenderedImage, type RenderOptions } from './synthetic/render.js';
export { makeShapesDataset, SHAPES_CONTENT_DEFAULTS, type MakeShapesOptions, type MakeShapesResult } from './synthetic/make-shapes.js';
export { checkDataset, formatCheckReport, type CheckDatasetOptions, type CheckReport, type ClassSummary } from './validate/check-dataset.js';
