// SPDX-License-Identifier: Apache-2.0
/**
 * Visualizer and log-processor configs (registry scope `visualizers`): `visualizer`, `vis_backends`,
 * `log_processor`. Logs always go to the work dir as a JSON-lines scalar file (LocalVisBackend's
 * `vis_data/scalars.json`) and a TensorBoard event file. `log_processor.num_digits` sets the digits of the text
 * log. Options solo-ts does not implement are refused with a `ConfigError` when set.
 */
import { ConfigError, defineOptions, resolveOptions, type BuildContext, type OptionsInput, type ResolvedOptions } from '@solo-ts/core';
import { DEFAULT_NUM_DIGITS } from '../runner/format.js';
import { requireValue } from './hooks/options.js';

const LOCAL = 'logs go to <work_dir>/<timestamp>/vis_data';

/** The options of {@link LocalVisBackend} (mmengine `LocalVisBackend.__init__`), declared once. */
export const localVisBackendOptions = defineOptions({
  save_dir: { type: 'string', nullable: true, doc: `must be unset (${LOCAL})` },
  img_save_dir: { type: 'string', nullable: true, doc: 'must be unset (no images are logged)' },
  config_save_file: { type: 'string', nullable: true, doc: 'must be unset (the config is <work_dir>/<timestamp>/config.yaml)' },
  scalar_save_file: { type: 'string', nullable: true, doc: 'must be unset (scalars.json)' },
});

export class LocalVisBackend {
  static readonly type = 'LocalVisBackend';
  static readonly description = 'scalars as JSON lines in <work_dir>/<timestamp>/vis_data/scalars.json (always on)';
  static readonly options = localVisBackendOptions;
  constructor(options: OptionsInput<typeof localVisBackendOptions> = {}) {
    const t = LocalVisBackend.type;
    const o = resolveOptions(localVisBackendOptions, options, t);
    requireValue(t, 'save_dir', o.saveDir, null, LOCAL);
    requireValue(t, 'img_save_dir', o.imgSaveDir, null, 'no images are logged');
    requireValue(t, 'config_save_file', o.configSaveFile, null, 'the config is written to <work_dir>/<timestamp>/config.yaml');
    requireValue(t, 'scalar_save_file', o.scalarSaveFile, null, 'the scalars are written to vis_data/scalars.json');
  }
}

/** The options of {@link TensorboardVisBackend} (mmengine `TensorboardVisBackend.__init__`), declared once. */
export const tensorboardVisBackendOptions = defineOptions({
  save_dir: { type: 'string', nullable: true, doc: `must be unset (${LOCAL}/tensorboard)` },
});

export class TensorboardVisBackend {
  static readonly type = 'TensorboardVisBackend';
  static readonly description = 'TensorBoard event files in <work_dir>/<timestamp>/vis_data/tensorboard (always on)';
  static readonly options = tensorboardVisBackendOptions;
  constructor(options: OptionsInput<typeof tensorboardVisBackendOptions> = {}) {
    const o = resolveOptions(tensorboardVisBackendOptions, options, TensorboardVisBackend.type);
    requireValue(TensorboardVisBackend.type, 'save_dir', o.saveDir, null, `${LOCAL}/tensorboard`);
  }
}

/** The options of {@link DetLocalVisualizer} (mmdet `DetLocalVisualizer.__init__`), declared once. */
export const detLocalVisualizerOptions = defineOptions({
  name: { type: 'string', default: 'visualizer', doc: 'instance name' },
  vis_backends: { type: 'array', nullable: true, doc: 'list of vis backend configs (LocalVisBackend, TensorboardVisBackend); both are always written' },
  save_dir: { type: 'string', nullable: true, doc: `must be unset (${LOCAL})` },
  bbox_color: { type: 'any', nullable: true, doc: 'must be unset: boxes take the class colour (dataset palette)' },
  text_color: { type: 'any', nullable: true, doc: 'must be unset: labels are white on the class colour' },
  mask_color: { type: 'any', nullable: true, doc: 'must be unset: masks take the class colour (dataset palette)' },
  line_width: { type: 'number', nullable: true, doc: 'box line width in pixels of the pictures (solo test --show-dir, solo infer --show); null: 2' },
  alpha: { type: 'number', nullable: true, doc: 'mask opacity of the pictures, 0 to 1; null: 0.5' },
});

export class DetLocalVisualizer {
  static readonly type = 'DetLocalVisualizer';
  static readonly description = 'the style of the pictures of solo infer --show and solo test --show-dir (class colours; mask opacity `alpha`, box `line_width`)';
  static readonly options = detLocalVisualizerOptions;
  /** The instance name (mmengine's `ManagerMixin` name). */
  readonly name: string;
  readonly backends: unknown[];
  /** Mask opacity of the pictures (undefined: the drawing's default, 0.5). */
  readonly alpha?: number;
  /** Box line width of the pictures in pixels (undefined: the drawing's default, 2). */
  readonly lineWidth?: number;
  constructor(options: OptionsInput<typeof detLocalVisualizerOptions>, ctx: Pick<BuildContext, 'build'>) {
    const t = DetLocalVisualizer.type;
    const o = resolveOptions(detLocalVisualizerOptions, options, t);
    requireValue(t, 'save_dir', o.saveDir, null, LOCAL);
    requireValue(t, 'bbox_color', o.bboxColor, null, 'boxes take the class colour of the dataset palette');
    requireValue(t, 'text_color', o.textColor, null, 'labels are white on the class colour');
    requireValue(t, 'mask_color', o.maskColor, null, 'masks take the class colour of the dataset palette');
    if (o.alpha !== null && o.alpha !== undefined && !(o.alpha >= 0 && o.alpha <= 1)) {
      throw new ConfigError(`${t}.alpha must be a number from 0 to 1, got ${o.alpha}`);
    }
    if (o.lineWidth !== null && o.lineWidth !== undefined && !(o.lineWidth > 0 && Number.isFinite(o.lineWidth))) {
      throw new ConfigError(`${t}.line_width must be a positive number of pixels, got ${o.lineWidth}`);
    }
    this.alpha = o.alpha ?? undefined;
    this.lineWidth = o.lineWidth ?? undefined;
    this.name = o.name;
    this.backends = (o.visBackends ?? []).map((b, i) => ctx.build('visualizers', b, `vis_backends.${i}`));
  }
}

/** The options of {@link LogProcessor} (`log_processor`, mmengine `LogProcessor.__init__`), declared once. */
export const logProcessorOptions = defineOptions({
  window_size: { type: 'integer', default: 10, doc: 'validated only: logged values are averaged over the LoggerHook interval (the iterations since the previous line)' },
  by_epoch: { type: 'boolean', default: true, doc: 'must be true: lines are `Epoch(train) [e/E][i/n]`' },
  custom_cfg: { type: 'array', nullable: true, doc: 'must be unset or empty (no custom smoothing)' },
  num_digits: { type: 'integer', default: DEFAULT_NUM_DIGITS, doc: 'digits after the decimal point of logged values (lr, time, data_time, losses, metrics)' },
  log_with_hierarchy: { type: 'boolean', default: false, doc: 'must be false (tags are train/..., val/... in TensorBoard)' },
  mean_pattern: { type: 'string', nullable: true, doc: 'must be unset' },
});
/** Resolved options of {@link LogProcessor}. */
export type LogProcessorOptions = ResolvedOptions<typeof logProcessorOptions>;

/**
 * mmengine's `LogProcessor`: the text log's number format (`num_digits`). The logger averages each value over
 * its `interval` (the iterations since the previous line), whatever `window_size` says.
 */
export class LogProcessor {
  static readonly type = 'LogProcessor';
  static readonly description = 'formatting of logged values: num_digits (the logger averages over each log interval)';
  static readonly options = logProcessorOptions;
  readonly numDigits: number;
  readonly windowSize: number;
  constructor(options: OptionsInput<typeof logProcessorOptions> = {}) {
    const t = LogProcessor.type;
    const o = resolveOptions(logProcessorOptions, options, t);
    this.numDigits = o.numDigits;
    this.windowSize = o.windowSize;
    if (!(this.numDigits >= 0 && this.numDigits <= 20)) throw new ConfigError(`LogProcessor.num_digits must be between 0 and 20, got ${this.numDigits}`);
    requireValue(t, 'by_epoch', o.byEpoch, true, 'training is epoch based; lines are `Epoch(train) [e/E][i/n]`');
    if (o.customCfg && o.customCfg.length) throw new ConfigError('LogProcessor.custom_cfg is not supported by solo-ts (values are averaged over the LoggerHook interval)');
    requireValue(t, 'log_with_hierarchy', o.logWithHierarchy, false, 'TensorBoard tags are train/<key> and val/<key>');
    requireValue(t, 'mean_pattern', o.meanPattern, null, 'every logged value is averaged');
  }
}
