// SPDX-License-Identifier: Apache-2.0
/**
 * @solo-ts/checkpoint: PyTorch `.pth` reading (zip + legacy, pickle, no Python), safetensors, and the atomic,
 * checksummed solo-ts checkpoint files. See docs/checkpoints.md.
 *
 * `@solo-ts/checkpoint/pure` exports the same minus the Node file functions of `node.ts`, for browsers.
 */
export const PACKAGE_NAME = '@solo-ts/checkpoint';
export * from './pure.js';
export * from './node.js';
