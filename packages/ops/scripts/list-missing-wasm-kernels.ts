// SPDX-License-Identifier: Apache-2.0
/**
 * Lists the tfjs kernels registered for the `cpu` backend but not for `wasm` (optionally after solo-ts's
 * training kernels are registered). Run: `npx tsx packages/ops/scripts/list-missing-wasm-kernels.ts [--with-solo]`.
 */
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import '@tensorflow/tfjs-backend-wasm';

async function main(): Promise<void> {
  if (process.argv.includes('--with-solo')) {
    const ops: Record<string, unknown> = await import("../src/index.js");
    (ops["registerWasmTrainingKernels"] as () => void)();
  }
  const cpu = new Set(tf.getKernelsForBackend('cpu').map((k) => k.kernelName));
  const wasm = new Set(tf.getKernelsForBackend('wasm').map((k) => k.kernelName));
  const missing = [...cpu].filter((k) => !wasm.has(k)).sort();
  console.log(`cpu: ${cpu.size} kernels, wasm: ${wasm.size} kernels, missing on wasm: ${missing.length}`);
  for (const k of missing) console.log(`  ${k}`);
}

await main();
