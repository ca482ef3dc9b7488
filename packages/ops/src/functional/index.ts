// SPDX-License-Identifier: Apache-2.0
export * from './conv.js';
export * from './resize.js';
export * from './pool.js';
export * from './activation.js';
export * from './coords.js';
export * from './point-nms.js';
export * from './deform-conv.js';
export * from './grad-util.js';
export * from './group-norm.js';
