// SPDX-License-Identifier: Apache-2.0
/**
 * Saving and restoring a training run.
 *
 * A checkpoint holds the model's state dict in PyTorch layout and mmdetection names (so our files and released
 * `.pth` files load through the same path), the optimizer's momentum buffers (`optimizer.<param>`), and JSON
 * metadata: runner position (epoch, iteration), learning rate, RNG state, the merged config text, its hash and
 * the dataset fingerprint. Files are written by `@solo-ts/checkpoint` atomically and checksummed; the
 * `last_checkpoint` pointer is updated only after the file is complete.
 */
import crypto from 'node:crypto';
import * as tf from '@tensorflow/tfjs-core';
import { CheckpointError, type Module, type TensorRecord, toTorchLayout } from '@solo-ts/core';
import { loadAnyCheckpoint, saveCheckpoint } from '@solo-ts/checkpoint';
import type { Optimizer, OptimizerStateRecord } from '../optim/optimizer.js';

export interface RunMeta {
  epoch: number;
  iter: number;
  innerIter: number;
  lr: number;
  rng: number[];
  configHash: string;
  configText: string;
  datasetFingerprint?: string;
  bestScore?: number;
  bestCheckpoint?: string;
  savedAt: string;
  reason: string;
  soloTsVersion: string;
  [k: string]: unknown;
}

export function hashText(text: string): string {
  return crypto.createHash('sha256').update(text).digest('hex').slice(0, 16);
}

/** The model's state dict as plain records in PyTorch layout (reads tensors back from the device). */
export async function modelStateRecords(model: Module): Promise<Record<string, TensorRecord>> {
  const out: Record<string, TensorRecord> = {};
  for (const [name, { tensor, torchLayout }] of model.stateDict()) {
    const t = toTorchLayout(tensor, torchLayout);
    const data = await t.data();
    out[name] = { dtype: t.dtype === 'int32' ? 'int32' : 'float32', shape: t.shape, data: data as Float32Array | Int32Array };
    t.dispose();
  }
  return out;
}

/**
 * Save the model (PyTorch layout, mmdetection names), the optimizer's momentum buffers (`optimizer.<param>`, our
 * layout; omitted when `optimizer` is null) and the run metadata, atomically.
 */
export async function saveRunCheckpoint(file: string, model: Module, optimizer: Optimizer | null, meta: RunMeta, updatePointer = true): Promise<void> {
  const tensors: Record<string, TensorRecord> = await modelStateRecords(model);
  let optMeta: Record<string, unknown> | undefined;
  if (optimizer) {
    const opt: OptimizerStateRecord = await optimizer.state();
    for (const [k, b] of Object.entries(opt.buffers)) tensors[`optimizer.${k}`] = { dtype: 'float32', shape: b.shape, data: b.data };
    optMeta = { type: opt.type, lr: opt.lr, stepCount: opt.stepCount, layout: 'solo-ts' };
  }
  await saveCheckpoint(file, { tensors: tensors as unknown as Parameters<typeof saveCheckpoint>[1]['tensors'], meta: { ...meta, layout: 'pytorch', ...(optMeta ? { optimizer: optMeta } : {}) } }, { updatePointer });
}

export interface LoadedRun {
  meta?: RunMeta;
  optimizer?: OptimizerStateRecord;
  report: ReturnType<Module['loadStateDict']>;
}

/**
 * Load a checkpoint (ours or a released `.pth`) into the model; with `optimizer`, restore it too.
 * `strict: false` skips mismatched keys (fine-tuning to another class count) and reports them.
 */
export async function loadRunCheckpoint(file: string, model: Module, options: { strict: boolean; optimizer?: Optimizer }): Promise<LoadedRun> {
  const ck = await loadAnyCheckpoint(file);
  const state = new Map<string, TensorRecord>();
  const optBuffers: OptimizerStateRecord['buffers'] = {};
  for (const [k, v] of ck.stateDict) {
    if (k.startsWith('optimizer.')) optBuffers[k.slice('optimizer.'.length)] = { shape: v.shape, data: toFloat32(v) };
    else state.set(k, v as TensorRecord);
  }
  const report = model.loadStateDict(state, { strict: options.strict, source: file, torchLayout: true });
  const meta = (ck.meta && typeof ck.meta === 'object' && 'epoch' in (ck.meta as object) ? ck.meta : undefined) as RunMeta | undefined;
  let optimizer: OptimizerStateRecord | undefined;
  if (options.optimizer) {
    if (!meta) throw new CheckpointError(`${file} has no training state (it is a weights-only checkpoint); use --load-from to start a new run from it`);
    const om = (meta as { optimizer?: { type: string; lr: number; stepCount: number } }).optimizer;
    if (!om) throw new CheckpointError(`${file} was saved without the optimizer state (default_hooks.checkpoint.save_optimizer: false), so training cannot resume exactly from it; use --load-from to start a new run from its weights`);
    optimizer = { type: om.type ?? 'SGD', buffers: optBuffers, lr: om.lr, stepCount: om.stepCount };
    options.optimizer.loadState(optimizer);
  }
  return { meta, optimizer, report };
}

function toFloat32(v: { data: ArrayLike<number> | BigInt64Array }): Float32Array {
  if (v.data instanceof Float32Array) return v.data;
  if (v.data instanceof BigInt64Array) return Float32Array.from(v.data, (x) => Number(x));
  return Float32Array.from(v.data as ArrayLike<number>);
}

/** Number of tensors the model currently holds (for leak checks in hooks/tests). */
export function liveTensors(): number {
  return tf.memory().numTensors;
}
