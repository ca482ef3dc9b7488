// SPDX-License-Identifier: Apache-2.0
/**
 * Worker-thread entry of data-parallel training (ranks 1..N-1; `data-parallel.ts` starts it).
 *
 * Start-up: selects the main thread's backend (`selectBackend`, which loads `@tensorflow/tfjs` and its gradients,
 * and solo-ts's kernels) with `threads` WebAssembly threads, makes its registry with the main thread's factory
 * (`WorkerInit.registry`: a module to import and the name of the function it exports), loads the config's plugins
 * into it like `buildRunnerFromConfig`, builds the model from the config (same seed) in training mode, checks that its
 * trainable parameters are the main thread's (names and shapes, in order), then answers `ready`.
 *
 * Messages: `state` loads a full state dict (parameters and buffers, our layout) into the model; `step` receives
 * the trainable parameters from rank 0 (`Collective.broadcast` of the ranks' `SharedMemoryCollective`), copies them
 * into the variables and runs `syncGradients` on its shard (forward / backward, loss values gathered, gradients
 * averaged onto rank 0), then answers. Errors go back with the request id (after aborting the group, so that no
 * rank waits for this one); nothing is thrown past a message handler.
 */
import { parentPort, workerData } from 'node:worker_threads';
import * as tf from '@tensorflow/tfjs-core';
import { SoloError } from '@solo-ts/core';
import { Config } from '@solo-ts/config';
import { selectBackend, type BackendChoice } from '@solo-ts/backends';
import { loadPluginImportsInto } from '../build/build-runner.js';
import { buildModel } from '../build/model.js';
import { importRegistryFactory } from '../build/registry-factory.js';
import { NonFiniteLossError } from '../runner/train-step.js';
import type { TrainableDetector } from '../runner/types.js';
import { decodeBatch } from './batch-codec.js';
import { syncGradients } from './grad-sync.js';
import { serializeError, type FromWorker, type StateRecord, type StepReply, type ToWorker, type WorkerInit } from './protocol.js';
import { SharedMemoryCollective } from './shared-memory.js';

async function init(w: WorkerInit): Promise<{ model: TrainableDetector; params: Map<string, tf.Variable>; backend: string }> {
  const backend = await selectBackend(w.backend.name as BackendChoice, { threads: w.backend.threads, quiet: true });
  const registry = (await importRegistryFactory(w.registry))();
  await loadPluginImportsInto(w.plugins, registry);
  const model = buildModel(new Config(w.config.data, w.config.filename), { registry, seed: w.seed });
  model.train();
  const own = model.trainableParameters();
  const { names, shapes } = w.layout;
  const same = own.length === names.length && own.every(([n, p], i) => n === names[i] && p.variable.dtype === 'float32' && p.shape.length === shapes[i].length && p.shape.every((d, j) => d === shapes[i][j]));
  if (!same) {
    throw new SoloError(`the model built in the worker has other trainable parameters than the main thread's (${own.length} vs ${names.length}); the config must build the same model in every thread`);
  }
  return { model, params: new Map(own.map(([n, p]) => [n, p.variable])), backend: backend.detail };
}

function loadState(model: TrainableDetector, records: Array<[string, StateRecord]>): void {
  const state = new Map<string, tf.Tensor>(records.map(([k, r]) => [k, tf.tensor(r.data, r.shape, r.dtype)]));
  try {
    model.loadStateDict(state, { strict: true, torchLayout: false, source: 'the main thread' });
  } finally {
    tf.dispose([...state.values()]);
  }
}

async function step(w: WorkerInit, comm: SharedMemoryCollective, model: TrainableDetector, params: Map<string, tf.Variable>, flat: Float32Array, msg: Extract<ToWorker, { type: 'step' }>): Promise<StepReply> {
  const { layout } = w;
  await comm.broadcast(flat, 0);
  [...params.values()].forEach((v, i) => {
    // slice(): a copy (the cpu backend keeps the array it is given)
    const t = tf.tensor(flat.slice(layout.offsets[i], layout.offsets[i] + layout.sizes[i]), layout.shapes[i], 'float32');
    v.assign(t);
    t.dispose();
  });
  try {
    await syncGradients(decodeBatch(msg.batch), { model, params, layout, comm, iter: msg.iter, checkFinite: msg.checkFinite, root: 0 });
  } catch (e) {
    if (e instanceof NonFiniteLossError) return { type: 'step-done', id: msg.id, nonFinite: true };
    throw e;
  }
  return { type: 'step-done', id: msg.id, nonFinite: false };
}

async function main(): Promise<void> {
  const port = parentPort;
  if (!port) throw new Error('the data-parallel worker entry must run in a worker thread');
  const w = workerData as WorkerInit;
  const post = (m: FromWorker) => port.postMessage(m);
  let ctx: Awaited<ReturnType<typeof init>>;
  try {
    ctx = await init(w);
  } catch (e) {
    post({ type: 'init-error', error: serializeError(e) });
    return;
  }
  const comm = new SharedMemoryCollective(w.group, w.rank);
  const flat = new Float32Array(w.layout.total);
  port.on('message', (msg: ToWorker) => {
    void (async () => {
      try {
        if (msg.type === 'state') {
          loadState(ctx.model, msg.records);
          post({ type: 'state-done', id: msg.id });
        } else if (msg.type === 'step') {
          post(await step(w, comm, ctx.model, ctx.params, flat, msg));
        }
      } catch (e) {
        comm.abort();
        post({ type: 'error', id: msg.id, error: serializeError(e) });
      }
    })();
  });
  post({ type: 'ready', backend: ctx.backend });
}

void main();
