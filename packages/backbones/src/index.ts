// SPDX-License-Identifier: Apache-2.0
import { ComponentModule } from '@solo-ts/core';
import { ResNet } from './resnet.js';
import { ResNeXt } from './resnext.js';

export const PACKAGE_NAME = '@solo-ts/backbones';
export * from './blocks.js';
export * from './resnet.js';
export * from './resnext.js';

/** Registers ResNet and ResNeXt in scope `models`. */
export const backbonesComponents = new ComponentModule(PACKAGE_NAME, [
  { scope: 'models', component: ResNet },
  { scope: 'models', component: ResNeXt },
]);
