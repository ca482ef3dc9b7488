// SPDX-License-Identifier: Apache-2.0
export * from './kernel-flops.js';
export * from './count-flops.js';
