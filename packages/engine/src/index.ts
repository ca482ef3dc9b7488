// SPDX-License-Identifier: Apache-2.0
export * from './optim/sgd.js';
export * from './optim/schedulers.js';
export * from './logging/tensorboard.js';
export * from './logging/scalar-log.js';
export * from './runner/types.js';
export * from './runner/format.js';
export * from './runner/train-step.js';
export * from './runner/checkpointing.js';
export * from './runner/runner.js';
export * from './logging/plot.js';
