// SPDX-License-Identifier: Apache-2.0
/**
 * `@solo-ts/heads`: the SOLO-family mask heads (scope `models`): SOLOHead, DecoupledSOLOHead,
 * DecoupledSOLOLightHead, SOLOV2Head (with MaskFeatModule), on the `BaseMaskHead` template. Load `headsComponents`
 * into a Registry.
 *
 * Inference in two steps, as mmdetection's `forward` / `predict_by_feat`: `head.forward(feats)` in eval mode
 * (or any other runtime computing the same graph) gives the raw outputs; `outputsToArrays` turns tfjs outputs into
 * plain NCHW arrays; `head.predictByFeat(arrays, metas)` post-processes them into one InstanceData per image.
 */
import { component, ComponentModule } from '@solo-ts/core';
import { DecoupledSOLOHead } from './decoupled-solo-head.js';
import { DecoupledSOLOLightHead } from './decoupled-solo-light-head.js';
import { SOLOHead } from './solo-head.js';
import { SOLOV2Head } from './solov2-head.js';

export const PACKAGE_NAME = '@solo-ts/heads';

export { BaseMaskHead } from './base-mask-head.js';
export type { CandidateSource, LossFeatures } from './head-features.js';
export { soloHeadOptions, type HeadInitCfg, type SOLOHeadDeclaration, type SOLOHeadInput, type SOLOHeadOptions } from './head-options.js';
export { SOLOHead, type SOLOHeadOutputs, type SOLOHeadRawOutputs } from './solo-head.js';
export {
  DecoupledSOLOHead,
  decoupledSOLOHeadOptions,
  type DecoupledSOLOHeadInput,
  type DecoupledSOLOHeadOptions,
  type DecoupledSOLOHeadOutputs,
  type DecoupledSOLOHeadRawOutputs,
} from './decoupled-solo-head.js';
export { DecoupledSOLOLightHead, decoupledSOLOLightHeadOptions, type DecoupledSOLOLightHeadInput, type DecoupledSOLOLightHeadOptions } from './decoupled-solo-light-head.js';
export { SOLOV2Head, solov2HeadOptions, type SOLOV2HeadInput, type SOLOV2HeadOptions, type SOLOV2HeadOutputs, type SOLOV2HeadRawOutputs } from './solov2-head.js';
export { MaskFeatModule, maskFeatModuleOptions, type MaskFeatModuleInput, type MaskFeatModuleOptions } from './mask-feat-module.js';
export { outputsToArrays, tensorToArray } from './raw-outputs.js';

/** The heads of this package, for `registry.load(headsComponents)`. */
export const headsComponents = new ComponentModule(PACKAGE_NAME, [
  component('models', SOLOHead),
  component('models', DecoupledSOLOHead),
  component('models', DecoupledSOLOLightHead),
  component('models', SOLOV2Head),
]);
