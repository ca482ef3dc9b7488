// SPDX-License-Identifier: Apache-2.0
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as tf from '@tensorflow/tfjs-core';
import { Registry, SoloError, type Neck } from '@solo-ts/core';
import { setupTestBackend } from '@solo-ts/testing';
import { beforeAll, describe, expect, it } from 'vitest';
import { FPN, necksComponents } from './index.js';

const fixDir = join(dirname(fileURLToPath(import.meta.url)), '..', '__fixtures__');
interface Ref {
  offset: number;
  shape: number[];
}
const meta = JSON.parse(readFileSync(join(fixDir, 'fpn.json'), 'utf8')) as {
  cases: Record<string, { config: Record<string, unknown>; state_dict: Record<string, Ref>; inputs: Ref[]; outputs: Ref[] }>;
};
const buf = readFileSync(join(fixDir, 'fpn.bin'));
const data = new Float32Array(buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength));
const rec = (r: Ref) => ({ dtype: 'float32', shape: r.shape, data: data.slice(r.offset, r.offset + r.shape.reduce((a, b) => a * b, 1)) });
const nhwc = (r: Ref) => tf.transpose<tf.Tensor>(tf.tensor(rec(r).data, r.shape), [0, 2, 3, 1]) as tf.Tensor4D;

for (const backend of ['cpu', 'wasm'] as const) {
  describe(`FPN vs PyTorch reference (${backend})`, () => {
    beforeAll(() => setupTestBackend(backend));
    for (const [name, c] of Object.entries(meta.cases)) {
      it(`${name}: strict load, outputs and input gradients`, () => {
        const neck = new Registry().load(necksComponents).build<Neck>('models', c.config, `neck(${name})`);
        neck.loadStateDict(new Map(Object.entries(c.state_dict).map(([k, r]) => [k, rec(r)])), { strict: true });
        neck.eval();
        const before = tf.memory().numTensors;
        tf.tidy(() => {
          const inputs = c.inputs.map(nhwc);
          const outs = neck.forward(inputs);
          expect(outs.length).toBe(c.outputs.length);
          outs.forEach((o, i) => {
            const e = nhwc(c.outputs[i]);
            expect(o.shape).toEqual(e.shape);
            const d = tf.sub(o, e);
            const tol = tf.add(tf.mul(tf.abs(e), 1e-4), 1e-5);
            expect(tf.sum(tf.cast(tf.greater(tf.abs(d), tol), 'int32')).dataSync()[0], `${name} out ${i}`).toBe(0);
          });
          // every used input (start_level..end_level) receives a gradient of the right shape
          const f = neck as FPN;
          const used = inputs.slice(f.startLevel, f.backboneEndLevel);
          const run = (...xs: tf.Tensor[]) => {
            const all = [...inputs];
            xs.forEach((x, i) => (all[f.startLevel + i] = x as tf.Tensor4D));
            return tf.addN(neck.forward(all).map((o) => tf.sum(o)));
          };
          tf.grads(run)(used).forEach((g, i) => expect(g.shape).toEqual(used[i].shape));
        });
        expect(tf.memory().numTensors).toBe(before);
        neck.dispose();
      });
    }
  });
}

describe('FPN structure', () => {
  beforeAll(() => setupTestBackend('cpu'));

  it('mmdet names, Xavier-uniform init with zero bias, output strides', () => {
    const fpn = new FPN({ inChannels: [16, 32, 64, 128], outChannels: 32, numOuts: 5 });
    expect([...fpn.stateDict().keys()]).toEqual([
      ...[0, 1, 2, 3].flatMap((i) => [`lateral_convs.${i}.conv.weight`, `lateral_convs.${i}.conv.bias`]),
      ...[0, 1, 2, 3].flatMap((i) => [`fpn_convs.${i}.conv.weight`, `fpn_convs.${i}.conv.bias`]),
    ]);
    expect(fpn.outFeatures.map((f) => f.stride)).toEqual([4, 8, 16, 32, 64]);
    expect(fpn.outFeatures.every((f) => f.channels === 32)).toBe(true);
    const w = fpn.stateDict().get('fpn_convs.0.conv.weight')!.tensor;
    const bound = Math.sqrt(6 / (32 * 9 + 32 * 9));
    expect(tf.max(tf.abs(w)).dataSync()[0]).toBeLessThanOrEqual(bound);
    expect(tf.max(tf.abs(fpn.stateDict().get('lateral_convs.0.conv.bias')!.tensor)).dataSync()[0]).toBe(0);
    fpn.dispose();
  });

  it('add_extra_convs true means on_input; rejects bad settings', () => {
    const fpn = new FPN({ inChannels: [8, 16], outChannels: 4, numOuts: 3, addExtraConvs: true, inFeatures: [{ channels: 8, stride: 8 }, { channels: 16, stride: 16 }] });
    expect(fpn.addExtraConvs).toBe('on_input');
    expect(fpn.stateDict().get('fpn_convs.2.conv.weight')!.tensor.shape).toEqual([3, 3, 16, 4]);
    expect(fpn.outFeatures.map((f) => f.stride)).toEqual([8, 16, 32]);
    fpn.dispose();
    expect(() => new FPN({ inChannels: [8, 16], outChannels: 4, numOuts: 1 })).toThrow(SoloError);
    expect(() => new FPN({ inChannels: [8, 16], outChannels: 4, numOuts: 3, addExtraConvs: 'on_top' as never })).toThrow(SoloError);
  });
});
