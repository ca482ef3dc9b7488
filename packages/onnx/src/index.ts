// SPDX-License-Identifier: Apache-2.0
/**
 * @solo-ts/onnx: ONNX model files. `serializeOnnx` writes a graph built with @solo-ts/ops' `OnnxGraph` as ONNX
 * protobuf bytes (onnx-proto); `readOnnxMetadata` reads and validates the solo-ts metadata of an exported model;
 * `OnnxSession` runs an exported model on a given ONNX Runtime module (onnxruntime-node or onnxruntime-web).
 */
export const PACKAGE_NAME = '@solo-ts/onnx';

export { decodeOnnx, irVersionForOpset, serializeOnnx, type ModelProto, type SerializeOptions } from './serialize.js';
export {
  METADATA_FORMAT,
  METADATA_KEY,
  METADATA_VERSION,
  outputNames,
  rawOutputsFromNamed,
  readOnnxMetadata,
  validateMetadata,
  type OnnxDataPreprocessorMeta,
  type SoloOnnxMetadata,
} from './metadata.js';
export {
  loadErrorOf, OnnxSession, outputFieldsFromNames, type OnnxSessionOptions, type OrtModule, type OrtSessionLike, type OrtTensorLike,
} from './session.js';
