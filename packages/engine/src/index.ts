// SPDX-License-Identifier: Apache-2.0
/**
 * @solo-ts/engine: training runner, SGD, parameter schedulers, hooks, logs (JSONL + TensorBoard + PNG plots),
 * backends, the default registry, building a run from a config (`buildRunnerFromConfig`), evaluation, and the
 * inference API (`buildDetector`, `inferImage`). See docs/training.md.
 */
export const PACKAGE_NAME = '@solo-ts/engine';
export * from './optim/optimizer.js';
export * from './optim/sgd.js';
export * from './optim/adam.js';
export * from './optim/schedulers.js';
export * from './logging/tensorboard.js';
export * from './logging/scalar-log.js';
export * from './logging/plot.js';
export * from './runner/types.js';
export * from './runner/format.js';
export * from './runner/train-step.js';
export * from './runner/checkpointing.js';
export * from './runner/checkpoint-keeper.js';
export * from './runner/hooks.js';
export * from './runner/evaluate.js';
export * from './runner/runner.js';
export * from './components/index.js';
export * from './backend/index.js';
export * from './build/registry.js';
export * from './build/seed.js';
export * from './build/loader.js';
export * from './build/evaluator.js';
export * from './build/model.js';
export * from './build/optim.js';
export * from './build/build-runner.js';
export * from './api/coco-classes.js';
export * from './api/detector.js';
export * from './api/draw.js';
export * from './bench/index.js';
export * from './api/process.js';
export * from './api/test.js';
export * from './logging/log-series.js';
export * from './api/shapes-run.js';
export * from './build/pretrained.js';
export * from './parallel/index.js';
