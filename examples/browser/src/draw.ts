// SPDX-License-Identifier: Apache-2.0
/// <reference lib="dom" />
/** Masks, boxes, class names and scores of the detections drawn over the image on a canvas. */
import type { InstanceData } from '@solo-ts/core';

function colour(label: number): [number, number, number] {
  // well-spread hues, one per class
  const h = (label * 0.618033988749895) % 1;
  const f = (n: number) => {
    const k = (n + h * 6) % 6;
    return Math.round(255 * (1 - 0.75 * Math.max(0, Math.min(k, 4 - k, 1))));
  };
  return [f(5), f(3), f(1)];
}

export function drawDetections(canvas: HTMLCanvasElement, img: CanvasImageSource & { width: number; height: number }, inst: InstanceData, classes: string[], scoreThr = 0.3, alpha = 0.5): number {
  canvas.width = img.width;
  canvas.height = img.height;
  const ctx = canvas.getContext('2d')!;
  ctx.drawImage(img, 0, 0);
  const n = inst.scores?.length ?? 0;
  const m = inst.masks;
  const frame = ctx.getImageData(0, 0, img.width, img.height);
  const keep = [...Array(n).keys()].filter((i) => inst.scores![i] >= scoreThr);
  if (m) {
    const hw = m.height * m.width;
    for (const i of keep) {
      const [r, g, b] = colour(inst.labels?.[i] ?? 0);
      const mask = m.data.subarray(i * hw, (i + 1) * hw);
      for (let p = 0; p < hw; p++) {
        if (!mask[p]) continue;
        const q = 4 * p;
        frame.data[q] = (1 - alpha) * frame.data[q] + alpha * r;
        frame.data[q + 1] = (1 - alpha) * frame.data[q + 1] + alpha * g;
        frame.data[q + 2] = (1 - alpha) * frame.data[q + 2] + alpha * b;
      }
    }
    ctx.putImageData(frame, 0, 0);
  }
  ctx.font = '13px sans-serif';
  ctx.lineWidth = 2;
  for (const i of keep) {
    const [r, g, b] = colour(inst.labels?.[i] ?? 0);
    const [x1, y1, x2, y2] = inst.bboxes ? Array.from(inst.bboxes.subarray(4 * i, 4 * i + 4)) : [0, 0, 0, 0];
    ctx.strokeStyle = `rgb(${r},${g},${b})`;
    ctx.strokeRect(x1, y1, x2 - x1, y2 - y1);
    const text = `${classes[inst.labels?.[i] ?? 0] ?? inst.labels?.[i]} ${inst.scores![i].toFixed(2)}`;
    const w = ctx.measureText(text).width + 6;
    ctx.fillStyle = `rgb(${r},${g},${b})`;
    ctx.fillRect(x1, Math.max(0, y1 - 16), w, 16);
    ctx.fillStyle = '#fff';
    ctx.fillText(text, x1 + 3, Math.max(12, y1 - 4));
  }
  return keep.length;
}
