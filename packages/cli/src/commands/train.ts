// SPDX-License-Identifier: Apache-2.0
/**
 * `solo train CONFIG [--work-dir DIR] [--resume [CKPT]] [--load-from CKPT] [--cfg-options k=v ...] [--seed N]
 *  [--max-iters N] [--max-minutes M] [--auto-scale-lr] [--threads N] [--workers N] [--no-validate] [--json]`
 *
 * Trains the config's model (mmdetection's `tools/train.py`): builds everything through the registry, writes the
 * merged config, logs (text, JSON lines, TensorBoard) and checkpoints into the work dir (default
 * `work_dirs/<config name>`). `--resume` continues from `<work_dir>/last_checkpoint` (or the given file) exactly;
 * `--load-from` starts a new run from weights (a released mmdetection `.pth` or ours; tensors whose shape differs,
 * e.g. the class-count layers, are skipped and reported). SIGINT/SIGTERM save a checkpoint and stop (exit 130/143).
 * `--workers N` trains data-parallel over N threads of this process (each a model on its own backend, gradients
 * averaged; `train_dataloader.batch_size` is per worker; docs/training.md). `--launcher mpi` is one rank of a
 * distributed run started by mpirun / srun / an MPIJob (tools/dist_train.sh CONFIG N): one process per rank,
 * `batch_size` per rank, rank 0 writes logs and checkpoints.
 */
import type { Command } from 'commander';
import { SoloError } from '@solo-ts/core';
import { defaultRegistryFactory } from '@solo-ts/apis';
import { releaseBackendThreads, type BackendChoice } from '@solo-ts/backends';
import { buildRunnerFromConfig, parseLauncher, parseWorkers, type TrainSummary } from '@solo-ts/engine';
import { cfgOptionsOption } from '../util/cfg-options.js';
import { action } from '../util/errors.js';
import { globalOptions } from '../util/global.js';

export interface TrainCommandOptions {
  workDir?: string;
  resume?: string | boolean;
  loadFrom?: string;
  cfgOptions?: string[];
  seed?: string;
  maxIters?: string;
  maxMinutes?: string;
  autoScaleLr?: boolean;
  threads?: string;
  workers?: string;
  launcher?: string;
  validate?: boolean;
  json?: boolean;
}

/** A non-negative number option, or a `SoloError` naming it. */
export function numberOption(value: string | undefined, option: string, opts: { integer?: boolean; min?: number } = {}): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (value.trim() === '' || !Number.isFinite(n) || (opts.integer && !Number.isInteger(n)) || n < (opts.min ?? 0)) {
    throw new SoloError(`${option} must be ${opts.integer ? 'an integer' : 'a number'} >= ${opts.min ?? 0}, got "${value}"`, { code: 'ARGUMENT' });
  }
  return n;
}

/** Run `solo train`; returns the summary (the CLI prints it). */
export async function trainCommand(config: string, opts: TrainCommandOptions, backend: BackendChoice): Promise<TrainSummary> {
  const run = await buildRunnerFromConfig(config, {
    registry: defaultRegistryFactory,
    workDir: opts.workDir,
    resume: opts.resume,
    loadFrom: opts.loadFrom,
    cfgOptions: opts.cfgOptions,
    seed: numberOption(opts.seed, '--seed', { integer: true }),
    maxIters: numberOption(opts.maxIters, '--max-iters', { integer: true, min: 1 }),
    maxMinutes: numberOption(opts.maxMinutes, '--max-minutes', { min: 0 }),
    autoScaleLr: opts.autoScaleLr ? true : undefined,
    threads: numberOption(opts.threads, '--threads', { integer: true, min: 1 }),
    workers: parseWorkers(opts.workers),
    launcher: parseLauncher(opts.launcher),
    noValidate: opts.validate === false,
    backend,
  });
  return run.train();
}

export function registerTrain(program: Command): void {
  program
    .command('train')
    .description('train a model from a config (mmdetection tools/train.py): logs, checkpoints, validation, resume')
    .argument('<config>', 'config file (YAML, mmdetection 3.x keys)')
    .option('--work-dir <dir>', 'where logs and checkpoints go (default: work_dir of the config, else work_dirs/<config name>)')
    .option('--resume [checkpoint]', 'resume training: from <work_dir>/last_checkpoint, or from the given checkpoint')
    .option('--load-from <checkpoint>', 'initialise from these weights (.pth or .safetensors; mismatched tensors are skipped and reported)')
    .addOption(cfgOptionsOption())
    .option('--seed <n>', 'random seed (weight init, data order, augmentation); default randomness.seed of the config, else 0')
    .option('--max-iters <n>', 'stop after this many iterations (saves a checkpoint; --resume continues)')
    .option('--max-minutes <m>', 'stop after this many minutes of training (validates and saves a checkpoint first)')
    .option('--auto-scale-lr', 'scale the learning rate by batch size / auto_scale_lr.base_batch_size')
    .option('--threads <n>', 'WebAssembly threads, per worker with --workers (default: all cores / workers, at most 8)')
    .option('--workers <n>', 'data-parallel workers (threads of this process, gradients averaged; batch_size is per worker): a number or auto (= min(cores, 2)); default 1')
    .option('--launcher <launcher>', 'none (one process) or mpi (this process is one rank of an mpirun / srun / MPIJob launch; batch_size is per rank; see tools/dist_train.sh)', 'none')
    .option('--no-validate', 'do not run validation during training')
    .option('--json', 'print a JSON summary as the last line')
    .addHelpText(
      'after',
      '\nExamples:\n' +
        '  solo train configs/demo/solov2-light_r18_shapes.yaml\n' +
        '  solo train configs/demo/solov2-light_r18_shapes.yaml --work-dir work_dirs/shapes --max-minutes 10\n' +
        '  solo train CONFIG --resume                 # continue after an interruption\n' +
        '  tools/dist_train.sh CONFIG 2                # 2 processes through mpirun (= mpirun -np 2 solo train CONFIG --launcher mpi)\n' +
        '  solo train my_config.yaml --load-from solov2_r50_fpn_1x_coco_20220512_125858-a357fa23.pth --cfg-options model.mask_head.num_classes=3',
    )
    .action(
      action(async (config: string, opts: TrainCommandOptions, cmd: Command) => {
        try {
          const s = await trainCommand(config, opts, globalOptions(cmd).backend as BackendChoice);
          if (opts.json && !s.rank) {
            process.stdout.write(`${JSON.stringify({ iters: s.iters, epochs: s.epochs, minutes: s.seconds / 60, stoppedBy: s.stoppedBy, lastLosses: s.lastLosses, metrics: s.metrics ?? null, lastCheckpoint: s.lastCheckpoint ?? null, bestCheckpoint: s.bestCheckpoint ?? null, logDir: s.logDir })}\n`);
          }
          if (s.stoppedBy === 'signal') process.exitCode = s.signal === 'SIGTERM' ? 143 : 130;
        } finally {
          releaseBackendThreads();
        }
      }),
    );
}
