// SPDX-License-Identifier: Apache-2.0
/**
 * Pictures of predictions (`solo infer --show`, `solo test --show-dir`, the demo): the image with each instance's
 * mask as a coloured semi-transparent layer, its box, and `class score` on a label, drawn with sharp (the masks
 * as one raw RGBA layer, boxes and labels as an SVG layer rasterised by librsvg inside sharp's binaries).
 */
import sharp from 'sharp';
import type { InstanceData } from '@solo-ts/core';

export interface DrawOptions {
  /** Class names by label. */
  classes: readonly string[];
  /** RGB colour per label (default: a fixed palette). */
  palette?: readonly (readonly [number, number, number])[];
  /** Draw instances with score >= this (default 0.3). */
  scoreThr?: number;
  /** Mask opacity (default 0.5). */
  alpha?: number;
  lineWidth?: number;
}

/** An image as raw pixels, HWC uint8. */
export interface RawImage {
  data: Uint8Array;
  width: number;
  height: number;
  channels: number;
  /** `bgr` for images from LoadImageFromFile (cv2 order). */
  channelOrder?: 'rgb' | 'bgr' | 'gray';
}

const PALETTE: ReadonlyArray<readonly [number, number, number]> = [
  [220, 20, 60], [0, 130, 200], [60, 180, 75], [255, 180, 0], [145, 30, 180], [70, 240, 240], [240, 50, 230], [210, 245, 60],
  [250, 140, 100], [0, 128, 128], [170, 110, 40], [128, 0, 0], [0, 0, 128], [128, 128, 0], [255, 215, 180], [106, 0, 228],
];

function colourOf(label: number, palette?: DrawOptions['palette']): readonly [number, number, number] {
  return palette?.[label] ?? PALETTE[label % PALETTE.length];
}

function esc(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

/** RGB copy of a raw image. */
function toRgb(img: RawImage): Buffer {
  const { width: w, height: h, channels: c } = img;
  const out = Buffer.alloc(w * h * 3);
  const bgr = (img.channelOrder ?? 'rgb') === 'bgr';
  for (let i = 0; i < w * h; i++) {
    if (c === 1) out[3 * i] = out[3 * i + 1] = out[3 * i + 2] = img.data[i];
    else {
      out[3 * i] = img.data[c * i + (bgr ? 2 : 0)];
      out[3 * i + 1] = img.data[c * i + 1];
      out[3 * i + 2] = img.data[c * i + (bgr ? 0 : 2)];
    }
  }
  return out;
}

/** Draw `instances` (masks at the image size) over `image`; returns PNG bytes. */
export async function drawInstances(image: RawImage, instances: InstanceData, o: DrawOptions): Promise<Buffer> {
  const { width: w, height: h } = image;
  const thr = o.scoreThr ?? 0.3;
  const alpha = o.alpha ?? 0.5;
  const lw = o.lineWidth ?? 2;
  const n = instances.scores?.length ?? 0;
  const order = [...Array(n).keys()].filter((i) => instances.scores![i] >= thr).sort((a, b) => instances.scores![a] - instances.scores![b]);
  const layer = Buffer.alloc(w * h * 4);
  const m = instances.masks;
  const boxes: Array<{ x1: number; y1: number; x2: number; y2: number; colour: readonly number[]; text: string }> = [];
  for (const i of order) {
    const label = instances.labels?.[i] ?? 0;
    const col = colourOf(label, o.palette);
    let x1 = w;
    let y1 = h;
    let x2 = -1;
    let y2 = -1;
    if (m && m.height === h && m.width === w) {
      const off = i * h * w;
      for (let y = 0; y < h; y++) {
        for (let x = 0; x < w; x++) {
          if (!m.data[off + y * w + x]) continue;
          const p = 4 * (y * w + x);
          layer[p] = col[0];
          layer[p + 1] = col[1];
          layer[p + 2] = col[2];
          layer[p + 3] = Math.round(alpha * 255);
          if (x < x1) x1 = x;
          if (x > x2) x2 = x;
          if (y < y1) y1 = y;
          if (y > y2) y2 = y;
        }
      }
    }
    const bb = instances.bboxes;
    if (x2 < 0 && bb) [x1, y1, x2, y2] = Array.from(bb.subarray(4 * i, 4 * i + 4));
    if (x2 < 0) continue;
    const name = o.classes[label] ?? `class ${label}`;
    boxes.push({ x1, y1, x2: x2 + 1, y2: y2 + 1, colour: col, text: `${name} ${instances.scores![i].toFixed(2)}` });
  }
  const fontSize = Math.max(10, Math.min(18, Math.round(Math.min(w, h) / 30)));
  const svg = [`<svg xmlns="http://www.w3.org/2000/svg" width="${w}" height="${h}" font-family="DejaVu Sans, Arial, sans-serif" font-size="${fontSize}">`];
  for (const b of boxes) {
    const rgb = `rgb(${b.colour.join(',')})`;
    svg.push(`<rect x="${b.x1}" y="${b.y1}" width="${b.x2 - b.x1}" height="${b.y2 - b.y1}" fill="none" stroke="${rgb}" stroke-width="${lw}"/>`);
    const tw = Math.round(b.text.length * fontSize * 0.6) + 6;
    const ty = b.y1 - fontSize - 4 >= 0 ? b.y1 - fontSize - 4 : b.y1;
    svg.push(`<rect x="${b.x1}" y="${ty}" width="${tw}" height="${fontSize + 4}" fill="${rgb}" fill-opacity="0.85"/>`);
    svg.push(`<text x="${b.x1 + 3}" y="${ty + fontSize}" fill="white">${esc(b.text)}</text>`);
  }
  svg.push('</svg>');
  return sharp(toRgb(image), { raw: { width: w, height: h, channels: 3 } })
    .composite([
      { input: layer, raw: { width: w, height: h, channels: 4 } },
      { input: Buffer.from(svg.join('\n')) },
    ])
    .png()
    .toBuffer();
}
