// SPDX-License-Identifier: Apache-2.0
/** `pictureStyle`: the config's `visualizer` (alpha, line_width) reaches the drawing of `solo test` / `solo infer`. */
import { describe, expect, it } from 'vitest';
import { configFromYAML } from '@solo-ts/config';
import { Registry } from '@solo-ts/core';
import { engineComponents } from '@solo-ts/engine';
import { pictureStyle } from './detector.js';

const registry = new Registry().load(engineComponents);
const cfgOf = (text: string) => configFromYAML(text, 'style.yaml');

describe('pictureStyle', () => {
  it('takes alpha and line_width from the visualizer config', () => {
    const cfg = cfgOf('visualizer: {type: DetLocalVisualizer, alpha: 0.8, line_width: 3}\n');
    expect(pictureStyle({ cfg, registry })).toEqual({ alpha: 0.8, lineWidth: 3 });
  });

  it('is empty without a visualizer or with the style unset (the drawing defaults apply)', () => {
    expect(pictureStyle({ cfg: cfgOf('work_dir: x\n'), registry })).toEqual({});
    expect(pictureStyle({ cfg: cfgOf('visualizer: {type: DetLocalVisualizer}\n'), registry })).toEqual({ alpha: undefined, lineWidth: undefined });
  });

  it('refuses a bad value with the key in the message', () => {
    const cfg = cfgOf('visualizer: {type: DetLocalVisualizer, alpha: 2}\n');
    expect(() => pictureStyle({ cfg, registry })).toThrow(/DetLocalVisualizer\.alpha must be a number from 0 to 1/);
  });
});
