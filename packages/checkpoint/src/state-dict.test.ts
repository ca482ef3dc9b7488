// SPDX-License-Identifier: Apache-2.0
import { CheckpointError } from '@solo-ts/core';
import { describe, expect, it } from 'vitest';
import { PickleObject } from './py-values.js';
import { applyPrefixMap, extractStateDict, parsePrefixMap, summarizeStateDict } from './state-dict.js';
import { TorchTensor } from './tensor.js';

const t = (n = 1) => new TorchTensor('float32', [n], new Float32Array(n));

describe('extractStateDict', () => {
  it('finds mmdetection, wrapper and plain layouts', () => {
    expect(extractStateDict({ meta: { epoch: 1 }, state_dict: { a: t() }, optimizer: {} })).toMatchObject({ wrapper: 'state_dict', meta: { epoch: 1 } });
    expect(extractStateDict({ model: { 'module.a': t() }, epoch: 2 }).stateDict.has('a')).toBe(true);
    expect(extractStateDict({ 'module.x': t(), y: t() }).stateDict).toEqual(new Map([['x', t()], ['y', t()]]));
    expect(extractStateDict({ state_dict: {} }).stateDict.size).toBe(0);
  });

  it('skips non-tensors and reports them', () => {
    const r = extractStateDict({ a: t(), _extra: 3 });
    expect(r.skipped).toEqual(['_extra']);
    expect(r.stateDict.size).toBe(1);
  });

  it('explains what it found when there is no state dict', () => {
    expect(() => extractStateDict({ epoch: 1, cfg: 'x' }, { name: 'm.pth' })).toThrowError(/m\.pth: no state dict found \(top-level keys: epoch, cfg\)/);
    expect(() => extractStateDict(new PickleObject('mmdet.models.SOLO', []))).toThrowError(/a pickled mmdet\.models\.SOLO object/);
    expect(() => extractStateDict({ 'module.a': t(), a: t() })).toThrowError(CheckpointError);
  });
});

describe('prefix maps', () => {
  it('parses and applies old=new rules, first match wins', () => {
    const map = parsePrefixMap(['backbone.=body.', 'neck.=']);
    expect(map).toEqual([['backbone.', 'body.'], ['neck.', '']]);
    const out = applyPrefixMap(new Map([['backbone.conv1.weight', 1], ['neck.fpn.0', 2], ['head.x', 3]]), map);
    expect([...out.keys()]).toEqual(['body.conv1.weight', 'fpn.0', 'head.x']);
    expect(() => parsePrefixMap(['nope'])).toThrowError(/bad prefix map 'nope'/);
    const all = applyPrefixMap(new Map([['conv1.weight', 1], ['layer1.0.bn1.bias', 2]]), parsePrefixMap(['=backbone.']));
    expect([...all.keys()]).toEqual(['backbone.conv1.weight', 'backbone.layer1.0.bn1.bias']);
    expect(() => applyPrefixMap(new Map([['a.x', 1], ['b.x', 2]]), [['a.', ''], ['b.', '']])).toThrowError(/share the name 'x'/);
  });
});

describe('summarizeStateDict', () => {
  it('counts parameters without BatchNorm statistics', () => {
    const sd = new Map<string, { dtype: string; shape: number[] }>([
      ['conv.weight', { dtype: 'float32', shape: [4, 3, 3, 3] }],
      ['bn.weight', { dtype: 'float32', shape: [4] }],
      ['bn.running_mean', { dtype: 'float32', shape: [4] }],
      ['bn.running_var', { dtype: 'float32', shape: [4] }],
      ['bn.num_batches_tracked', { dtype: 'int64', shape: [] }],
    ]);
    expect(summarizeStateDict(sd, (d) => (d === 'int64' ? 8 : 4))).toEqual({ numTensors: 5, numElements: 121, numParameters: 112, bytes: 120 * 4 + 8, dtypes: { float32: 4, int64: 1 } });
  });
});
