// SPDX-License-Identifier: Apache-2.0
export { registerGroupNormKernels, registerResizeGradKernels, registerWasmTrainingKernels, WASM_TRAINING_KERNELS } from './register.js';
export { conv2dBackpropFilterViaMatMul, conv2dBackpropInputViaConv } from './conv2d_backprop.js';
export { depthwiseBackpropFilterViaSlices, depthwiseBackpropInputViaConv } from './depthwise_backprop.js';
export { KernelScope, type BackendLike } from './kernel_utils.js';
export { registerZeroGradients, ZERO_GRADIENT_KERNELS } from './gradients.js';
export { GROUP_NORM, GROUP_NORM_GRAD } from './group_norm.js';
