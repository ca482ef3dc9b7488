// SPDX-License-Identifier: Apache-2.0
import { component, ComponentModule } from '@solo-ts/core';
import { FPN } from './fpn.js';

export const PACKAGE_NAME = '@solo-ts/necks';
export { FPN, fpnOptions, type FPNOptions, type FPNInput, type AddExtraConvs, type UpsampleCfg } from './fpn.js';

/** Registers FPN in scope `models`. */
export const necksComponents = new ComponentModule(PACKAGE_NAME, [component('models', FPN)]);
