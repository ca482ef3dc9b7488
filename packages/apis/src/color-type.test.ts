// SPDX-License-Identifier: Apache-2.0
import { describe, expect, it } from 'vitest';
import { Config } from '@solo-ts/config';
import { testColorType } from './detector.js';

const cfg = (pipeline: unknown[]) => new Config({ test_dataloader: { dataset: { pipeline } } } as never, '/cfg/model.yaml');

describe('testColorType (inferImage decodes as the config test pipeline does)', () => {
  it('reads LoadImageFromFile.color_type, default color', () => {
    expect(testColorType(cfg([{ type: 'LoadImageFromFile', color_type: 'grayscale' }, { type: 'Resize', scale: [8, 8] }]))).toBe('grayscale');
    expect(testColorType(cfg([{ type: 'LoadImageFromFile' }]))).toBe('color');
    expect(testColorType(cfg([{ type: 'Resize', scale: [8, 8] }]))).toBe('color');
  });
  it('refuses a flag mmcv does not have, naming the file and the step', () => {
    expect(() => testColorType(cfg([{ type: 'LoadImageFromFile', color_type: 'rgb' }]))).toThrow(/option `color_type` of \/cfg\/model\.yaml: test pipeline LoadImageFromFile/);
  });
});
