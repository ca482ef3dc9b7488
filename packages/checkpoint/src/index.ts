// SPDX-License-Identifier: Apache-2.0
/**
 * @solo-ts/checkpoint: PyTorch `.pth` reading (zip + legacy, pickle, no Python), safetensors, and the atomic,
 * checksummed solo-ts checkpoint files. See docs/checkpoints.md.
 *
 * `@solo-ts/checkpoint/pure` exports the same minus the Node file functions of `node.ts`, for browsers.
 */
export const PACKAGE_NAME = '@solo-ts/checkpoint';
// The browser-safe part, from the `@solo-ts/checkpoint/pure` entry point (pure.ts says which module holds each).
export {
  CHECKPOINT_FORMAT, CHECKPOINT_FORMAT_VERSION, PickleGlobal, PickleObject, TorchTensor, applyPrefixMap, decodeCheckpoint,
  decodeSafetensors, encodeCheckpoint, encodePthAsCheckpoint, encodeSafetensors, extractStateDict, int64ToNumbers, isPth,
  isTensorLike, parsePrefixMap, parseSafetensors, pthToCheckpoint, readAnyCheckpoint, readPth, summarizeStateDict,
  tensorToFloat32, toJSONSafe,
  type AnyCheckpoint, type CheckpointData, type ConversionSummary, type ConvertOptions, type ConvertedCheckpoint,
  type DecodeCheckpointOptions, type ExtractOptions, type ExtractedStateDict, type HashFactory, type Hasher,
  type InflateRaw, type LoadedCheckpoint, type ParsedSafetensors, type PrefixMap, type PthConversionMeta, type PthObject,
  type PthValue, type ReadAnyOptions, type ReadPthOptions, type SafetensorsEntry, type StateDictSummary, type TensorCollection,
  type TensorData, type TensorLike, type TorchDType,
} from './pure.js';
export {
  LAST_CHECKPOINT_FILE,
  atomicWriteFile,
  fileSha256,
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
