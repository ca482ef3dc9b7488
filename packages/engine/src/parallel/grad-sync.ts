// SPDX-License-Identifier: Apache-2.0
/**
 * The part of a data-parallel step every rank runs, whatever carries the collective (worker threads or MPI
 * processes): forward / backward on this rank's shard, then, through the `Collective`:
 * 1. `allGather` of each rank's loss values (and whether it had samples): every rank sees every loss, so a
 *    non-finite loss on any rank becomes the same `NonFiniteLossError` (naming the first such rank) everywhere,
 *    before any gradient moves;
 * 2. a mean reduction of one flat float32 buffer: every trainable parameter's gradient in `trainableParameters()`
 *    order (`ParamLayout`), then one flag per parameter (1 where the loss reached it on this rank). The sum runs
 *    in rank order in float64 (`orderedSum`), divided by the number of ranks that had samples; a parameter the loss
 *    did not reach on some rank counts as a zero gradient there, one it reached on no rank gets no gradient (the
 *    optimizer leaves it alone, as in one process).
 * The logged loss terms are the means over the ranks with samples, summed in rank order.
 */
import * as tf from '@tensorflow/tfjs-core';
import { SoloError } from '@solo-ts/core';
import { computeGradients, NonFiniteLossError } from '../runner/train-step.js';
import type { DataBatch, TrainableDetector } from '../runner/types.js';
import type { Collective } from './collective.js';
import type { ParamLayout } from './protocol.js';

export interface GradSyncOptions {
  model: TrainableDetector;
  params: Map<string, tf.Variable>;
  layout: ParamLayout;
  comm: Collective;
  iter: number;
  checkFinite: boolean;
  /** where the averaged gradients are needed: every rank (`all`, MPI: each rank steps its optimizer) or one rank */
  root: number | 'all';
  /** reused between steps (layout.total + layout.names.length floats) */
  flat?: Float32Array;
}

export interface GradSyncResult {
  /** averaged gradients (on the root, or on every rank with `root: 'all'`; the caller owns them) */
  grads?: Map<string, tf.Tensor>;
  /** mean loss terms over the ranks with samples, plus `loss` */
  terms: Record<string, number>;
  /** milliseconds: preprocess and forward / backward of this rank, collective time (waiting for peers included) */
  timings: { preprocess: number; forwardBackward: number; sync: number };
}

interface RankLoss {
  terms: Record<string, number>;
  total: number;
  active: boolean;
}

/** Forward / backward on `shard` and the gradient average over the group (see the module doc). */
export async function syncGradients(shard: DataBatch, o: GradSyncOptions): Promise<GradSyncResult> {
  const { layout, comm } = o;
  const nParams = layout.names.length;
  const flat = o.flat && o.flat.length === layout.total + nParams ? o.flat : new Float32Array(layout.total + nParams);
  flat.fill(0);
  const mine: RankLoss = { terms: {}, total: 0, active: shard.inputs.length > 0 };
  let timings = { preprocess: 0, forwardBackward: 0 };
  if (mine.active) {
    const r = computeGradients(shard, o.model, o.params);
    timings = r.timings;
    try {
      mine.total = r.value.dataSync()[0];
      for (const [k, t] of Object.entries(r.terms)) mine.terms[k] = t.dataSync()[0];
      if (Number.isFinite(mine.total)) {
        layout.names.forEach((name, i) => {
          const g = r.grads.get(name);
          if (!g) return;
          flat.set(g.dataSync() as Float32Array, layout.offsets[i]);
          flat[layout.total + i] = 1;
        });
      }
    } finally {
      tf.dispose([...r.grads.values(), ...Object.values(r.terms), r.value]);
    }
  }
  const t0 = performance.now();
  const losses = await comm.allGather(mine);
  const active = losses.flatMap((r, rank) => (r.active ? [{ rank, r }] : []));
  if (active.length === 0) throw new SoloError(`iteration ${o.iter}: an empty batch`, { code: 'DATASET' });
  if (o.checkFinite) {
    const bad = active.find(({ r }) => !Number.isFinite(r.total));
    if (bad) throw new NonFiniteLossError(o.iter, bad.r.terms, comm.worldSize > 1 ? bad.rank : undefined);
  }
  const terms = meanTerms(active, o.iter);
  const reduce = { op: 'mean' as const, divisor: active.length };
  if (o.root === 'all') await comm.allReduce(flat, reduce);
  else await comm.reduce(flat, { ...reduce, root: o.root });
  const sync = performance.now() - t0;
  if (o.root !== 'all' && o.root !== comm.rank) return { terms, timings: { ...timings, sync } };
  const grads = new Map<string, tf.Tensor>();
  for (let i = 0; i < nParams; i++) {
    if (!(flat[layout.total + i] > 0)) continue;
    const off = layout.offsets[i];
    grads.set(layout.names[i], tf.tensor(flat.slice(off, off + layout.sizes[i]), layout.shapes[i], 'float32'));
  }
  return { grads, terms, timings: { ...timings, sync } };
}

/** Mean over ranks (in rank order) of each loss term, plus `loss` (mean of the totals). */
function meanTerms(active: Array<{ rank: number; r: RankLoss }>, iter: number): Record<string, number> {
  const keys = Object.keys(active[0].r.terms);
  const out: Record<string, number> = {};
  for (const k of keys) {
    let s = 0;
    for (const { rank, r } of active) {
      if (!(k in r.terms)) throw new SoloError(`iteration ${iter}: data-parallel rank ${rank} returned no ${k} (rank ${active[0].rank} did)`, { code: 'RUNTIME' });
      s += r.terms[k];
    }
    out[k] = s / active.length;
  }
  out.loss = active.reduce((a, { r }) => a + r.total, 0) / active.length;
  return out;
}
