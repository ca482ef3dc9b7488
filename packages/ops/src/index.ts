// SPDX-License-Identifier: Apache-2.0
export const PACKAGE_NAME = '@solo-ts/ops';
export * from './functional/index.js';
export * from './nn/index.js';
export * from './kernels/index.js';
export * from './flops/index.js';
export { imrescaleU8, rescaleSize, resizeLinearU8, resizeNearestU8, scaleSize, type ImageU8 } from './image/cv-resize.js';
