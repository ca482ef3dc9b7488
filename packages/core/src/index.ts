// SPDX-License-Identifier: Apache-2.0
export * from './errors.js';
export * from './config-source.js';
