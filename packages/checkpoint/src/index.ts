// SPDX-License-Identifier: Apache-2.0
/**
 * @solo-ts/checkpoint: PyTorch `.pth` reading (zip + legacy, pickle, no Python), safetensors, and the atomic,
 * checksummed solo-ts checkpoint files. See docs/checkpoints.md.
 *
 * `@solo-ts/checkpoint/pure` exports the same minus the Node file functions of `node.ts`, for browsers.
 */
export const PACKAGE_NAME = '@solo-ts/checkpoint';
// The browser-safe API is listed by name once, in pure.ts (the `@solo-ts/checkpoint/pure` entry point); the
// package root re-exports that list rather than repeating it.
// eslint-disable-next-line no-restricted-syntax
export * from './pure.js';
export {
  LAST_CHECKPOINT_FILE,
  atomicWriteFile,
  convertPthToSafetensors,
  loadAnyCheckpoint,
  loadCheckpoint,
  loadPthFile,
  readLastCheckpoint,
  saveCheckpoint,
  writeLastCheckpoint,
  type ConvertFileOptions,
  type ConvertFileResult,
  type LoadPthOptions,
  type SaveCheckpointOptions,
  type SaveCheckpointResult,
} from './node.js';
