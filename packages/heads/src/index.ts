// SPDX-License-Identifier: Apache-2.0
/**
 * `@solo-ts/heads`: the SOLO-family mask heads (scope `models`): SOLOHead, DecoupledSOLOHead,
 * DecoupledSOLOLightHead, SOLOV2Head (with MaskFeatModule). Load `headsComponents` into a Registry.
 */
import { ComponentModule } from '@solo-ts/core';
import { DecoupledSOLOHead } from './decoupled-solo-head.js';
import { DecoupledSOLOLightHead } from './decoupled-solo-light-head.js';
import { SOLOHead } from './solo-head.js';
import { SOLOV2Head } from './solov2-head.js';

export const PACKAGE_NAME = '@solo-ts/heads';

export { SOLOHead, withDefaults, type SOLOHeadOutputs, type SOLOHeadOptions } from './solo-head.js';
export { DecoupledSOLOHead, type DecoupledSOLOHeadOutputs } from './decoupled-solo-head.js';
export { DecoupledSOLOLightHead, type DecoupledSOLOLightHeadOptions } from './decoupled-solo-light-head.js';
export { SOLOV2Head, type SOLOV2HeadOptions, type SOLOV2HeadOutputs } from './solov2-head.js';
export { MaskFeatModule, MASK_FEATURE_HEAD_KEYS, type MaskFeatModuleOptions } from './mask-feat-module.js';
export { ModuleList, NamedSequential } from './module-list.js';
// init_cfg handling is shared with the backbones in @solo-ts/ops; re-exported for the heads' public API
export { applyInitCfg, biasInitWithProb } from '@solo-ts/ops';
export { resizeFeats, toSoloTestCfg, padMasks, selectCandidates, emptyResult } from './common.js';

/** The heads of this package, for `registry.load(headsComponents)`. */
export const headsComponents = new ComponentModule(PACKAGE_NAME, [
  { scope: 'models', component: SOLOHead },
  { scope: 'models', component: DecoupledSOLOHead },
  { scope: 'models', component: DecoupledSOLOLightHead },
  { scope: 'models', component: SOLOV2Head },
]);
