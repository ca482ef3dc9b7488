// SPDX-License-Identifier: Apache-2.0
/**
 * `countDeviceReads(fn)`: how many times the active backend copied tensor data from the device to the host while
 * `fn` ran (its `read` / `readSync`), to check that a GPU training step or a post-processing stays on the device.
 * Reads of data the backend still holds on the host (a tensor just made from a JS array, which webgpu keeps in
 * `values` until a kernel needs it on the GPU; its Tile kernel reads such small inputs on the CPU) are not counted.
 */
import * as tf from '@tensorflow/tfjs-core';

interface ReadableBackend {
  read(dataId: object): Promise<unknown>;
  readSync(dataId: object): unknown;
  tensorMap?: { get(dataId: object): { values?: unknown } | undefined };
}

export async function countDeviceReads<T>(fn: () => Promise<T> | T): Promise<{ result: T; reads: number }> {
  const backend = tf.backend() as unknown as ReadableBackend;
  const { read, readSync } = backend;
  let reads = 0;
  const onDevice = (id: object) => backend.tensorMap?.get(id)?.values == null;
  backend.read = (id) => {
    if (onDevice(id)) reads++;
    return read.call(backend, id);
  };
  backend.readSync = (id) => {
    if (onDevice(id)) reads++;
    return readSync.call(backend, id);
  };
  try {
    return { result: await fn(), reads };
  } finally {
    backend.read = read;
    backend.readSync = readSync;
  }
}
