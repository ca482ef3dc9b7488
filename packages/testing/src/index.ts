// SPDX-License-Identifier: Apache-2.0
/**
 * @solo-ts/testing: test backends and contract test suites for solo-ts components (used by the project and by
 * plugin authors with vitest). See docs/plugins.md.
 */
export const PACKAGE_NAME = '@solo-ts/testing';
export * from './backend.js';
export * from './tensors.js';
export * from './samples.js';
export * from './gradients.js';
export * from './contracts/index.js';
