// SPDX-License-Identifier: Apache-2.0
/**
 * Inputs of `solo bench`: the images (a file, or synthetic "shapes" images), the test pipeline that turns them
 * into network inputs, and synthetic training batches with ground truth.
 *
 * `--shape HxW` means the network input size before padding: a synthetic H x W image goes through the config's
 * test pipeline with every `Resize` set to keep that size (scale [max(H, W), min(H, W)], keep_ratio), so the
 * pre-processing still runs every step (resize, packing, normalisation, padding to `pad_size_divisor`). Without
 * `--shape` or `--image` the synthetic image is 480 x 640 (a typical COCO image) and the config's own resize
 * applies.
 */
import fs from 'node:fs';
import { SoloError, type DetDataSample, type Registry } from '@solo-ts/core';
import type { Config } from '@solo-ts/config';
import { Compose, decodeImage, renderShapesImage, segmentationsToMasks, type ImageU8, type PackedSample } from '@solo-ts/datasets';
import type { DataBatch } from '@solo-ts/engine';

/** Default synthetic image size without `--shape` ([h, w]). */
export const DEFAULT_IMAGE_SHAPE: [number, number] = [480, 640];

/** The test pipeline of a config, without image loading and annotations (as `inferImage` uses it). */
export function testPipelineEntries(cfg: Config): Array<Record<string, unknown>> {
  const p = cfg.get<unknown[]>('test_dataloader.dataset.pipeline') ?? cfg.get<unknown[]>('test_pipeline') ?? cfg.get<unknown[]>('val_dataloader.dataset.pipeline');
  if (!Array.isArray(p)) throw new SoloError(`${cfg.filename} has no test pipeline (test_dataloader.dataset.pipeline)`, { code: 'CONFIG' });
  return (p as Array<Record<string, unknown>>).filter((t) => {
    const type = t?.type;
    return type !== 'LoadImageFromFile' && type !== 'LoadAnnotations' && type !== 'mmdet.LoadImageFromNDArray' && type !== 'LoadImageFromNDArray';
  });
}

/** The test pipeline; with `keepShape` [h, w] every Resize keeps an image of that size as it is. */
export function buildTestPipeline(cfg: Config, registry: Registry, keepShape?: [number, number]): Compose {
  let entries = testPipelineEntries(cfg);
  if (keepShape) {
    const [h, w] = keepShape;
    entries = entries.map((t) => (t.type === 'Resize' ? { ...t, scale: [Math.max(h, w), Math.min(h, w)], scale_factor: null, keep_ratio: true } : t));
  }
  return Compose.build(entries, registry.context('test_pipeline'), 'test_pipeline');
}

/** BGR uint8 HWC "shapes" image (deterministic from the seed) and its instance masks. */
export function syntheticImage(h: number, w: number, seed: number): { img: ImageU8; masks: ReturnType<typeof segmentationsToMasks>; labels: Int32Array } {
  const r = renderShapesImage({ width: w, height: h, seed, minObjects: 3, maxObjects: 8 });
  const bgr = new Uint8Array(r.rgb.length);
  for (let i = 0; i < r.rgb.length; i += 3) {
    bgr[i] = r.rgb[i + 2];
    bgr[i + 1] = r.rgb[i + 1];
    bgr[i + 2] = r.rgb[i];
  }
  const masks = segmentationsToMasks(r.annotations.map((a) => a.segmentation), h, w);
  return { img: { data: bgr, height: h, width: w, channels: 3 }, masks, labels: Int32Array.from(r.annotations, (a) => a.categoryId - 1) };
}

/** Decode an image file (BGR, as LoadImageFromFile). */
export async function loadImageFile(file: string): Promise<ImageU8> {
  let bytes: Uint8Array;
  try {
    bytes = fs.readFileSync(file);
  } catch (e) {
    throw new SoloError(`cannot read image ${file}: ${(e as NodeJS.ErrnoException).code === 'ENOENT' ? 'file not found' : (e as Error).message}`, { code: 'FILE' });
  }
  try {
    return await decodeImage(bytes);
  } catch (e) {
    throw new SoloError(`cannot decode image ${file}: ${(e as Error).message}`, { code: 'FILE', cause: e });
  }
}

/** Run the test pipeline on one image. */
export async function packImage(pipeline: Compose, img: ImageU8, imgId: number, imgPath?: string): Promise<PackedSample> {
  const packed = await pipeline.run<PackedSample>({ img, imgShape: [img.height, img.width], oriShape: [img.height, img.width], imgId, imgPath, instances: [] });
  if (!packed) throw new SoloError('the test pipeline dropped the image', { code: 'RUNTIME' });
  return packed;
}

/** Bounding boxes (xyxy, exclusive max as mmdet's BitmapMasks.get_bboxes) of binary masks. */
function maskBoxes(m: { count: number; height: number; width: number; data: Uint8Array }): Float32Array {
  const out = new Float32Array(m.count * 4);
  const hw = m.height * m.width;
  for (let i = 0; i < m.count; i++) {
    let x0 = m.width;
    let y0 = m.height;
    let x1 = -1;
    let y1 = -1;
    for (let y = 0; y < m.height; y++) {
      const row = i * hw + y * m.width;
      for (let x = 0; x < m.width; x++) {
        if (!m.data[row + x]) continue;
        if (x < x0) x0 = x;
        if (x > x1) x1 = x;
        if (y < y0) y0 = y;
        if (y > y1) y1 = y;
      }
    }
    if (x1 >= 0) out.set([x0, y0, x1 + 1, y1 + 1], i * 4);
  }
  return out;
}

/**
 * A training batch of `batch` synthetic H x W images with their ground truth (instances whose masks are empty are
 * dropped), as the data loader yields it after the train pipeline (PackDetInputs): no random resize or flip, so
 * every step sees the same input size.
 */
export function syntheticTrainBatch(h: number, w: number, batch: number, seed = 0): DataBatch {
  const inputs: unknown[] = [];
  const dataSamples: DetDataSample[] = [];
  for (let b = 0; b < batch; b++) {
    const { img, masks, labels } = syntheticImage(h, w, seed + b);
    const boxes = maskBoxes(masks);
    inputs.push({ data: img.data, height: h, width: w, channels: 3, channelOrder: 'bgr' });
    dataSamples.push({
      metainfo: { imgId: b, oriShape: [h, w], imgShape: [h, w], scaleFactor: [1, 1], flip: false, flipDirection: null },
      gtInstances: { bboxes: boxes, labels, masks },
    });
  }
  return { inputs, dataSamples };
}
