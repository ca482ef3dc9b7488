import { describe, expect, it } from 'vitest';
import { SoloError, closestNames, editDistance } from './errors.js';

describe('errors', () => {
  it('formats location, expectation and hint', () => {
    const e = new SoloError('unknown key `dpeth`', { location: { file: 'a.yaml', line: 3, key: 'model.backbone.dpeth' }, hint: 'did you mean `depth`?' });
    expect(e.format()).toBe('a.yaml:3 (key `model.backbone.dpeth`): unknown key `dpeth`\n  hint: did you mean `depth`?');
  });
  it('suggests close names', () => {
    expect(editDistance('kitten', 'sitting')).toBe(3);
    expect(closestNames('SOLOv2Head', ['SOLOV2Head', 'SOLOHead', 'FPN'])[0]).toBe('SOLOV2Head');
  });
});
