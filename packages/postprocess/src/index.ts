// SPDX-License-Identifier: Apache-2.0
/**
 * `@solo-ts/postprocess`: SOLO-family mask post-processing (scope `task_utils`): `SOLOMaskPostProcessor` (area
 * filter, maskness, Matrix NMS, resizes to the image and original shape, boxes from masks), Matrix NMS and mask
 * boxes. The heads' `predictByFeat` feeds it candidates decoded from raw head outputs.
 */
import { ComponentModule } from '@solo-ts/core';
import { SOLOMaskPostProcessor } from './solo-mask-postprocessor.js';

export const PACKAGE_NAME = '@solo-ts/postprocess';
export { matrixNms, matrixNmsSync, type MatrixNmsOptions, type MatrixNmsResult } from './matrix-nms.js';
export { masksToBoxes } from './mask-boxes.js';
export { SOLOMaskPostProcessor, type SOLOMaskPostProcessorOptions } from './solo-mask-postprocessor.js';

/** The package's components (scope `task_utils`). */
export const postprocessComponents = new ComponentModule(PACKAGE_NAME, [{ scope: 'task_utils', component: SOLOMaskPostProcessor }]);
