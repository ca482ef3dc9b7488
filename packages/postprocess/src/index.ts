// SPDX-License-Identifier: Apache-2.0
import { ComponentModule } from '@solo-ts/core';
import { SOLOMaskPostProcessor } from './solo-mask-postprocessor.js';

export const PACKAGE_NAME = '@solo-ts/postprocess';
export { matrixNms, matrixNmsSync, matrixNmsSorted, matrixNmsWithPacker, argsortDescending, type MatrixNmsOptions, type MatrixNmsResult } from './matrix-nms.js';
export { packMasks, packMasksThreshold, intersection, popcount, type PackedMasks } from './packed-masks.js';
export { masksToBoxes } from './mask-boxes.js';
export { SOLOMaskPostProcessor, emptyInstances, type SOLOMaskPostProcessorOptions } from './solo-mask-postprocessor.js';

/** The package's components (scope `task_utils`). */
export const postprocessComponents = new ComponentModule(PACKAGE_NAME, [{ scope: 'task_utils', component: SOLOMaskPostProcessor }]);
