// SPDX-License-Identifier: Apache-2.0
/**
 * The component module of @solo-ts/datasets: loading it into a Registry registers the dataset, the
 * transforms and the samplers under their mmdetection / mmengine names.
 */
import { component, ComponentModule } from '@solo-ts/core';
import { CocoDataset } from './coco/coco-dataset.js';
import { AspectRatioBatchSampler, DefaultSampler } from './loader/samplers.js';
import { RandomFlip } from './transforms/flip.js';
import { LoadAnnotations } from './transforms/load-annotations.js';
import { LoadImageFromFile } from './transforms/load-image.js';
import { PackDetInputs } from './transforms/pack.js';
import { RandomChoiceResize, Resize } from './transforms/resize.js';

export const datasetsComponents = new ComponentModule('@solo-ts/datasets', [
  component('datasets', CocoDataset),
  component('transforms', LoadImageFromFile),
  component('transforms', LoadAnnotations),
  component('transforms', Resize),
  component('transforms', RandomChoiceResize),
  component('transforms', RandomFlip),
  component('transforms', PackDetInputs),
  component('data_samplers', DefaultSampler),
  component('data_samplers', AspectRatioBatchSampler),
]);
