// SPDX-License-Identifier: Apache-2.0
/**
 * Mask-head contract (`MaskHead` of @solo-ts/core): NHWC outputs per level, losses with empty and one-instance
 * ground truth, gradients to every trainable parameter, predictions with and without candidates, no leaked
 * tensors, state-dict round trip. Written for the SOLO family's conventions (`loss_mask` / `loss_cls`, a
 * `test_cfg` option) and configurable for other heads.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { DetDataSample, MaskHead } from '@solo-ts/core';
import { checkGradients, type GradientCheckOptions } from '../gradients.js';
import { emptySample, featurePyramid, makeSample, manyInstancesSample, oneInstanceSample } from '../samples.js';
import { check, expectNoLeaks, scalarOf } from '../tensors.js';
import { checkInstances, checkNhwcOutputs, checkStateDictRoundTrip, disposeComponent } from './common.js';
import type { ContractCheck, Factory, YamlOptions } from './types.js';

/** mmdetection's SOLO test_cfg. */
export const SOLO_TEST_CFG: YamlOptions = { nms_pre: 500, score_thr: 0.1, mask_thr: 0.5, filter_thr: 0.05, kernel: 'gaussian', sigma: 2.0, max_per_img: 100 };

export interface MaskHeadContractOptions {
  /** A fresh head from YAML overrides (merged over your base config). */
  build: Factory<MaskHead>;
  /** Channels of every input level. */
  inChannels: number;
  numClasses: number;
  /** Padded input size [h, w] (default [64, 64]); level l is ceil(size / strides[l]). */
  inputSize?: [number, number];
  /** Strides of the input levels (default FPN P2..P6: [4, 8, 16, 32, 64]). */
  strides?: number[];
  /** Images per batch (default 2). */
  batchSize?: number;
  /** Option holding the test settings (default `test_cfg`); null = the head takes none (then `predictOverrides`). */
  testCfgKey?: string | null;
  /** Test settings to start from (default `SOLO_TEST_CFG`). */
  testCfg?: YamlOptions;
  /**
   * Extra YAML overrides of the predict checks: `none` (no candidates) and `some` (candidates expected), merged
   * over the test-settings override (e.g. an `init_cfg` whose random masks pass `mask_thr`).
   */
  predictOverrides?: { none?: YamlOptions; some?: YamlOptions };
  /** With empty ground truth: loss terms that must be exactly 0 and terms that must be > 0. */
  emptyGt?: { zero?: string[]; positive?: string[] };
  /** Loss terms that must be > 0 with one instance per image (default `loss_mask`, `loss_cls` when present). */
  positiveWithGt?: string[];
  /** Ground truth of the gradient check (default: one instance per image, several in the last image). */
  samples?: (inputSize: [number, number], batch: number) => DetDataSample[];
  /** Exceptions to "every trainable parameter receives a non-zero finite gradient". */
  gradients?: GradientCheckOptions;
  /** Require the "some candidates" prediction to return at least one instance (default true). */
  expectPredictions?: boolean;
  /** Extra checks of the raw forward outputs (training and eval form). */
  checkOutputs?: (outputs: unknown, training: boolean, head: MaskHead) => void;
}

function sumLosses(losses: Record<string, tf.Scalar>): tf.Scalar {
  const terms = Object.values(losses);
  check(terms.length > 0, 'loss returned no terms');
  return (terms.length === 1 ? tf.clone(terms[0]) : tf.addN(terms)) as tf.Scalar;
}

/** The checks of the mask-head contract (each throws a ContractViolation on failure). */
export function maskHeadChecks(o: MaskHeadContractOptions): ContractCheck[] {
  const inputSize = o.inputSize ?? [64, 64];
  const strides = o.strides ?? [4, 8, 16, 32, 64];
  const batch = o.batchSize ?? 2;
  const testCfg = o.testCfg ?? SOLO_TEST_CFG;
  const testCfgKey = o.testCfgKey === undefined ? 'test_cfg' : o.testCfgKey;
  const feats = () => featurePyramid(inputSize, strides, o.inChannels, batch, 7);
  const gtSamples =
    o.samples ??
    ((size: [number, number], b: number) =>
      Array.from({ length: b }, (_, i) => (i === b - 1 && b > 1 ? manyInstancesSample(size, 3, o.numClasses, i) : oneInstanceSample(size, i % o.numClasses, i))));
  const predictSamples = (): DetDataSample[] =>
    Array.from({ length: batch }, (_, i) =>
      i === 0
        ? makeSample({ inputSize, imgId: i, imgShape: [inputSize[0] - 8, inputSize[1]], oriShape: [Math.round((inputSize[0] - 8) / 2), Math.round(inputSize[1] / 2)] })
        : makeSample({ inputSize, imgId: i }),
    );
  const build = (overrides?: YamlOptions): MaskHead => {
    const base = testCfgKey ? { [testCfgKey]: testCfg } : {};
    return o.build({ ...base, ...overrides });
  };
  const withHead = async (overrides: YamlOptions | undefined, fn: (head: MaskHead) => Promise<void> | void) => {
    const head = build(overrides);
    try {
      await fn(head);
    } finally {
      disposeComponent(head);
    }
  };
  const withInputs = async (fn: (x: tf.Tensor4D[]) => Promise<void> | void) => {
    const x = feats();
    try {
      await fn(x);
    } finally {
      tf.dispose(x);
    }
  };
  const cheapForward = (training: boolean) => async () =>
    withHead(undefined, (head) =>
      withInputs(async (x) => {
        training ? head.train() : head.eval();
        await expectNoLeaks(`forward (${training ? 'training' : 'eval'})`, () => head.forward(x), (out) => {
          checkNhwcOutputs(`forward (${training ? 'training' : 'eval'})`, out, batch);
          const cls = (out as { mlvlClsPreds?: tf.Tensor[] }).mlvlClsPreds;
          const grids = (head as unknown as { numGrids?: number[] }).numGrids;
          if (Array.isArray(cls)) {
            check(cls.length === strides.length, `forward: ${cls.length} cls levels for ${strides.length} input levels`);
            cls.forEach((c, l) => {
              const g = grids?.[l];
              const want = [batch, g ?? c.shape[1], g ?? c.shape[2], o.numClasses];
              check(c.shape.every((d, i) => d === want[i]), `forward: mlvlClsPreds[${l}] has shape [${c.shape.join(', ')}], expected [${want.join(', ')}]`);
            });
          }
          o.checkOutputs?.(out, training, head);
        });
      }),
    );

  const checks: ContractCheck[] = [
    { name: 'forward (training mode): NHWC levels, finite, no leaked tensors', run: cheapForward(true) },
    { name: 'forward (eval mode): NHWC levels, finite, no leaked tensors', run: cheapForward(false) },
    {
      name: 'loss with empty ground truth: finite terms (mask loss 0, cls loss > 0), no leaks',
      run: () =>
        withHead(undefined, (head) =>
          withInputs(async (x) => {
            head.train();
            const samples = Array.from({ length: batch }, (_, i) => emptySample(inputSize, i));
            await expectNoLeaks('loss (empty gt)', () => head.loss(x, samples), (losses) => {
              const keys = Object.keys(losses);
              check(keys.length > 0, 'loss returned no terms');
              const values = Object.fromEntries(keys.map((k) => [k, scalarOf(losses[k], `loss term ${k}`)]));
              for (const [k, v] of Object.entries(values)) check(Number.isFinite(v), `loss term ${k} is ${v} with empty ground truth`);
              const zero = o.emptyGt?.zero ?? keys.filter((k) => k === 'loss_mask');
              const positive = o.emptyGt?.positive ?? keys.filter((k) => k === 'loss_cls');
              for (const k of zero) check(values[k] === 0, `loss term ${k} must be 0 with empty ground truth, got ${values[k]}`);
              for (const k of positive) check(values[k] > 0, `loss term ${k} must be > 0 with empty ground truth (all cells are negatives), got ${values[k]}`);
            });
          }),
        ),
    },
    {
      name: 'loss with empty ground truth: finite gradients',
      run: () =>
        withHead(undefined, (head) =>
          withInputs((x) => {
            head.train();
            const samples = Array.from({ length: batch }, (_, i) => emptySample(inputSize, i));
            const before = tf.memory().numTensors;
            checkGradients('loss (empty gt)', head, () => sumLosses(head.loss(x, samples)), { allowZero: [/.*/], allowMissing: [/.*/] });
            check(tf.memory().numTensors === before, `gradient computation leaks ${tf.memory().numTensors - before} tensors`);
          }),
        ),
    },
    {
      name: 'loss with one instance per image: finite, positive terms, no leaks',
      run: () =>
        withHead(undefined, (head) =>
          withInputs(async (x) => {
            head.train();
            const samples = Array.from({ length: batch }, (_, i) => oneInstanceSample(inputSize, i % o.numClasses, i));
            await expectNoLeaks('loss (one instance)', () => head.loss(x, samples), (losses) => {
              const keys = Object.keys(losses);
              for (const k of keys) check(Number.isFinite(scalarOf(losses[k], k)), `loss term ${k} is not finite with one instance per image`);
              const positive = o.positiveWithGt ?? keys.filter((k) => k === 'loss_mask' || k === 'loss_cls');
              for (const k of positive) check(scalarOf(losses[k], k) > 0, `loss term ${k} must be > 0 with one instance per image, got ${scalarOf(losses[k], k)}`);
            });
          }),
        ),
    },
    {
      name: 'gradients reach every trainable parameter (finite, non-zero), no leaks',
      run: () =>
        withHead(undefined, (head) =>
          withInputs((x) => {
            head.train();
            const samples = gtSamples(inputSize, batch);
            const before = tf.memory().numTensors;
            checkGradients('loss gradients', head, () => sumLosses(head.loss(x, samples)), o.gradients);
            check(tf.memory().numTensors === before, `gradient computation leaks ${tf.memory().numTensors - before} tensors`);
          }),
        ),
    },
    {
      name: 'predict without candidates: one empty InstanceData per image at the original size, no leaks',
      run: () =>
        withHead({ ...(testCfgKey ? { [testCfgKey]: { ...testCfg, score_thr: 2 } } : {}), ...o.predictOverrides?.none }, (head) =>
          withInputs(async (x) => {
            head.eval();
            const samples = predictSamples();
            await expectNoLeaks('predict (no candidates)', () => head.predict(x, samples), (res) => {
              check(Array.isArray(res) && res.length === batch, `predict must return one InstanceData per image (${batch}), got ${Array.isArray(res) ? res.length : typeof res}`);
              res.forEach((r, i) => {
                const n = checkInstances(`predict image ${i}`, r, samples[i].metainfo.oriShape, o.numClasses);
                check(n === 0, `predict image ${i}: ${n} instances although no score can pass score_thr`);
              });
            });
          }),
        ),
    },
    {
      name: 'predict with candidates: well-formed instances at the original size, no leaks',
      run: () => {
        const some = { ...(testCfgKey ? { [testCfgKey]: { ...testCfg, score_thr: 0, filter_thr: 0, nms_pre: 50, max_per_img: 10 } } : {}), ...o.predictOverrides?.some };
        const maxPerImg = testCfgKey ? 10 : undefined;
        return withHead(some, (head) =>
          withInputs(async (x) => {
            head.eval();
            const samples = predictSamples();
            await expectNoLeaks('predict (candidates)', () => head.predict(x, samples), (res) => {
              check(Array.isArray(res) && res.length === batch, `predict must return one InstanceData per image (${batch})`);
              let total = 0;
              res.forEach((r, i) => (total += checkInstances(`predict image ${i}`, r, samples[i].metainfo.oriShape, o.numClasses, maxPerImg)));
              if (o.expectPredictions ?? true) check(total > 0, 'predict with score_thr 0 returned no instance at all (expected some from a random head)');
            });
          }),
        );
      },
    },
    {
      name: 'train()/eval() switch modes; state dict round trip',
      run: () =>
        withHead(undefined, (head) => {
          check(head.train() === head && head.training, 'train() must return the head and set training');
          check(head.eval() === head && !head.training, 'eval() must return the head and clear training');
          checkStateDictRoundTrip('state dict', head);
        }),
    },
  ];
  return checks;
}
