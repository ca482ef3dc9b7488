// SPDX-License-Identifier: Apache-2.0
import { describe, expect, it } from 'vitest';
import { encodeMasks, toBbox } from '@solo-ts/cocoapi';
import { predictionToCocoResults } from './results.js';

describe('predictionToCocoResults (mmdetection results2json for one image)', () => {
  const mask = new Uint8Array(4 * 5);
  mask[6] = mask[7] = mask[11] = 1;
  const masks = encodeMasks(new Uint8Array([...mask, ...mask.map((v) => 1 - v)]), 2, 4, 5);
  const pred = { imageId: 7, labels: Int32Array.of(1, 0), scores: Float32Array.of(0.5, 0.25), masks, bboxes: Float32Array.of(1, 2, 4, 6, 0, 0, 5, 4) };

  it('bbox results: xyxy -> xywh, category ids by label; segm results in the same order', () => {
    const r = predictionToCocoResults(pred, [3, 9], { segm: true });
    expect(r.bbox).toEqual([
      { image_id: 7, category_id: 9, score: 0.5, bbox: [1, 2, 3, 4] },
      { image_id: 7, category_id: 3, score: 0.25, bbox: [0, 0, 5, 4] },
    ]);
    expect(JSON.stringify(r.segm[0])).toBe(JSON.stringify({ image_id: 7, category_id: 9, score: 0.5, segmentation: masks[0] }));
    expect(predictionToCocoResults(pred, [3, 9]).segm).toEqual([]);
  });

  it('instance records: label and the mask box, in the inference API key order', () => {
    const [d] = predictionToCocoResults({ ...pred, bboxes: undefined }, [3, 9], { segm: true, instanceRecords: true }).segm;
    expect(Object.keys(d)).toEqual(['image_id', 'category_id', 'label', 'score', 'bbox', 'segmentation']);
    expect(d.bbox).toEqual(toBbox(masks[0]));
    expect(d.label).toBe(1);
  });

  it('typed errors: unknown label, missing masks', () => {
    expect(() => predictionToCocoResults(pred, [3])).toThrow(/image 7: label 1 has no category \(1 classes\)/);
    expect(() => predictionToCocoResults({ ...pred, masks: undefined }, [3, 9], { segm: true })).toThrow(/image 7: 2 predictions but 0 masks/);
  });
});
