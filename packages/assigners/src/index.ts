// SPDX-License-Identifier: Apache-2.0
import { component, ComponentModule } from '@solo-ts/core';
import { SOLOGridAssigner } from './solo-grid-assigner.js';

export const PACKAGE_NAME = '@solo-ts/assigners';
export { SOLOGridAssigner, soloGridAssignerOptions, gridCell, type SOLOGridAssignerOptions } from './solo-grid-assigner.js';
/** The centre of mass of a mask, as mmdetection's SOLO target generation computes it. */
export { centerOfMass } from './center-of-mass.js';

/** The package's components (scope `task_utils`). */
export const assignersComponents = new ComponentModule(PACKAGE_NAME, [component('task_utils', SOLOGridAssigner)]);
