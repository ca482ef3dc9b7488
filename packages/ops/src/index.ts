// SPDX-License-Identifier: Apache-2.0
/**
 * @solo-ts/ops: PyTorch-exact tensor ops and layers (conv, norms, resize, DCNv2), their mmcv-style builders and
 * init_cfg, FLOP counting, and the kernels solo-ts registers on tfjs backends for training. Kernel internals
 * (backprop implementations, the kernel scope) are not exported.
 */
export const PACKAGE_NAME = '@solo-ts/ops';

// functional ops
export { relu, sigmoid } from './functional/activation.js';
export { conv2d, type ConvFnOptions, type Pair } from './functional/conv.js';
export { coordFeature } from './functional/coords.js';
export { modulatedDeformConv2d, setDeformSampler, type DeformConv2dOptions } from './functional/deform-conv.js';
export { groupNorm } from './functional/group-norm.js';
export { pointNms } from './functional/point-nms.js';
export { maxPool2d } from './functional/pool.js';
export { interpolate, resizeBilinear, type InterpolateOptions } from './functional/resize.js';

// layers, builders, init
export { Conv2d, type Conv2dOptions } from './nn/conv2d.js';
export { BatchNorm2d, GroupNorm, type BatchNorm2dOptions, type GroupNormOptions } from './nn/norm.js';
export { DEFORM_CONV_OPSET, DeformConv2dPack, DeformConvBase, ModulatedDeformConv2dPack, type DeformConvOptions } from './nn/dcn.js';
export { ConvModule, type ConvModuleOptions } from './nn/conv-module.js';
export { AvgPool2dCeil, ModuleList, ReLU, Sequential, type Layer } from './nn/sequential.js';
export {
  buildConvLayer,
  buildNormLayer,
  type ActCfg,
  type ConvCfg,
  type ConvLayer,
  type ConvLayerOptions,
  type NormCfg,
} from './nn/builders.js';
export { batchNormFolding, convNormAct, convNormActOnnx, fuseForInference, setBatchNormFolding } from './nn/fused.js';
export type { InitCfg } from './nn/init.js';
export { applyInitCfg, biasInitWithProb, initCfgHasInit, initConv, initNorm, resetToTorchDefaults } from './nn/init-cfg.js';

// ONNX graph building (what modules' toOnnx write into; @solo-ts/onnx serializes it)
export {
  attr,
  MIN_OPSET,
  ONNX_DTYPE,
  OnnxGraph,
  type OnnxAttribute,
  type OnnxDType,
  type OnnxGraphOptions,
  type OnnxInitializer,
  type OnnxNode,
  type OnnxValue,
  type OnnxValueInfo,
} from './onnx/graph.js';
export {
  activationOnnx,
  channelAffineOnnx,
  concatCoordsOnnx,
  convOnnx,
  coordFeatureOnnx,
  groupNormOnnx,
  hasOnnxEmitter,
  hwioToOihw,
  layerToOnnx,
  maxPoolOnnx,
  notExportable,
  pointNmsOnnx,
  resizeByScaleOnnx,
  resizeLikeOnnx,
  resizeToSizeOnnx,
  shapeSlice,
  tensorData,
  type ConvGeometry,
  type OnnxLayer,
} from './onnx/emit.js';

// kernels registered on tfjs backends
export {
  registerGroupNormKernels,
  registerResizeGradKernels,
  registerWasmTrainingKernels,
  WASM_TRAINING_KERNELS,
} from './kernels/register.js';
export { registerZeroGradients, ZERO_GRADIENT_KERNELS } from './kernels/gradients.js';
export { registerWebgpuKernels, WEBGPU_KERNELS } from './kernels/webgpu.js';

// FLOP counting
export { countFlops, formatFlopTable, type FlopReport, type LayerFlops } from './flops/count-flops.js';
export type { FlopKind } from './flops/kernel-flops.js';

// OpenCV-exact image resizes on typed arrays (mmcv.imresize / imrescale)
export { imrescaleU8, rescaleSize, resizeLinearU8, resizeNearestU8, scaleSize, type ImageU8 } from './image/cv-resize.js';
