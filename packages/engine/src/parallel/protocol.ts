// SPDX-License-Identifier: Apache-2.0
/**
 * The messages between the data-parallel main thread (rank 0) and its worker threads (ranks 1..N-1), the
 * parameter layout of the shared buffers, and error (de)serialisation.
 *
 * The parameters, gradients and loss values go through the ranks' `SharedMemoryCollective` (`WorkerInit.group`):
 * parameters broadcast from rank 0, gradients averaged onto rank 0 (`grad-sync.ts`), in `ParamLayout` order.
 * Everything else (the batch shards, the state dict, errors) goes through `postMessage` (structured clone).
 */
import { SoloError, type SoloErrorCode } from '@solo-ts/core';
import type { PluginImport } from '@solo-ts/config';
import type { EncodedBatch } from './batch-codec.js';
import type { RegistryFactoryRef } from '../build/registry-factory.js';
import type { SharedMemoryGroup } from './shared-memory.js';

/** Where each trainable parameter lives in the flat buffers the collective operations move. */
export interface ParamLayout {
  names: string[];
  shapes: number[][];
  /** first float of each parameter */
  offsets: number[];
  /** number of floats of each parameter */
  sizes: number[];
  /** floats in all */
  total: number;
}

export function makeParamLayout(params: Array<[string, { shape: number[] }]>): ParamLayout {
  const names: string[] = [];
  const shapes: number[][] = [];
  const offsets: number[] = [];
  const sizes: number[] = [];
  let total = 0;
  for (const [name, v] of params) {
    const size = v.shape.reduce((a, b) => a * b, 1);
    names.push(name);
    shapes.push([...v.shape]);
    offsets.push(total);
    sizes.push(size);
    total += size;
  }
  return { names, shapes, offsets, sizes, total };
}

/** `workerData` of a data-parallel worker. */
export interface WorkerInit {
  rank: number;
  worldSize: number;
  backend: { name: string; threads: number };
  /** the merged config's data (plain; source locations are dropped by the structured clone) and file name */
  config: { data: Record<string, unknown>; filename: string };
  /** where the worker imports the function that makes its registry from (the main thread's factory) */
  registry: RegistryFactoryRef;
  /** the config's plugins, resolved by the main thread (`pluginImports(cfg)`) */
  plugins: PluginImport[];
  seed: number;
  layout: ParamLayout;
  /** the shared memory of the ranks' collective */
  group: SharedMemoryGroup;
}

/** A state-dict tensor in our layout (NHWC / HWIO), for the full-state broadcast. */
export interface StateRecord {
  dtype: 'float32' | 'int32';
  shape: number[];
  data: Float32Array | Int32Array;
}

export type ToWorker =
  | { type: 'state'; id: number; records: Array<[string, StateRecord]> }
  | { type: 'step'; id: number; iter: number; checkFinite: boolean; batch: EncodedBatch };

export interface SerializedError {
  name?: string;
  message: string;
  stack?: string;
  isSoloError: boolean;
  code?: string;
  hint?: string;
}

export interface StepReply {
  type: 'step-done';
  id: number;
  /** true when a rank's loss was not finite (every rank saw it; the main thread raises the error) */
  nonFinite: boolean;
}

export type FromWorker =
  | { type: 'ready'; backend: string }
  | { type: 'init-error'; error: SerializedError }
  | { type: 'state-done'; id: number }
  | StepReply
  | { type: 'error'; id: number; error: SerializedError };

export function serializeError(e: unknown): SerializedError {
  const err = e as { name?: string; message?: string; stack?: string; isSoloError?: boolean; code?: string; hint?: string } | undefined;
  return { name: err?.name, message: err?.message ?? String(e), stack: err?.stack, isSoloError: Boolean(err?.isSoloError), code: err?.code, hint: err?.hint };
}

const CODES = new Set<SoloErrorCode>(['CONFIG', 'REGISTRY', 'FILE', 'CHECKPOINT', 'SHAPE', 'DATASET', 'ARGUMENT', 'BACKEND', 'RUNTIME']);

/** A worker's error as a `SoloError` whose message names the rank (the worker's stack is kept as the cause). */
export function workerError(rank: number, e: SerializedError, during: string): SoloError {
  const cause = new Error(e.message);
  if (e.stack) cause.stack = e.stack;
  const code = e.isSoloError && CODES.has(e.code as SoloErrorCode) ? (e.code as SoloErrorCode) : 'RUNTIME';
  const kind = e.isSoloError || !e.name || e.name === 'Error' ? '' : `${e.name}: `;
  return new SoloError(`data-parallel worker rank ${rank} failed ${during}: ${kind}${e.message}`, { code, hint: e.hint, cause });
}
