// SPDX-License-Identifier: Apache-2.0
/**
 * Bookkeeping of a run's checkpoint files (mmengine CheckpointHook): the last one saved, the newest
 * `max_keep_ckpts` interval checkpoints (older ones are deleted), and the best one by `save_best`
 * (`best_<metric>_<epoch_N|iter_N>.safetensors`, replaced when the metric improves; rule: `rule`, else `greater`
 * for a key containing one of `greater_keys`, `less` for one of `less_keys`, else `less` when the key looks like a
 * loss and `greater` otherwise).
 */
import fs from 'node:fs';
import path from 'node:path';
import { fmtNum } from './format.js';
import type { RunMeta } from './checkpointing.js';

export interface KeeperSettings {
  maxKeep: number;
  saveBest?: string;
  rule?: 'greater' | 'less';
  greaterKeys?: readonly string[];
  lessKeys?: readonly string[];
}

export class CheckpointKeeper {
  /** Last checkpoint written (absolute path). */
  last?: string;
  best?: string;
  private bestScore?: number;
  private readonly kept: string[] = [];

  constructor(
    private readonly dir: string,
    private readonly s: KeeperSettings,
    private readonly log: (line: string) => void,
  ) {}

  /** Record a saved file; interval checkpoints beyond `maxKeep` are deleted (never the best one). */
  saved(file: string, interval: boolean): void {
    this.last = file;
    if (!interval) return;
    this.kept.push(file);
    while (this.s.maxKeep > 0 && this.kept.length > this.s.maxKeep) {
      const old = this.kept.shift()!;
      if (old !== this.best && old !== this.last) fs.rmSync(old, { force: true });
    }
  }

  metaFields(): Pick<RunMeta, 'bestScore' | 'bestCheckpoint'> {
    return { bestScore: this.bestScore, bestCheckpoint: this.best };
  }

  restore(meta: RunMeta, file: string): void {
    this.last = file;
    this.bestScore = meta.bestScore;
    this.best = meta.bestCheckpoint;
  }

  private rule(key: string): 'greater' | 'less' {
    if (this.s.rule) return this.s.rule;
    if (this.s.greaterKeys?.some((k) => key.includes(k))) return 'greater';
    if (this.s.lessKeys?.some((k) => key.includes(k))) return 'less';
    return /loss/i.test(key) ? 'less' : 'greater';
  }

  /** After a validation: if the `saveBest` metric improved, write the best checkpoint and delete the previous best. */
  async updateBest(metrics: Record<string, number>, position: string, save: (target: string) => Promise<void>): Promise<void> {
    if (!this.s.saveBest) return;
    const key = this.s.saveBest === 'auto' ? Object.keys(metrics)[0] : this.s.saveBest;
    if (key === undefined) return;
    const v = metrics[key];
    if (v === undefined) {
      this.log(`WARNING: save_best metric ${key} is not among the validation metrics (${Object.keys(metrics).join(', ')})`);
      return;
    }
    const better = this.bestScore === undefined || (this.rule(key) === 'greater' ? v > this.bestScore : v < this.bestScore);
    if (!better) return;
    const target = path.join(this.dir, `best_${key.replace(/[/]/g, '_')}_${position}.safetensors`);
    const previous = this.best;
    this.best = target;
    this.bestScore = v;
    await save(target);
    if (previous && previous !== target) fs.rmSync(previous, { force: true });
    this.log(`The best checkpoint with ${fmtNum(v)} ${key} at ${position} is saved to ${path.basename(target)}`);
  }
}
