// SPDX-License-Identifier: Apache-2.0
/**
 * The browser-safe part of @solo-ts/checkpoint (no `node:` imports): everything works on `Uint8Array`s.
 * Import it as `@solo-ts/checkpoint/pure` in browser bundles; `@solo-ts/checkpoint` adds the Node file functions.
 */
export * from './tensor.js';
export * from './zip.js';
export * from './pickle.js';
export * from './pth.js';
export * from './state-dict.js';
export * from './sha256.js';
export * from './safetensors.js';
export * from './checkpoint-format.js';
export * from './any.js';
export * from './convert.js';
