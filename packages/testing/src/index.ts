// SPDX-License-Identifier: Apache-2.0
export const PACKAGE_NAME = '@solo-ts/testing';
export * from './backend.js';
