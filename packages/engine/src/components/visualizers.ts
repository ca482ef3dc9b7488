// SPDX-License-Identifier: Apache-2.0
/**
 * Visualizer and log-processor configs (registry scope `visualizers`): `visualizer`, `vis_backends`,
 * `log_processor`. Logs always go to the work dir as a JSON-lines scalar file (LocalVisBackend's
 * `vis_data/scalars.json`) and a TensorBoard event file; these classes validate the keys and carry the drawing
 * options used by `solo test --show-dir` / `solo infer --show`.
 */
import type { OptionSpecs } from '@solo-ts/core';

export class LocalVisBackend {
  static readonly type = 'LocalVisBackend';
  static readonly description = 'scalars as JSON lines in <work_dir>/<timestamp>/vis_data/scalars.json (always on)';
  static readonly options: OptionSpecs = {
    save_dir: { type: 'string', nullable: true, doc: 'accepted for compatibility (the work dir is used)' },
    img_save_dir: { type: 'string', nullable: true, doc: 'accepted for compatibility' },
    config_save_file: { type: 'string', nullable: true, doc: 'accepted for compatibility' },
    scalar_save_file: { type: 'string', nullable: true, doc: 'accepted for compatibility' },
  };
}

export class TensorboardVisBackend {
  static readonly type = 'TensorboardVisBackend';
  static readonly description = 'TensorBoard event files in <work_dir>/<timestamp>/vis_data/tensorboard (always on)';
  static readonly options: OptionSpecs = {
    save_dir: { type: 'string', nullable: true, doc: 'accepted for compatibility (the work dir is used)' },
  };
}

export interface DrawStyle {
  /** Mask opacity 0..1. */
  alpha: number;
  lineWidth: number;
}

export class DetLocalVisualizer implements DrawStyle {
  static readonly type = 'DetLocalVisualizer';
  static readonly description = 'draws masks, boxes, class names and scores (solo infer --show, solo test --show-dir)';
  static readonly options: OptionSpecs = {
    name: { type: 'string', default: 'visualizer', doc: 'instance name' },
    vis_backends: { type: 'array', nullable: true, doc: 'list of vis backend configs (LocalVisBackend, TensorboardVisBackend)' },
    save_dir: { type: 'string', nullable: true, doc: 'accepted for compatibility' },
    bbox_color: { type: 'any', nullable: true, doc: 'accepted (boxes take the class colour)' },
    text_color: { type: 'any', nullable: true, doc: 'accepted (labels are white on the class colour)' },
    mask_color: { type: 'any', nullable: true, doc: 'accepted (masks take the class colour)' },
    line_width: { type: 'number', default: 3, doc: 'box line width in pixels' },
    alpha: { type: 'number', default: 0.8, doc: 'mask opacity' },
  };
  readonly alpha: number;
  readonly lineWidth: number;
  readonly backends: unknown[];
  constructor(o: { alpha: number; lineWidth: number; visBackends?: Record<string, unknown>[] | null }, ctx: { build(scope: 'visualizers', cfg: unknown, key: string): unknown }) {
    this.alpha = o.alpha;
    this.lineWidth = o.lineWidth;
    this.backends = (o.visBackends ?? []).map((b, i) => ctx.build('visualizers', b, `vis_backends.${i}`));
  }
}

export class LogProcessor {
  static readonly type = 'LogProcessor';
  static readonly description = 'smoothing of logged values (the logger averages over each log interval)';
  static readonly options: OptionSpecs = {
    window_size: { type: 'integer', default: 10, doc: 'accepted for compatibility (values are averaged over the log interval)' },
    by_epoch: { type: 'boolean', default: true, doc: 'accepted for compatibility' },
    custom_cfg: { type: 'array', nullable: true, doc: 'accepted for compatibility' },
    num_digits: { type: 'integer', default: 4, doc: 'digits of logged values' },
    log_with_hierarchy: { type: 'boolean', default: false, doc: 'accepted for compatibility' },
    mean_pattern: { type: 'string', nullable: true, doc: 'accepted for compatibility' },
  };
}
