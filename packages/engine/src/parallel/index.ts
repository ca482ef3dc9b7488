// SPDX-License-Identifier: Apache-2.0
export { DATA_PARALLEL_BACKENDS, DataParallelTrainer, autoWorkers, parseWorkers, threadsPerWorker, type DataParallelOptions } from './data-parallel.js';
export { decodeBatch, encodeBatch, shardSizes, splitBatch, type EncodedBatch } from './batch-codec.js';
export { makeParamLayout, type ParamLayout } from './protocol.js';
