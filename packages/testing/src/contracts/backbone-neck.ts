// SPDX-License-Identifier: Apache-2.0
/**
 * Backbone and neck contracts (`Backbone` / `Neck` of @solo-ts/core): the published `outFeatures` (channels,
 * strides) match the NHWC levels `forward` returns; outputs are finite; eval mode is deterministic; a random
 * projection of the outputs sends finite non-zero gradients to every trainable parameter; no leaked tensors;
 * state-dict round trip.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { Backbone, FeatureSpec, Neck } from '@solo-ts/core';
import { checkGradients, type GradientCheckOptions } from '../gradients.js';
import { featurePyramid } from '../samples.js';
import { check, expectNoLeaks, seededNormal } from '../tensors.js';
import { checkNhwcOutputs, checkStateDictRoundTrip, disposeComponent } from './common.js';
import type { ContractCheck, Factory } from './types.js';

export interface BackboneContractOptions {
  build: Factory<Backbone>;
  /** Input size [h, w] (default [64, 64]: a multiple of the largest stride keeps every level exact). */
  inputSize?: [number, number];
  /** Input channels (default 3). */
  inChannels?: number;
  /** Images per batch (default 2). */
  batchSize?: number;
  /** Exceptions to "every trainable parameter receives a non-zero finite gradient". */
  gradients?: GradientCheckOptions;
}

export interface NeckContractOptions {
  build: Factory<Neck>;
  /** Input levels: channels and stride of each (what the backbone publishes). */
  inputs: FeatureSpec[];
  /** Image size the strides refer to (default [64, 64]). */
  inputSize?: [number, number];
  batchSize?: number;
  gradients?: GradientCheckOptions;
}

/** A scalar that depends on every output element: sum over levels of <out_l, r_l> for fixed random r_l. */
function projection(outs: tf.Tensor[]): tf.Scalar {
  return tf.addN(outs.map((t, l) => tf.sum(tf.mul(t, seededNormal(t.shape, 1000 + l))))) as tf.Scalar;
}

function checkLevels(what: string, outs: tf.Tensor[], specs: FeatureSpec[], size: [number, number]): void {
  check(outs.length === specs.length, `${what} returned ${outs.length} levels, outFeatures lists ${specs.length}`);
  outs.forEach((t, l) => {
    const want = [t.shape[0], Math.ceil(size[0] / specs[l].stride), Math.ceil(size[1] / specs[l].stride), specs[l].channels];
    check(
      t.shape.every((d, i) => d === want[i]),
      `${what}: level ${l} has shape [${t.shape.join(', ')}], outFeatures[${l}] = {channels: ${specs[l].channels}, stride: ${specs[l].stride}} means [${want.join(', ')}]`,
    );
  });
}

function checkSpecs(what: string, specs: FeatureSpec[] | undefined): FeatureSpec[] {
  check(Array.isArray(specs) && specs.length > 0, `${what} must publish \`outFeatures\` (channels and stride of each output level)`);
  specs.forEach((s, l) => check(Number.isInteger(s.channels) && s.channels > 0 && s.stride > 0, `${what}: outFeatures[${l}] = ${JSON.stringify(s)} is not {channels > 0, stride > 0}`));
  return specs;
}

function featureChecks<M extends Backbone | Neck>(
  what: string,
  build: () => M,
  makeInput: () => tf.Tensor4D | tf.Tensor4D[],
  size: [number, number],
  batch: number,
  gradients: GradientCheckOptions | undefined,
): ContractCheck[] {
  const withModule = async (fn: (m: M, x: tf.Tensor4D | tf.Tensor4D[]) => Promise<void> | void) => {
    const m = build();
    const x = makeInput();
    try {
      await fn(m, x);
    } finally {
      tf.dispose(x as tf.Tensor[]);
      disposeComponent(m);
    }
  };
  const fwd = (m: M, x: tf.Tensor4D | tf.Tensor4D[]): tf.Tensor4D[] => (m.forward as (i: unknown) => tf.Tensor4D[])(x);
  return [
    {
      name: 'outFeatures match the NHWC levels of forward (training and eval), finite, no leaked tensors',
      run: () =>
        withModule(async (m, x) => {
          const specs = checkSpecs(what, m.outFeatures);
          for (const training of [true, false]) {
            training ? m.train() : m.eval();
            await expectNoLeaks(`${what} forward`, () => fwd(m, x), (outs) => {
              check(Array.isArray(outs), `${what} forward must return an array of levels`);
              checkNhwcOutputs(`${what} forward`, outs, batch);
              checkLevels(`${what} forward`, outs, specs, size);
            });
          }
        }),
    },
    {
      name: 'eval mode is deterministic',
      run: () =>
        withModule((m, x) => {
          m.eval();
          const a = fwd(m, x);
          const b = fwd(m, x);
          try {
            a.forEach((t, l) => {
              const d = tf.tidy(() => tf.max(tf.abs(tf.sub(t, b[l]))).dataSync()[0]);
              check(d === 0, `${what}: two eval forwards differ by ${d} at level ${l}`);
            });
          } finally {
            tf.dispose([...a, ...b]);
          }
        }),
    },
    {
      name: 'gradients reach every trainable parameter (finite, non-zero), no leaks',
      run: () =>
        withModule((m, x) => {
          m.train();
          const before = tf.memory().numTensors;
          checkGradients(`${what} gradients`, m, () => tf.tidy(() => projection(fwd(m, x))), gradients);
          check(tf.memory().numTensors === before, `gradient computation leaks ${tf.memory().numTensors - before} tensors`);
        }),
    },
    { name: 'state dict round trip', run: () => withModule((m) => checkStateDictRoundTrip(`${what} state dict`, m)) },
  ];
}

/** The checks of the backbone contract. */
export function backboneChecks(o: BackboneContractOptions): ContractCheck[] {
  const size = o.inputSize ?? [64, 64];
  const batch = o.batchSize ?? 2;
  return featureChecks('backbone', () => o.build(), () => seededNormal([batch, size[0], size[1], o.inChannels ?? 3], 3) as tf.Tensor4D, size, batch, o.gradients);
}

/** The checks of the neck contract. */
export function neckChecks(o: NeckContractOptions): ContractCheck[] {
  const size = o.inputSize ?? [64, 64];
  const batch = o.batchSize ?? 2;
  const make = () =>
    featurePyramid(
      size,
      o.inputs.map((s) => s.stride),
      o.inputs.map((s) => s.channels),
      batch,
      11,
    );
  return featureChecks('neck', () => o.build(), make, size, batch, o.gradients);
}
