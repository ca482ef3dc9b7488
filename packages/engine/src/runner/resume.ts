// SPDX-License-Identifier: Apache-2.0
/**
 * Where a run starts from: `resume` (a checkpoint file, or the work dir's `last_checkpoint`: weights, optimizer
 * buffers, position and RNG state, with warnings when the config, the data or the world size changed) or
 * `load_from` (weights only, non-strict, with a report of what did not fit).
 */
import path from 'node:path';
import { CheckpointError, type SeededRandom } from '@solo-ts/core';
import { readLastCheckpoint } from '@solo-ts/checkpoint';
import type { Optimizer } from '../optim/optimizer.js';
import { hashText, loadRunCheckpoint, type RunMeta } from './checkpointing.js';
import type { LoopPosition } from './train-loop.js';
import type { EpochLoader, TrainableDetector } from './types.js';

export interface RestoreContext {
  resume?: string | boolean;
  loadFrom?: string;
  workDir: string;
  model: TrainableDetector;
  optimizer: Optimizer;
  trainLoader: EpochLoader;
  configText: string;
  worldSize: number;
  log(line: string): void;
}

/** Resume into `pos` / `rng`, or load weights; returns the resumed checkpoint (undefined when none). */
export async function restoreRun(c: RestoreContext, pos: LoopPosition, rng: SeededRandom): Promise<{ file: string; meta: RunMeta } | undefined> {
  if (c.resume) {
    const file = c.resume === true ? await readLastCheckpoint(c.workDir) : path.resolve(c.resume);
    if (!file) {
      c.log(`No checkpoint to resume from in ${c.workDir} (no last_checkpoint); starting from scratch`);
    } else {
      const r = await loadRunCheckpoint(file, c.model, { strict: true, optimizer: c.optimizer });
      const m = r.meta!;
      pos.epoch = m.epoch;
      pos.iter = m.iter;
      pos.inner = m.innerIter;
      rng.setState(m.rng);
      return { file, meta: m };
    }
  }
  if (c.loadFrom) {
    const r = await loadRunCheckpoint(c.loadFrom, c.model, { strict: false });
    const rep = r.report;
    const list = (xs: string[]) => `${xs.slice(0, 8).join(', ')}${xs.length > 8 ? ', ...' : ''}`;
    c.log(`Loaded ${rep.loaded.length} of ${c.model.stateDict().size} tensors from ${c.loadFrom}`);
    if (rep.missing.length) c.log(`  not in the checkpoint (kept initialised): ${rep.missing.length}: ${list(rep.missing)}`);
    if (rep.unexpected.length) c.log(`  ignored (not in the model): ${rep.unexpected.length}: ${list(rep.unexpected)}`);
    if (rep.mismatched.length) c.log(`  skipped, shape differs (checkpoint -> model): ${rep.mismatched.map((m) => `${m.key} [${m.got}] -> [${m.expected}]`).join('; ')}`);
    if (rep.loaded.length === 0) throw new CheckpointError(`no tensor of ${c.loadFrom} matches the model (is it a checkpoint of this model family?)`);
  }
  return undefined;
}

/** The log lines of a resume: where it continues, and what changed since the checkpoint was saved. */
export function logResume(c: RestoreContext, file: string, m: RunMeta): void {
  c.log(`Resumed from ${file}: epoch ${m.epoch + 1}, iteration ${m.iter} (batch ${m.innerIter} of the epoch)`);
  if (m.configHash !== hashText(c.configText)) c.log(`WARNING: the config changed since ${file} was saved; continuing with the new config`);
  const ws = typeof m.worldSize === 'number' ? m.worldSize : 1;
  if (ws !== c.worldSize) c.log(`WARNING: ${file} was saved by a run with ${ws} data-parallel worker${ws === 1 ? '' : 's'}, this run has ${c.worldSize}: the batches (and with them the data order from here on) differ from an uninterrupted run`);
  const fp = c.trainLoader.fingerprint?.();
  if (m.datasetFingerprint && fp && m.datasetFingerprint !== fp) c.log(`WARNING: the training data changed since ${file} was saved; the data order will differ`);
}
