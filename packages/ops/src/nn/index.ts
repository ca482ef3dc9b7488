// SPDX-License-Identifier: Apache-2.0
export * from './init.js';
export * from './conv2d.js';
export * from './norm.js';
export * from './dcn.js';
export * from './builders.js';
export * from './conv-module.js';
export * from './sequential.js';
export * from './fused.js';
export * from './init-cfg.js';
