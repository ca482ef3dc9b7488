// SPDX-License-Identifier: Apache-2.0
export * from './stats.js';
export * from './machine.js';
export * from './peak.js';
export * from './inputs.js';
export * from './infer.js';
export * from './train.js';
export * from './bench.js';
export * from './format.js';
