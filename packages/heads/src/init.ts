// SPDX-License-Identifier: Apache-2.0
/**
 * mmengine `init_cfg` for the heads. The implementation is shared with the backbones and lives in
 * `@solo-ts/ops` (`applyInitCfg`); these re-exports keep `@solo-ts/heads`' public API.
 */
export { applyInitCfg, biasInitWithProb, initConv } from '@solo-ts/ops';
