// SPDX-License-Identifier: Apache-2.0
/**
 * Building the detector of a config (`model`) and loading weights into it.
 *
 * `buildModel` builds `model` through the registry with seeded initialisation (`randomness.seed`), checks that
 * the result is a trainable detector and, given the dataset's classes, that the head has enough outputs.
 * `loadWeights` loads a solo-ts checkpoint, a converted safetensors file or an mmdetection `.pth` (released
 * checkpoints load as they are: same state-dict names) for inference: missing or mismatched tensors are an
 * error listing them, tensors the model does not have are reported and ignored.
 */
import { CheckpointError, ConfigError, formatLoadProblems, type LoadReport, type Registry } from '@solo-ts/core';
import type { Config } from '@solo-ts/config';
import { loadAnyCheckpoint } from '@solo-ts/checkpoint';
import type { TrainableDetector } from '../runner/types.js';
import { withSeededRandom } from './seed.js';

export interface BuildModelOptions {
  registry: Registry;
  /** Seed of the weight initialisation (default: `randomness.seed`, else 0). */
  seed?: number;
}

export function isTrainableDetector(m: unknown): m is TrainableDetector {
  const d = m as TrainableDetector;
  return typeof d === 'object' && d !== null && typeof d.preprocess === 'function' && typeof d.loss === 'function' && typeof d.predict === 'function' && typeof d.stateDict === 'function';
}

/** The seed of a config: `randomness.seed` (default 0). */
export function configSeed(cfg: Config): number {
  const s = cfg.get<unknown>('randomness.seed');
  return typeof s === 'number' && Number.isInteger(s) ? s : 0;
}

export function buildModel(cfg: Config, o: BuildModelOptions): TrainableDetector {
  const modelCfg = cfg.get('model');
  if (!modelCfg) throw new ConfigError(`${cfg.filename} has no \`model\``);
  const model = withSeededRandom(o.seed ?? configSeed(cfg), () => o.registry.build<unknown>('models', modelCfg, 'model'));
  if (!isTrainableDetector(model)) throw new ConfigError('`model` must be a detector with preprocess, loss and predict (e.g. SOLO, SOLOv2)', { location: cfg.sourceOf('model.type') });
  return model;
}

/** Number of classes of the model's head (`mask_head.num_classes`), when it has one. */
export function modelNumClasses(model: TrainableDetector): number | undefined {
  const n = (model as { maskHead?: { numClasses?: unknown } }).maskHead?.numClasses;
  return typeof n === 'number' ? n : undefined;
}

/** Refuse a dataset with more classes than the head predicts (the labels would fall outside the head). */
export function checkClasses(model: TrainableDetector, classes: readonly string[], cfg: Config, split: string): void {
  const n = modelNumClasses(model);
  if (n !== undefined && classes.length > n) {
    throw new ConfigError(`the ${split} dataset has ${classes.length} classes but model.mask_head.num_classes is ${n}`, {
      location: cfg.sourceOf('model.mask_head.num_classes') ?? cfg.sourceOf('model.mask_head'),
      hint: `set model.mask_head.num_classes: ${classes.length} (e.g. --cfg-options model.mask_head.num_classes=${classes.length}), or restrict the dataset with metainfo.classes`,
    });
  }
}

export interface LoadWeightsResult {
  report: LoadReport;
  format: string;
  meta: unknown;
}

/**
 * Load weights for inference / evaluation. `.pth` (mmdetection, torchvision), converted or solo-ts safetensors.
 * Missing or shape-mismatched tensors throw a `CheckpointError` naming them; extra tensors (optimizer state,
 * EMA copies, ...) are ignored and reported in the result.
 */
export async function loadWeights(model: TrainableDetector, file: string): Promise<LoadWeightsResult> {
  const ck = await loadAnyCheckpoint(file);
  const state = new Map([...ck.stateDict].filter(([k]) => !k.startsWith('optimizer.') && !k.startsWith('ema_') && !k.startsWith('data_preprocessor.')));
  if (ck.layout !== undefined && ck.layout !== 'pytorch' && ck.layout !== 'solo-ts') {
    throw new CheckpointError(`${file}: unknown tensor layout "${ck.layout}"`);
  }
  const report = model.loadStateDict(state as never, { strict: false, source: file, torchLayout: true });
  if (report.missing.length || report.mismatched.length) {
    throw new CheckpointError(formatLoadProblems({ ...report, unexpected: [] }, file), {
      hint: report.missing.length === model.stateDict().size
        ? 'no tensor name matches: is this a checkpoint of this model family (SOLO / SOLOv2, mmdetection names)?'
        : 'the checkpoint was trained with another config (depth, channels, number of classes): pass the config it was trained with',
    });
  }
  return { report, format: ck.format, meta: ck.meta };
}
