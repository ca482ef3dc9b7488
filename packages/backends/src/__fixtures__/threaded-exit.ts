// SPDX-License-Identifier: Apache-2.0
// Child script for select.test.ts: uses the threaded wasm backend, then returns from the main module. The process
// must exit by itself (the XNNPACK pool's worker threads must not keep Node's event loop alive).
import * as tf from '@tensorflow/tfjs-core';
import { selectBackend } from '../select.js';

const sel = await selectBackend('wasm', { threads: 2, quiet: true });
const y = tf.conv2d(tf.ones([1, 16, 16, 8]) as tf.Tensor4D, tf.ones([3, 3, 8, 8]) as tf.Tensor4D, 1, 'same');
console.log(`${sel.detail} ${y.dataSync()[0]}`);
