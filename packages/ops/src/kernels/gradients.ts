// SPDX-License-Identifier: Apache-2.0
/**
 * Zero gradients for tfjs ops that have none registered.
 *
 * tfjs-core registers no gradient for comparison and logical kernels (`Greater`, `Less`, `LessEqual`, `Equal`,
 * `NotEqual`, `Logical*`), so `tf.where(tf.greater(x, 0), ...)` on a differentiated `x` throws
 * "gradient function not found for Greater". Their true gradient is zero (piecewise-constant outputs), as for
 * `GreaterEqual`, which tfjs does cover. `registerZeroGradients()` registers exactly that for every such kernel
 * that has no gradient yet (never replaces an existing one). Idempotent; backend independent.
 */
import * as tf from '@tensorflow/tfjs-core';

/** Kernels whose outputs are piecewise constant (boolean) in their inputs. */
export const ZERO_GRADIENT_KERNELS: readonly string[] = [
  'Greater', 'Less', 'LessEqual', 'Equal', 'NotEqual', 'LogicalAnd', 'LogicalOr', 'LogicalNot', 'LogicalXor',
];

/** Registers zero gradients for the kernels in `ZERO_GRADIENT_KERNELS` that lack one; returns those registered. */
export function registerZeroGradients(): string[] {
  const added: string[] = [];
  for (const kernelName of ZERO_GRADIENT_KERNELS) {
    if (tf.getGradient(kernelName) !== undefined) continue;
    const names = kernelName === 'LogicalNot' ? ['x'] : ['a', 'b'];
    tf.registerGradient({
      kernelName,
      inputsToSave: names,
      gradFunc: (_dy, saved) => {
        const grads: Record<string, () => tf.Tensor> = {};
        // float32 zeros: tfjs requires float32 gradients even for int/bool inputs.
        names.forEach((name, i) => {
          grads[name] = () => tf.zeros(saved[i].shape, 'float32');
        });
        return grads;
      },
    });
    added.push(kernelName);
  }
  return added;
}
