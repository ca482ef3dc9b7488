// SPDX-License-Identifier: Apache-2.0
/// <reference lib="dom" />
/**
 * Instance segmentation in the browser with an exported solo-ts model: the same steps as `solo infer MODEL.onnx`
 * in Node (the model's test pipeline and data preprocessor, the network on onnxruntime-web, the head's host
 * post-processing `predictByFeat` on TensorFlow.js's cpu backend), with the browser decoding the image.
 */
import * as ort from 'onnxruntime-web';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { Registry, type InstanceData, type MaskHead } from '@solo-ts/core';
import { OnnxSession, readOnnxMetadata, type OrtModule, type SoloOnnxMetadata } from '@solo-ts/onnx';
import { headsComponents } from '@solo-ts/heads';
import { lossesComponents } from '@solo-ts/losses';
import { assignersComponents } from '@solo-ts/assigners';
import { postprocessComponents } from '@solo-ts/postprocess';
import { Compose, datasetsComponents, type PackedSample } from '@solo-ts/datasets';
import { DetDataPreprocessor, detectorsComponents } from '@solo-ts/detectors';

export interface BrowserDetector {
  session: OnnxSession;
  meta: SoloOnnxMetadata;
  head: MaskHead;
  preprocessor: DetDataPreprocessor;
  pipeline: Compose;
  /** `webgpu` or `wasm (N threads)`. */
  provider: string;
  /** onnxruntime-web's version. */
  ortVersion: string;
}

export interface Detection {
  instances: InstanceData;
  ms: { preprocess: number; network: number; postprocess: number };
}

const LOADERS = new Set(['LoadImageFromFile', 'LoadAnnotations', 'LoadImageFromNDArray', 'mmdet.LoadImageFromNDArray']);

async function hasWebGpu(): Promise<boolean> {
  const gpu = (navigator as unknown as { gpu?: { requestAdapter(): Promise<unknown> } }).gpu;
  if (!gpu) return false;
  try {
    return (await gpu.requestAdapter()) !== null;
  } catch {
    return false;
  }
}

/** Load an exported model: WebGPU where the browser has an adapter, else wasm (threads when cross-origin isolated). */
export async function loadDetector(bytes: Uint8Array, o: { wasmPaths: string; provider?: 'webgpu' | 'wasm' }): Promise<BrowserDetector> {
  await tf.setBackend('cpu');
  const meta = readOnnxMetadata(bytes, 'the model');
  ort.env.wasm.wasmPaths = o.wasmPaths;
  const threads = globalThis.crossOriginIsolated ? Math.min(navigator.hardwareConcurrency || 1, 8) : 1;
  ort.env.wasm.numThreads = threads;
  const useGpu = o.provider ? o.provider === 'webgpu' : await hasWebGpu();
  const session = await OnnxSession.create(ort as unknown as OrtModule, bytes, {
    executionProviders: useGpu ? ['webgpu', 'wasm'] : ['wasm'],
    outputs: meta.outputs,
    source: 'the model',
  });
  const registry = new Registry().load(headsComponents, lossesComponents, assignersComponents, postprocessComponents, datasetsComponents, detectorsComponents);
  const model = meta.model;
  const neckOut = (model.neck as { out_channels?: number } | undefined)?.out_channels;
  const head = registry.build<MaskHead>('models', model.mask_head, 'mask_head', { testCfg: meta.test_cfg, trainCfg: null, ...(neckOut !== undefined ? { inChannels: neckOut } : {}) });
  head.eval();
  head.dispose(); // its weights are never used: the network runs in ONNX Runtime
  const preprocessor = registry.build<DetDataPreprocessor>('models', model.data_preprocessor ?? { type: 'DetDataPreprocessor' }, 'model.data_preprocessor');
  const pipeline = Compose.build(meta.test_pipeline.filter((t) => !LOADERS.has(String((t as { type?: unknown }).type))), registry.context('test_pipeline'), 'test_pipeline');
  return { session, meta, head, preprocessor, pipeline, provider: useGpu ? 'webgpu' : `wasm (${threads} thread${threads === 1 ? '' : 's'})`, ortVersion: ort.env.versions.web ?? '' };
}

/** An image element or bitmap as BGR uint8 HWC (as OpenCV decodes it in Node). */
export function imageToBgr(img: CanvasImageSource & { width: number; height: number }): { data: Uint8Array; height: number; width: number; channels: 3 } {
  const canvas = new OffscreenCanvas(img.width, img.height);
  const ctx = canvas.getContext('2d')!;
  ctx.drawImage(img, 0, 0);
  const rgba = ctx.getImageData(0, 0, img.width, img.height).data;
  const bgr = new Uint8Array(img.width * img.height * 3);
  for (let i = 0, j = 0; i < rgba.length; i += 4, j += 3) {
    bgr[j] = rgba[i + 2];
    bgr[j + 1] = rgba[i + 1];
    bgr[j + 2] = rgba[i];
  }
  return { data: bgr, height: img.height, width: img.width, channels: 3 };
}

/** Detect the instances of one BGR image. */
export async function detect(det: BrowserDetector, img: { data: Uint8Array; height: number; width: number; channels: 3 }): Promise<Detection> {
  const t0 = performance.now();
  const packed = await det.pipeline.run<PackedSample>({ img, imgShape: [img.height, img.width], oriShape: [img.height, img.width], imgId: 0, instances: [] });
  if (!packed) throw new Error('the test pipeline dropped the image');
  const { inputs, dataSamples } = det.preprocessor.forward({ inputs: [packed.inputs], dataSamples: [packed.dataSample] }, false);
  const nchw = tf.transpose(inputs, [0, 3, 1, 2]);
  const data = (await nchw.data()) as Float32Array;
  const shape = nchw.shape.slice();
  tf.dispose([inputs, nchw]);
  const t1 = performance.now();
  const raw = await det.session.run({ data, shape });
  const t2 = performance.now();
  const [instances] = await det.head.predictByFeat(raw, dataSamples.map((s) => s.metainfo));
  const t3 = performance.now();
  return { instances, ms: { preprocess: t1 - t0, network: t2 - t1, postprocess: t3 - t2 } };
}
