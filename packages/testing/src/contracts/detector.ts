// SPDX-License-Identifier: Apache-2.0
/**
 * Detector contract (single-stage instance segmentors: `preprocess`, `extractFeat`, `loss`, `predict`): raw
 * images through the data preprocessor, finite losses, gradients to every trainable parameter, well-formed
 * predictions at the original image size, no leaked tensors, state-dict round trip.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { DetDataSample, InstanceData, Module } from '@solo-ts/core';
import { checkGradients, type GradientCheckOptions } from '../gradients.js';
import { makeSample } from '../samples.js';
import { check, expectNoLeaks, scalarOf } from '../tensors.js';
import { checkInstances, checkNhwcOutputs, checkStateDictRoundTrip, disposeComponent } from './common.js';
import { SOLO_TEST_CFG } from './mask-head.js';
import type { ContractCheck, Factory, YamlOptions } from './types.js';

/** What the contract needs of a detector. */
export interface DetectorLike extends Module {
  preprocess(batch: { inputs: unknown[]; dataSamples: DetDataSample[] }, training?: boolean): { inputs: tf.Tensor4D; dataSamples: DetDataSample[] };
  extractFeat(inputs: tf.Tensor4D): tf.Tensor4D[];
  loss(inputs: tf.Tensor4D, samples: DetDataSample[]): Record<string, tf.Scalar>;
  predict(inputs: tf.Tensor4D, samples: DetDataSample[]): Promise<InstanceData[]>;
}

export interface DetectorContractOptions {
  build: Factory<DetectorLike>;
  numClasses: number;
  /** Image sizes [h, w] of the batch (default [[64, 64], [56, 48]]: unequal, so padding is exercised). */
  imageSizes?: Array<[number, number]>;
  /** Test settings to start from (default `SOLO_TEST_CFG`); the predict check lowers the thresholds. */
  testCfg?: YamlOptions;
  /** Option holding the test settings (default `test_cfg`). */
  testCfgKey?: string;
  gradients?: GradientCheckOptions;
}

function rawImage(h: number, w: number, seed: number): { data: Uint8Array; height: number; width: number; channels: number } {
  const data = new Uint8Array(h * w * 3);
  let s = seed * 2654435761;
  for (let i = 0; i < data.length; i++) {
    s = (s * 1103515245 + 12345) >>> 0;
    data[i] = s >>> 24;
  }
  return { data, height: h, width: w, channels: 3 };
}

/** The checks of the detector contract. */
export function detectorChecks(o: DetectorContractOptions): ContractCheck[] {
  const sizes = o.imageSizes ?? [
    [64, 64],
    [56, 48],
  ];
  const key = o.testCfgKey ?? 'test_cfg';
  const testCfg = o.testCfg ?? SOLO_TEST_CFG;
  const batch = (withGt: boolean) => ({
    inputs: sizes.map(([h, w], i) => rawImage(h, w, i + 1)),
    dataSamples: sizes.map(([h, w], i) =>
      makeSample({ inputSize: [h, w], imgId: i, instances: withGt ? [{ box: [w * 0.2, h * 0.25, w * 0.7, h * 0.8], label: i % o.numClasses }] : [] }),
    ),
  });
  const withDetector = async (overrides: YamlOptions | undefined, fn: (d: DetectorLike) => Promise<void> | void) => {
    const d = o.build({ [key]: testCfg, ...overrides });
    try {
      await fn(d);
    } finally {
      disposeComponent(d);
    }
  };
  return [
    {
      name: 'preprocess + loss: finite terms, no leaked tensors',
      run: () =>
        withDetector(undefined, async (d) => {
          d.train();
          await expectNoLeaks('preprocess + loss', () => {
            const { inputs, dataSamples } = d.preprocess(batch(true), true);
            return { inputs, losses: d.loss(inputs, dataSamples) };
          }, ({ inputs, losses }) => {
            check(inputs.rank === 4 && inputs.shape[0] === sizes.length, `preprocess must give an NHWC batch of ${sizes.length}, got [${inputs.shape.join(', ')}]`);
            check(Object.keys(losses).length > 0, 'loss returned no terms');
            for (const [k, v] of Object.entries(losses)) check(Number.isFinite(scalarOf(v, k)), `loss term ${k} is not finite`);
          });
        }),
    },
    {
      name: 'gradients reach every trainable parameter (finite, non-zero), no leaks',
      run: () =>
        withDetector(undefined, (d) => {
          d.train();
          const { inputs, dataSamples } = d.preprocess(batch(true), true);
          try {
            const before = tf.memory().numTensors;
            checkGradients('detector gradients', d, () => tf.tidy(() => tf.addN(Object.values(d.loss(inputs, dataSamples))) as tf.Scalar), o.gradients);
            check(tf.memory().numTensors === before, `gradient computation leaks ${tf.memory().numTensors - before} tensors`);
          } finally {
            inputs.dispose();
          }
        }),
    },
    {
      name: 'extractFeat: NHWC levels, finite',
      run: () =>
        withDetector(undefined, async (d) => {
          d.eval();
          const { inputs } = d.preprocess(batch(false), false);
          try {
            await expectNoLeaks('extractFeat', () => d.extractFeat(inputs), (feats) => {
              checkNhwcOutputs('extractFeat', feats, sizes.length);
            });
          } finally {
            inputs.dispose();
          }
        }),
    },
    {
      name: 'predict: well-formed instances at the original size, no leaked tensors',
      run: () =>
        withDetector({ [key]: { ...testCfg, score_thr: 0, filter_thr: 0, nms_pre: 30, max_per_img: 5 } }, async (d) => {
          d.eval();
          const before = tf.memory().numTensors;
          const { inputs, dataSamples } = d.preprocess(batch(false), false);
          let res: InstanceData[];
          try {
            res = await d.predict(inputs, dataSamples);
          } finally {
            inputs.dispose();
          }
          check(tf.memory().numTensors === before, `predict leaks ${tf.memory().numTensors - before} tensors`);
          check(Array.isArray(res) && res.length === sizes.length, `predict must return one InstanceData per image (${sizes.length})`);
          res.forEach((r, i) => checkInstances(`predict image ${i}`, r, dataSamples[i].metainfo.oriShape, o.numClasses, 5));
        }),
    },
    { name: 'state dict round trip', run: () => withDetector(undefined, (d) => checkStateDictRoundTrip('detector state dict', d)) },
  ];
}
