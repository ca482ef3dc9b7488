// SPDX-License-Identifier: Apache-2.0
/**
 * The component module of @solo-ts/datasets: loading it into a Registry registers the dataset, the
 * transforms and the samplers under their mmdetection / mmengine names.
 */
import { ComponentModule } from '@solo-ts/core';
import { CocoDataset } from './coco/coco-dataset.js';
import { AspectRatioBatchSampler, DefaultSampler } from './loader/samplers.js';
import { RandomFlip } from './transforms/flip.js';
import { LoadAnnotations } from './transforms/load-annotations.js';
import { LoadImageFromFile } from './transforms/load-image.js';
import { PackDetInputs } from './transforms/pack.js';
import { RandomChoiceResize, Resize } from './transforms/resize.js';

export const datasetsComponents = new ComponentModule('@solo-ts/datasets', [
  { scope: 'datasets', component: CocoDataset },
  { scope: 'transforms', component: LoadImageFromFile },
  { scope: 'transforms', component: LoadAnnotations },
  { scope: 'transforms', component: Resize },
  { scope: 'transforms', component: RandomChoiceResize },
  { scope: 'transforms', component: RandomFlip },
  { scope: 'transforms', component: PackDetInputs },
  { scope: 'data_samplers', component: DefaultSampler },
  { scope: 'data_samplers', component: AspectRatioBatchSampler },
]);
