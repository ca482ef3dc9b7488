// SPDX-License-Identifier: Apache-2.0
import { component, ComponentModule } from '@solo-ts/core';
import { ResNet } from './resnet.js';
import { ResNeXt } from './resnext.js';

export const PACKAGE_NAME = '@solo-ts/backbones';
export { BasicBlock, Bottleneck, type BlockOptions, type ResBlock } from './blocks.js';
export { ResNet, ResLayer, resnetOptions, type ResNetOptions, type BackboneInitCfg } from './resnet.js';
export { ResNeXt, resnextOptions, type ResNeXtOptions } from './resnext.js';

/** Registers ResNet and ResNeXt in scope `models`. */
export const backbonesComponents = new ComponentModule(PACKAGE_NAME, [component('models', ResNet), component('models', ResNeXt)]);
