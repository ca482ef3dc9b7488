// SPDX-License-Identifier: Apache-2.0
/**
 * Backbone + neck parity with mmdetection on the five golden variants (../shared/parity): build ResNet / FPN from
 * each `config.json` through the registry, load `checkpoint.pth` (strict), run `input.npy`, compare every
 * `backbone_out_*` and `neck_out_*` within 1e-4 relative or 1e-5 absolute. On cpu and wasm.
 */
import * as tf from '@tensorflow/tfjs-core';
import { Registry, type Backbone, type Neck } from '@solo-ts/core';
import { backbonesComponents, ResNet } from '@solo-ts/backbones';
import { necksComponents } from '@solo-ts/necks';
import { setupTestBackend } from '@solo-ts/testing';
import { beforeAll, describe, expect, it } from 'vitest';
import { compareClose, describeReport, nhwc, subStateDict, toNchwData, variantConfig, variantStateDict, VARIANTS } from './solo-parity.js';
import { npyFloat32, readParity } from '../helpers/npy.js';

for (const backend of ['cpu', 'wasm'] as const) {
  describe(`backbone + neck parity with mmdetection (${backend})`, () => {
    beforeAll(() => setupTestBackend(backend));

    for (const v of VARIANTS) {
      it(v, async () => {
        const cfg = variantConfig(v);
        const registry = new Registry().load(backbonesComponents, necksComponents);
        const backbone = registry.build<Backbone>('models', cfg.model.backbone, 'model.backbone');
        const neck = registry.build<Neck>('models', cfg.model.neck, 'model.neck', { inFeatures: backbone.outFeatures });
        expect(backbone).toBeInstanceOf(ResNet);
        const sd = await variantStateDict(v);
        const rb = backbone.loadStateDict(subStateDict(sd, 'backbone'), { strict: true, source: `${v}/checkpoint.pth` });
        const rn = neck.loadStateDict(subStateDict(sd, 'neck'), { strict: true, source: `${v}/checkpoint.pth` });
        expect(rb.missing.length + rb.unexpected.length + rn.missing.length + rn.unexpected.length).toBe(0);
        backbone.eval();
        neck.eval();
        const before = tf.memory().numTensors;
        const x = nhwc(readParity(v, 'input.npy'));
        const feats = backbone.forward(x);
        const outs = neck.forward(feats);
        expect(feats.length).toBe(4);
        expect(outs.length).toBe(5);
        const problems: string[] = [];
        const check = (label: string, t: tf.Tensor4D, file: string) => {
          const g = readParity(v, file);
          expect([t.shape[0], t.shape[3], t.shape[1], t.shape[2]], label).toEqual(g.shape);
          const e = npyFloat32(g);
          const a = toNchwData(t);
          // float32 noise scales with the tensor's magnitude (values reach ~1000 here; re-running PyTorch itself
          // moves them by ~2e-6 of the scale): |diff| <= 1e-4 |expected| + 1e-5 max|expected|
          let scale = 0;
          for (let i = 0; i < e.length; i++) scale = Math.max(scale, Math.abs(e[i]));
          const r = compareClose(a, e, 1e-4, 1e-5 * scale);
          if (r.bad > 0) problems.push(describeReport(`${label} (scale ${scale.toFixed(1)})`, r));
        };
        tf.tidy(() => {
          feats.forEach((f, i) => check(`backbone_out_${i}`, f, `backbone_out_${i}.npy`));
          outs.forEach((o, i) => check(`neck_out_${i}`, o, `neck_out_${i}.npy`));
        });
        expect(backbone.outFeatures.map((f) => f.stride)).toEqual([4, 8, 16, 32]);
        expect(neck.outFeatures.map((f) => f.stride)).toEqual([4, 8, 16, 32, 64]);
        tf.dispose([x, ...feats, ...outs]);
        expect(tf.memory().numTensors).toBe(before);
        backbone.dispose();
        neck.dispose();
        expect(problems).toEqual([]);
      });
    }
  });
}
