// SPDX-License-Identifier: Apache-2.0
/** The components of @solo-ts/evaluation for the registry: `CocoMetric` in scope `metrics`. */
import { component, ComponentModule } from '@solo-ts/core';
import { CocoMetric } from './coco-metric.js';

export const evaluationComponents = new ComponentModule('@solo-ts/evaluation', [component('metrics', CocoMetric)]);
