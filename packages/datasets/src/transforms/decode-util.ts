// SPDX-License-Identifier: Apache-2.0
/**
 * Pixel helpers shared by the image decoders of decode-image.ts (OpenCV 4.6 imdecode emulation): BGR / gray
 * conversions as imgcodecs does them, EXIF orientation, and sharp pipelines and raw reads.
 */
import sharp, { type Sharp } from 'sharp';
import { DatasetError } from '@solo-ts/core';
import type { ImageU8 } from '@solo-ts/ops';

/** What a decoder produces: 3-channel BGR (`color`), one channel (`gray`), or the file's own channels (`unchanged`). */
export type Mode = 'color' | 'gray' | 'unchanged';

// ------------------------------------------------------------------------------------------------ pixel helpers

export function image(data: Uint8Array, height: number, width: number, channels: number): ImageU8 {
  return { data, height, width, channels };
}

/** imgcodecs' `icvCvt_BGR2Gray_8u` (BMP, PNM, TIFF, CMYK JPEG): (B*1868 + G*9617 + R*4899 + 8192) >> 14. */
export function bgrToGray(img: ImageU8): ImageU8 {
  const n = img.height * img.width;
  const out = new Uint8Array(n);
  const d = img.data;
  for (let i = 0, j = 0; i < n; i++, j += img.channels) out[i] = (d[j] * 1868 + d[j + 1] * 9617 + d[j + 2] * 4899 + 8192) >> 14;
  return image(out, img.height, img.width, 1);
}

/** `cv::cvtColor(..., COLOR_BGR2GRAY)` on uint8 (WebP): (B*3735 + G*19235 + R*9798 + 16384) >> 15. */
export function bgrToGrayCvt(img: ImageU8): ImageU8 {
  const n = img.height * img.width;
  const out = new Uint8Array(n);
  const d = img.data;
  for (let i = 0, j = 0; i < n; i++, j += img.channels) out[i] = (d[j] * 3735 + d[j + 1] * 19235 + d[j + 2] * 9798 + 16384) >> 15;
  return image(out, img.height, img.width, 1);
}

/**
 * Reorder/convert `channels`-band RGB(A) / gray(+alpha) samples into `outChannels` (1, 3 or 4) in BGR(A) order.
 * RGB to BGR swaps in place (the samples are sharp's fresh buffer or our own).
 */
export function toBgr(src: Uint8Array, n: number, channels: number, outChannels: number): Uint8Array {
  if (channels === 3 && outChannels === 3) {
    for (let i = 0; i < 3 * n; i += 3) {
      const t = src[i];
      src[i] = src[i + 2];
      src[i + 2] = t;
    }
    return src;
  }
  const out = new Uint8Array(n * outChannels);
  if (outChannels === 1) {
    for (let i = 0, s = 0; i < n; i++, s += channels) out[i] = src[s];
    return out;
  }
  const gray = channels <= 2;
  const alpha = channels === 2 || channels === 4;
  for (let i = 0, s = 0, o = 0; i < n; i++, s += channels, o += outChannels) {
    const r = src[s];
    out[o] = gray ? r : src[s + 2];
    out[o + 1] = gray ? r : src[s + 1];
    out[o + 2] = r;
    if (outChannels === 4) out[o + 3] = alpha ? src[s + channels - 1] : 255;
  }
  return out;
}

/** The Orientation tag (1-8) of an EXIF TIFF structure (IFD0), or 1. */
export function exifOrientation(t: Uint8Array): number {
  if (t.length < 8) return 1;
  const le = t[0] === 0x49 && t[1] === 0x49;
  if (!le && !(t[0] === 0x4d && t[1] === 0x4d)) return 1;
  const u16at = (at: number): number => (le ? t[at] | (t[at + 1] << 8) : (t[at] << 8) | t[at + 1]);
  const u32at = (at: number): number => (le ? u16at(at) + u16at(at + 2) * 65536 : u16at(at) * 65536 + u16at(at + 2));
  const ifd = u32at(4);
  if (ifd + 2 > t.length) return 1;
  const count = u16at(ifd);
  for (let k = 0; k < count; k++) {
    const e = ifd + 2 + 12 * k;
    if (e + 12 > t.length) break;
    if (u16at(e) === 0x0112) {
      const o = u16at(e + 8);
      return o >= 1 && o <= 8 ? o : 1;
    }
  }
  return 1;
}

/** OpenCV's ApplyExifOrientation: flips and a transpose per EXIF orientation (1-8). */
export function applyOrientation(img: ImageU8, orientation: number): ImageU8 {
  if (orientation <= 1 || orientation > 8) return img;
  const { height: h, width: w, channels: c, data } = img;
  const transpose = orientation >= 5;
  const oh = transpose ? w : h;
  const ow = transpose ? h : w;
  // flips applied after the (optional) transpose: 2 and 6 mirror columns, 4 and 8 mirror rows, 3 and 7 both
  const flipX = orientation === 2 || orientation === 3 || orientation === 6 || orientation === 7;
  const flipY = orientation === 3 || orientation === 4 || orientation === 7 || orientation === 8;
  const out = new Uint8Array(data.length);
  for (let y = 0; y < oh; y++) {
    for (let x = 0; x < ow; x++) {
      const ty = flipY ? oh - 1 - y : y;
      const tx = flipX ? ow - 1 - x : x;
      const [sy, sx] = transpose ? [tx, ty] : [ty, tx];
      const si = (sy * w + sx) * c;
      const oi = (y * ow + x) * c;
      for (let k = 0; k < c; k++) out[oi + k] = data[si + k];
    }
  }
  return image(out, oh, ow, c);
}

export interface Raw {
  data: Uint8Array;
  width: number;
  height: number;
  channels: number;
}

export async function raw(s: Sharp): Promise<Raw> {
  const { data, info } = await s.raw().toBuffer({ resolveWithObject: true });
  return { data: new Uint8Array(data.buffer, data.byteOffset, data.length), width: info.width, height: info.height, channels: info.channels };
}

/** 16-bit samples from sharp (`depth: 'ushort'`), as a Uint16Array view. */
export async function raw16(s: Sharp): Promise<{ data: Uint16Array; width: number; height: number; channels: number }> {
  const { data, info } = await s.raw({ depth: 'ushort' }).toBuffer({ resolveWithObject: true });
  const copy = new Uint8Array(data.length);
  copy.set(data);
  return { data: new Uint16Array(copy.buffer), width: info.width, height: info.height, channels: info.channels };
}

/**
 * A sharp pipeline on `bytes` (PNG, TIFF, WebP), ICC profile ignored, EXIF-oriented by libvips if `orient`; any
 * decoder warning fails, as libpng's, libtiff's and libwebp's errors fail in OpenCV.
 */
export function load(bytes: Uint8Array, orient: boolean): Sharp {
  const s = sharp(bytes, { ignoreIcc: true, failOn: 'warning' });
  return orient ? s.autoOrient() : s;
}

/**
 * A sharp pipeline on a JPEG, ICC profile ignored, turned as EXIF `orientation` (1-8) says. It decodes through
 * libjpeg's warnings (a JPEG that ends early: libjpeg fills in the rest, and OpenCV returns such images too).
 */
export function loadJpeg(bytes: Uint8Array, orientation: number): Sharp {
  const s = sharp(bytes, { ignoreIcc: true, failOn: 'none' });
  switch (orientation) {
    case 2:
      return s.flop();
    case 3:
      return s.rotate(180);
    case 4:
      return s.flip();
    case 5: // transpose (sharp mirrors before it rotates)
      return s.rotate(90).flip();
    case 6:
      return s.rotate(90);
    case 7: // transverse
      return s.rotate(90).flop();
    case 8:
      return s.rotate(270);
    default:
      return s;
  }
}

export function refuse16(what: string): never {
  throw new DatasetError(
    `${what} has 16-bit samples: with color_type 'unchanged' mmcv keeps them as uint16, which solo-ts's uint8 images do not carry; use 'color' or 'grayscale'`,
  );
}
