// SPDX-License-Identifier: Apache-2.0
/**
 * `@solo-ts/detectors`: the data preprocessor and the SOLO-family detectors (scope `models`). Load
 * `detectorsComponents` into a Registry together with the backbone, neck, head, loss, assigner and
 * post-processing packages.
 */
import { ComponentModule } from '@solo-ts/core';
import { DetDataPreprocessor } from './data-preprocessor.js';
import { SingleStageInstanceSegmentor, SOLO, SOLOv2 } from './single-stage-instance-seg.js';

export const PACKAGE_NAME = '@solo-ts/detectors';

export { DetDataPreprocessor, detDataPreprocessorOptions, type DetDataBatch, type DetDataPreprocessorOptions, type ImageInput } from './data-preprocessor.js';
export { SingleStageInstanceSegmentor, SOLO, SOLOv2, segmentorOptions, type ForwardMode, type SingleStageInstanceSegmentorOptions } from './single-stage-instance-seg.js';

/** The components of this package, for `registry.load(detectorsComponents)`. */
export const detectorsComponents = new ComponentModule(PACKAGE_NAME, [
  { scope: 'models', component: DetDataPreprocessor },
  { scope: 'models', component: SingleStageInstanceSegmentor },
  { scope: 'models', component: SOLO },
  { scope: 'models', component: SOLOv2 },
]);
