// SPDX-License-Identifier: Apache-2.0
/**
 * The browser-safe part of @solo-ts/checkpoint (no `node:` imports): everything works on `Uint8Array`s.
 * Import it as `@solo-ts/checkpoint/pure` in browser bundles; `@solo-ts/checkpoint` adds the Node file functions.
 *
 * The public API only: the zip, pickle and SHA-256 readers, the safetensors layout planning and the dtype bit
 * conversions are internals of the formats (tests import them by relative path).
 */
export { TorchTensor, int64ToNumbers, isTensorLike, tensorToFloat32, type TensorData, type TensorLike, type TorchDType } from './tensor.js';
export type { InflateRaw } from './zip.js';
export { PickleGlobal, PickleObject } from './py-values.js';
export { isPth, readPth, type PthObject, type PthValue, type ReadPthOptions } from './pth.js';
export {
  applyPrefixMap,
  extractStateDict,
  parsePrefixMap,
  summarizeStateDict,
  toJSONSafe,
  type ExtractOptions,
  type ExtractedStateDict,
  type PrefixMap,
  type StateDictSummary,
} from './state-dict.js';
export { decodeSafetensors, encodeSafetensors, parseSafetensors, type ParsedSafetensors, type SafetensorsEntry, type TensorCollection } from './safetensors.js';
export {
  CHECKPOINT_FORMAT,
  CHECKPOINT_FORMAT_VERSION,
  decodeCheckpoint,
  encodeCheckpoint,
  type CheckpointData,
  type DecodeCheckpointOptions,
  type HashFactory,
  type Hasher,
  type LoadedCheckpoint,
} from './checkpoint-format.js';
export { readAnyCheckpoint, type AnyCheckpoint, type ReadAnyOptions } from './any.js';
export { encodePthAsCheckpoint, pthToCheckpoint, type ConversionSummary, type ConvertOptions, type ConvertedCheckpoint, type PthConversionMeta } from './convert.js';
