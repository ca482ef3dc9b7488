// SPDX-License-Identifier: Apache-2.0
/**
 * Visualizer and log-processor configs (registry scope `visualizers`): `visualizer`, `vis_backends`,
 * `log_processor`. Logs always go to the work dir as a JSON-lines scalar file (LocalVisBackend's
 * `vis_data/scalars.json`) and a TensorBoard event file. `log_processor.num_digits` sets the digits of the text
 * log. Options solo-ts does not implement are refused with a `ConfigError` when set.
 */
import { ConfigError, type OptionSpecs } from '@solo-ts/core';
import { DEFAULT_NUM_DIGITS } from '../runner/format.js';
import { requireValue } from './hooks/options.js';

const LOCAL = 'logs go to <work_dir>/<timestamp>/vis_data';

export class LocalVisBackend {
  static readonly type = 'LocalVisBackend';
  static readonly description = 'scalars as JSON lines in <work_dir>/<timestamp>/vis_data/scalars.json (always on)';
  static readonly options: OptionSpecs = {
    save_dir: { type: 'string', nullable: true, doc: `must be unset (${LOCAL})` },
    img_save_dir: { type: 'string', nullable: true, doc: 'must be unset (no images are logged)' },
    config_save_file: { type: 'string', nullable: true, doc: 'must be unset (the config is <work_dir>/<timestamp>/config.yaml)' },
    scalar_save_file: { type: 'string', nullable: true, doc: 'must be unset (scalars.json)' },
  };
  constructor(o: { saveDir?: string | null; imgSaveDir?: string | null; configSaveFile?: string | null; scalarSaveFile?: string | null }) {
    const t = LocalVisBackend.type;
    requireValue(t, 'save_dir', o.saveDir, null, LOCAL);
    requireValue(t, 'img_save_dir', o.imgSaveDir, null, 'no images are logged');
    requireValue(t, 'config_save_file', o.configSaveFile, null, 'the config is written to <work_dir>/<timestamp>/config.yaml');
    requireValue(t, 'scalar_save_file', o.scalarSaveFile, null, 'the scalars are written to vis_data/scalars.json');
  }
}

export class TensorboardVisBackend {
  static readonly type = 'TensorboardVisBackend';
  static readonly description = 'TensorBoard event files in <work_dir>/<timestamp>/vis_data/tensorboard (always on)';
  static readonly options: OptionSpecs = {
    save_dir: { type: 'string', nullable: true, doc: `must be unset (${LOCAL}/tensorboard)` },
  };
  constructor(o: { saveDir?: string | null }) {
    requireValue(TensorboardVisBackend.type, 'save_dir', o.saveDir, null, `${LOCAL}/tensorboard`);
  }
}

export class DetLocalVisualizer {
  static readonly type = 'DetLocalVisualizer';
  static readonly description = 'validates the visualizer config; pictures (solo infer --show, solo test --show-dir) take the class colours, mask opacity 0.5 and line width 2';
  static readonly options: OptionSpecs = {
    name: { type: 'string', default: 'visualizer', doc: 'instance name' },
    vis_backends: { type: 'array', nullable: true, doc: 'list of vis backend configs (LocalVisBackend, TensorboardVisBackend); both are always written' },
    save_dir: { type: 'string', nullable: true, doc: `must be unset (${LOCAL})` },
    bbox_color: { type: 'any', nullable: true, doc: 'must be unset: boxes take the class colour (dataset palette)' },
    text_color: { type: 'any', nullable: true, doc: 'must be unset: labels are white on the class colour' },
    mask_color: { type: 'any', nullable: true, doc: 'must be unset: masks take the class colour (dataset palette)' },
    line_width: { type: 'number', nullable: true, doc: 'must be unset: the drawing uses line width 2' },
    alpha: { type: 'number', nullable: true, doc: 'must be unset: the drawing uses mask opacity 0.5' },
  };
  readonly backends: unknown[];
  constructor(
    o: { saveDir?: unknown; bboxColor?: unknown; textColor?: unknown; maskColor?: unknown; lineWidth?: number | null; alpha?: number | null; visBackends?: Record<string, unknown>[] | null },
    ctx: { build(scope: 'visualizers', cfg: unknown, key: string): unknown },
  ) {
    const t = DetLocalVisualizer.type;
    requireValue(t, 'save_dir', o.saveDir, null, LOCAL);
    requireValue(t, 'bbox_color', o.bboxColor, null, 'boxes take the class colour of the dataset palette');
    requireValue(t, 'text_color', o.textColor, null, 'labels are white on the class colour');
    requireValue(t, 'mask_color', o.maskColor, null, 'masks take the class colour of the dataset palette');
    requireValue(t, 'line_width', o.lineWidth, null, 'pictures of solo infer --show / solo test --show-dir are drawn with line width 2');
    requireValue(t, 'alpha', o.alpha, null, 'pictures of solo infer --show / solo test --show-dir are drawn with mask opacity 0.5');
    this.backends = (o.visBackends ?? []).map((b, i) => ctx.build('visualizers', b, `vis_backends.${i}`));
  }
}

export interface LogProcessorOptions {
  windowSize: number;
  byEpoch: boolean;
  customCfg?: unknown[] | null;
  numDigits: number;
  logWithHierarchy: boolean;
  meanPattern?: string | null;
}

/**
 * mmengine's `LogProcessor`: the text log's number format (`num_digits`). The logger averages each value over
 * its `interval` (the iterations since the previous line), whatever `window_size` says.
 */
export class LogProcessor {
  static readonly type = 'LogProcessor';
  static readonly description = 'formatting of logged values: num_digits (the logger averages over each log interval)';
  static readonly options: OptionSpecs = {
    window_size: { type: 'integer', default: 10, doc: 'validated only: logged values are averaged over the LoggerHook interval (the iterations since the previous line)' },
    by_epoch: { type: 'boolean', default: true, doc: 'must be true: lines are `Epoch(train) [e/E][i/n]`' },
    custom_cfg: { type: 'array', nullable: true, doc: 'must be unset or empty (no custom smoothing)' },
    num_digits: { type: 'integer', default: DEFAULT_NUM_DIGITS, doc: 'digits after the decimal point of logged values (lr, time, data_time, losses, metrics)' },
    log_with_hierarchy: { type: 'boolean', default: false, doc: 'must be false (tags are train/..., val/... in TensorBoard)' },
    mean_pattern: { type: 'string', nullable: true, doc: 'must be unset' },
  };
  readonly numDigits: number;
  readonly windowSize: number;
  constructor(o: Partial<LogProcessorOptions> = {}) {
    const t = LogProcessor.type;
    this.numDigits = o.numDigits ?? DEFAULT_NUM_DIGITS;
    this.windowSize = o.windowSize ?? 10;
    if (!(this.numDigits >= 0 && this.numDigits <= 20)) throw new ConfigError(`LogProcessor.num_digits must be between 0 and 20, got ${this.numDigits}`);
    requireValue(t, 'by_epoch', o.byEpoch, true, 'training is epoch based; lines are `Epoch(train) [e/E][i/n]`');
    if (o.customCfg && o.customCfg.length) throw new ConfigError('LogProcessor.custom_cfg is not supported by solo-ts (values are averaged over the LoggerHook interval)');
    requireValue(t, 'log_with_hierarchy', o.logWithHierarchy, false, 'TensorBoard tags are train/<key> and val/<key>');
    requireValue(t, 'mean_pattern', o.meanPattern, null, 'every logged value is averaged');
  }
}
