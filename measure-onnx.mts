import * as tf from '@tensorflow/tfjs-core';
import * as ort from 'onnxruntime-node';
import { buildDetector, exportOnnx } from '@solo-ts/apis';
import { setBatchNormFolding } from '@solo-ts/ops';
const cfgFile = 'configs/solov2/solov2-light_r18_fpn_ms-3x_coco.yaml';
const [H, W] = [448, 768];
const det = await buildDetector(cfgFile, { backend: 'wasm', threads: 2, cfgOptions: { 'model.backbone.init_cfg': null } });
setBatchNormFolding(true);
const ex: number[] = [];
let bytes!: Uint8Array;
let t = 0;
for (let i = 0; i < 5; i++) { t = performance.now(); bytes = exportOnnx(det, { checkpointSha256: null }).bytes; ex.push(performance.now() - t); }
t = performance.now();
const s = await ort.InferenceSession.create(bytes, { intraOpNumThreads: 2, interOpNumThreads: 1, graphOptimizationLevel: 'all', executionMode: 'sequential' });
const tSession = performance.now() - t;
const data = Float32Array.from({ length: 3 * H * W }, (_, i) => Math.sin(i * 0.01));
const x = new ort.Tensor('float32', data, [1, 3, H, W]);
const xt = tf.tensor4d(data, [1, 3, H, W]).transpose([0, 2, 3, 1]) as tf.Tensor4D;
const fw: number[] = [], tw: number[] = [];
for (let i = 0; i < 8; i++) {
  t = performance.now(); await s.run({ input: x }); fw.push(performance.now() - t);
  if (i < 5) { t = performance.now(); const o = (det.model as any).forwardTensor(xt); await Promise.all(tf.util.flatten(Object.values(o) as any).map((q: any) => q.data())); tf.dispose(o); tw.push(performance.now() - t); }
}
const med = (a: number[]) => [...a].sort((p, q) => p - q)[Math.floor(a.length / 2)];
const r = (a: number[]) => a.map(Math.round);
console.log(JSON.stringify({ export_ms: r(ex), export_median_ms: Math.round(med(ex.slice(1))), onnx_mb: +(bytes.length / 1e6).toFixed(1), session_create_ms: Math.round(tSession), ort_forward_ms: r(fw), ort_median_ms: Math.round(med(fw.slice(1))), ort_min_ms: Math.round(Math.min(...fw.slice(1))), tfjs_wasm_forward_ms: r(tw), tfjs_median_ms: Math.round(med(tw.slice(1))), tfjs_min_ms: Math.round(Math.min(...tw.slice(1))) }));
