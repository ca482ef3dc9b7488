// SPDX-License-Identifier: Apache-2.0
import { ComponentModule } from '@solo-ts/core';
import { FPN } from './fpn.js';

export const PACKAGE_NAME = '@solo-ts/necks';
export * from './fpn.js';

/** Registers FPN in scope `models`. */
export const necksComponents = new ComponentModule(PACKAGE_NAME, [{ scope: 'models', component: FPN }]);
