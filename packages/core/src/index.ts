// SPDX-License-Identifier: Apache-2.0
export * from './errors.js';
export * from './config-source.js';
export * from './registry.js';
export * from './module.js';
export * from './structures.js';
export * from './contracts.js';
export * from './random.js';
export * from './progress.js';
