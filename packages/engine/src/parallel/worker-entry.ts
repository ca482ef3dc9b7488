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
 * Messages: `state` loads a full state dict (parameters and buffers, our layout) into the model; `step` copies the
 * trainable parameters from the shared `params` buffer into the variables, runs `computeGradients` (the
 * forward / backward of `trainStep`) on the shard and writes the gradients into this rank's region of the shared
 * `grads` buffer, then answers the loss values. Errors go back with the request id; nothing is thrown past a
 * message handler.
 */
import { parentPort, workerData } from 'node:worker_threads';
import * as tf from '@tensorflow/tfjs-core';
import { SoloError } from '@solo-ts/core';
import { Config } from '@solo-ts/config';
import { selectBackend, type BackendChoice } from '@solo-ts/backends';
import { loadPluginImportsInto } from '../build/build-runner.js';
import { buildModel } from '../build/model.js';
import { importRegistryFactory } from '../build/registry-factory.js';
import { computeGradients } from '../runner/train-step.js';
import type { TrainableDetector } from '../runner/types.js';
import { decodeBatch } from './batch-codec.js';
import { serializeError, type FromWorker, type StateRecord, type StepReply, type ToWorker, type WorkerInit } from './protocol.js';

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

function step(w: WorkerInit, model: TrainableDetector, params: Map<string, tf.Variable>, msg: Extract<ToWorker, { type: 'step' }>): StepReply {
  const { layout } = w;
  const shared = new Float32Array(w.params);
  [...params.values()].forEach((v, i) => {
    // slice(): a copy outside the shared buffer (the cpu backend keeps the array it is given)
    const t = tf.tensor(shared.slice(layout.offsets[i], layout.offsets[i] + layout.sizes[i]), layout.shapes[i], 'float32');
    v.assign(t);
    t.dispose();
  });
  const r = computeGradients(decodeBatch(msg.batch), model, params);
  const t0 = performance.now();
  const present = new Uint8Array(layout.names.length);
  let total = NaN;
  const terms: Record<string, number> = {};
  try {
    total = r.value.dataSync()[0];
    for (const [k, t] of Object.entries(r.terms)) terms[k] = t.dataSync()[0];
    if (Number.isFinite(total)) {
      const region = new Float32Array(w.grads, w.rank * layout.total * 4, layout.total);
      layout.names.forEach((name, i) => {
        const g = r.grads.get(name);
        if (!g) return;
        region.set(g.dataSync() as Float32Array, layout.offsets[i]);
        present[i] = 1;
      });
    }
  } finally {
    tf.dispose([...r.grads.values(), ...Object.values(r.terms), r.value]);
  }
  return { type: 'step-done', id: msg.id, terms, total, present, timings: { ...r.timings, write: performance.now() - t0 } };
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
  port.on('message', (msg: ToWorker) => {
    try {
      if (msg.type === 'state') {
        loadState(ctx.model, msg.records);
        post({ type: 'state-done', id: msg.id });
      } else if (msg.type === 'step') {
        post(step(w, ctx.model, ctx.params, msg));
      }
    } catch (e) {
      post({ type: 'error', id: msg.id, error: serializeError(e) });
    }
  });
  post({ type: 'ready', backend: ctx.backend });
}

void main();
