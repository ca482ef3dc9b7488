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
import { ComponentModule } from '@solo-ts/core';
import { DecoupledSOLOHead } from './decoupled-solo-head.js';
import { DecoupledSOLOLightHead } from './decoupled-solo-light-head.js';
import { SOLOHead } from './solo-head.js';
import { SOLOV2Head } from './solov2-head.js';

export const PACKAGE_NAME = '@solo-ts/heads';

export { BaseMaskHead, type CandidateSource, type LossFeatures } from './base-mask-head.js';
export { SOLOHead, type SOLOHeadOutputs, type SOLOHeadRawOutputs } from './solo-head.js';
export { DecoupledSOLOHead, type DecoupledSOLOHeadOutputs, type DecoupledSOLOHeadRawOutputs } from './decoupled-solo-head.js';
export { DecoupledSOLOLightHead, type DecoupledSOLOLightHeadOptions } from './decoupled-solo-light-head.js';
export { SOLOV2Head, type SOLOV2HeadOptions, type SOLOV2HeadOutputs, type SOLOV2HeadRawOutputs } from './solov2-head.js';
export { MaskFeatModule, MASK_FEATURE_HEAD_KEYS, type MaskFeatModuleOptions } from './mask-feat-module.js';
export { type SOLOHeadOptions } from './head-options.js';
export { outputsToArrays, tensorToArray } from './raw-outputs.js';

/** The heads of this package, for `registry.load(headsComponents)`. */
export const headsComponents = new ComponentModule(PACKAGE_NAME, [
  { scope: 'models', component: SOLOHead },
  { scope: 'models', component: DecoupledSOLOHead },
  { scope: 'models', component: DecoupledSOLOLightHead },
  { scope: 'models', component: SOLOV2Head },
]);
