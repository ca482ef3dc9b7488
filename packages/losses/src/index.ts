// SPDX-License-Identifier: Apache-2.0
import { component, ComponentModule } from '@solo-ts/core';
import { DiceLoss } from './dice-loss.js';
import { FocalLoss } from './focal-loss.js';

export const PACKAGE_NAME = '@solo-ts/losses';
export { DiceLoss, diceLossOptions, type DiceLossOptions } from './dice-loss.js';
export { FocalLoss, focalLossOptions, type FocalLossOptions } from './focal-loss.js';
export { weightReduceLoss, checkReduction, resolveReduction, checkAvgFactor, FLOAT32_EPS, REDUCTIONS, type Reduction } from './reduce.js';

/** The package's components (scope `models`). */
export const lossesComponents = new ComponentModule(PACKAGE_NAME, [component('models', DiceLoss), component('models', FocalLoss)]);
