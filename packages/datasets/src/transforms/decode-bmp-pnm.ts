// SPDX-License-Identifier: Apache-2.0
/**
 * BMP and PNM (PBM/PGM/PPM) readers following OpenCV 4.6's BmpDecoder and PxMDecoder; sharp reads neither format and
 * no maintained npm decoder follows OpenCV's rules. Part of decodeImage (decode-image.ts).
 */
import { DatasetError } from '@solo-ts/core';
import type { ImageU8 } from '@solo-ts/ops';
import { image, bgrToGray, toBgr, refuse16, type Mode } from './decode-util.js';

// ------------------------------------------------------------------------------------------------ BMP

/** OpenCV's CV_IO_MAX_IMAGE_PIXELS default. */
const MAX_PIXELS = 2 ** 30;

function u16(b: Uint8Array, at: number): number {
  return b[at] | (b[at + 1] << 8);
}
function i32(b: Uint8Array, at: number): number {
  return b[at] | (b[at + 1] << 8) | (b[at + 2] << 16) | (b[at + 3] << 24);
}

/**
 * BMP as OpenCV 4.6's BmpDecoder reads it: BITMAPINFOHEADER and later (40+ bytes) or OS/2 core (12 bytes) headers;
 * 1/4/8-bit palette (RLE4/RLE8 too), 16-bit 5-5-5 / 5-6-5, 24-bit, 32-bit (bit-field masks are not applied; with
 * BI_BITFIELDS the 4th byte is alpha under `unchanged`). RLE gaps (end of line, delta, end of bitmap) take palette
 * entry 0, as OpenCV fills them. Gray output uses imgcodecs' BGR2Gray on each pixel (or palette entry).
 */
export function decodeBmp(b: Uint8Array, mode: Mode): ImageU8 {
  const bad = (why: string): never => {
    throw new DatasetError(`cannot decode BMP: ${why}`);
  };
  if (b.length < 26) bad('the file is shorter than its headers');
  const dataOffset = i32(b, 10);
  const headerSize = i32(b, 14);
  let width: number;
  let rawHeight: number;
  let bpp: number;
  let compression = 0;
  let isColor: boolean;
  const palette = new Uint8Array(256 * 3); // B, G, R; entries past the file's are 0 (black), as OpenCV's
  if (headerSize >= 36) {
    if (b.length < 14 + headerSize) bad('the file is shorter than its headers');
    width = i32(b, 18);
    rawHeight = i32(b, 22);
    bpp = u16(b, 28);
    compression = i32(b, 30);
    const ok =
      ([1, 4, 8, 24, 32].includes(bpp) && compression === 0) ||
      ((bpp === 16 || bpp === 32) && (compression === 0 || compression === 3)) ||
      (bpp === 4 && compression === 2) ||
      (bpp === 8 && compression === 1);
    if (!ok) bad(`${bpp} bits per pixel with compression ${compression} is not a BMP variant OpenCV reads`);
    isColor = true;
    if (bpp <= 8) {
      const used = i32(b, 46);
      if (used < 0 || used > 256) bad(`bad palette size ${used}`);
      const count = used === 0 ? 1 << bpp : used;
      const at = 14 + headerSize;
      if (at + count * 4 > b.length) bad('the palette runs past the end of the file');
      for (let i = 0; i < count; i++) palette.set(b.subarray(at + 4 * i, at + 4 * i + 3), 3 * i);
      isColor = false;
      for (let i = 0; i < 1 << bpp; i++) if (palette[3 * i] !== palette[3 * i + 1] || palette[3 * i] !== palette[3 * i + 2]) isColor = true;
    } else if (bpp === 16) {
      if (compression === 3) {
        const masks = [i32(b, 14 + headerSize), i32(b, 18 + headerSize), i32(b, 22 + headerSize)].join();
        if (masks === '31744,992,31') bpp = 15;
        else if (masks !== '63488,2016,31') bad('16-bit bit fields other than 5-5-5 and 5-6-5 are not supported');
      } else bpp = 15;
    }
  } else if (headerSize === 12) {
    width = u16(b, 18);
    rawHeight = u16(b, 20);
    bpp = u16(b, 24);
    if (![1, 4, 8, 24, 32].includes(bpp)) bad(`${bpp} bits per pixel is not supported`);
    if (bpp <= 8) {
      const at = 26;
      if (at + (3 << bpp) > b.length) bad('the palette runs past the end of the file');
      for (let i = 0; i < 1 << bpp; i++) palette.set(b.subarray(at + 3 * i, at + 3 * i + 3), 3 * i);
    }
    isColor = false; // OpenCV 4.6 leaves OS/2 BMPs typed as gray (it matters under 'unchanged' only)
  } else {
    return bad(`unknown header size ${headerSize}`);
  }
  if (width <= 0 || rawHeight === 0) bad(`bad size ${width}x${rawHeight}`);
  const height = Math.abs(rawHeight);
  if (width * height > MAX_PIXELS) bad(`${width}x${height} is more than OpenCV's limit of 2^30 pixels`);
  const topDown = rawHeight < 0;
  const outCh = mode === 'gray' ? 1 : mode === 'color' ? 3 : !isColor ? 1 : bpp === 32 && compression !== 0 ? 4 : 3;
  const gray = outCh === 1;
  const grayPalette = bgrToGray(image(palette, 1, 256, 3)).data;
  const out = new Uint8Array(width * height * outCh);
  const rowAt = (y: number): number => (topDown ? y : height - 1 - y) * width * outCh;
  const putIndex = (y: number, x: number, idx: number): void => {
    const o = rowAt(y) + x * outCh;
    if (gray) out[o] = grayPalette[idx];
    else {
      out[o] = palette[3 * idx];
      out[o + 1] = palette[3 * idx + 1];
      out[o + 2] = palette[3 * idx + 2];
    }
  };
  const putBgr = (y: number, x: number, bl: number, g: number, r: number, a: number): void => {
    const o = rowAt(y) + x * outCh;
    if (gray) out[o] = (bl * 1868 + g * 9617 + r * 4899 + 8192) >> 14;
    else {
      out[o] = bl;
      out[o + 1] = g;
      out[o + 2] = r;
      if (outCh === 4) out[o + 3] = a;
    }
  };
  if (compression === 1 || compression === 2) {
    decodeBmpRle(b, dataOffset, width, height, bpp, putIndex, bad);
    return image(out, height, width, outCh);
  }
  const stride = (((width * (bpp === 15 ? 16 : bpp) + 7) >> 3) + 3) & ~3;
  if (dataOffset + stride * height > b.length) bad('the pixel data runs past the end of the file');
  for (let y = 0; y < height; y++) {
    const row = dataOffset + stride * y;
    for (let x = 0; x < width; x++) {
      if (bpp <= 8) {
        const bit = x * bpp;
        putIndex(y, x, (b[row + (bit >> 3)] >> (8 - bpp - (bit & 7))) & ((1 << bpp) - 1));
      } else if (bpp <= 16) {
        const v = u16(b, row + 2 * x);
        if (bpp === 15) putBgr(y, x, (v << 3) & 0xf8, (v >> 2) & 0xf8, (v >> 7) & 0xf8, 255);
        else putBgr(y, x, (v << 3) & 0xf8, (v >> 3) & 0xfc, (v >> 8) & 0xf8, 255);
      } else {
        const s = row + x * (bpp >> 3);
        putBgr(y, x, b[s], b[s + 1], b[s + 2], bpp === 32 ? b[s + 3] : 255);
      }
    }
  }
  return image(out, height, width, outCh);
}

/** RLE8 / RLE4 pixel data (y counts stored rows, bottom-up or not), OpenCV's way of filling gaps and of failing. */
function decodeBmpRle(
  b: Uint8Array,
  start: number,
  width: number,
  height: number,
  bpp: number,
  put: (y: number, x: number, idx: number) => void,
  bad: (why: string) => never,
): void {
  let pos = start;
  let x = 0;
  let y = 0;
  const byte = (): number => {
    if (pos >= b.length) bad('the RLE data ends before the image does');
    return b[pos++];
  };
  // palette entry 0 over `count` pixels from (x, y), moving to the next row at each row end (as FillUniColor)
  const fill = (count: number, idx: number): void => {
    do {
      const n = Math.min(count, width - x);
      for (let i = 0; i < n; i++) put(y, x + i, idx);
      x += n;
      count -= n;
      if (x >= width) {
        x = 0;
        if (++y >= height) break;
      }
    } while (count > 0);
  };
  let wrapped = false; // RLE8: the last run ended its row, so an end-of-line code that follows does nothing
  for (;;) {
    const len = byte();
    const code = byte();
    if (len !== 0) {
      if (x + len > width) bad('an RLE run crosses the end of its row');
      if (bpp === 8) {
        const y0 = y;
        fill(len, code);
        wrapped = y !== y0;
        if (y >= height) break;
      } else {
        for (let i = 0; i < len; i++) put(y, x + i, i % 2 === 0 ? code >> 4 : code & 15);
        x += len;
      }
    } else if (code > 2) {
      if (x + code > width) bad('an RLE run crosses the end of its row');
      const size = bpp === 8 ? (code + 1) & ~1 : (((code + 1) >> 1) + 1) & ~1;
      if (pos + size > b.length) bad('the RLE data ends before the image does');
      for (let i = 0; i < code; i++) put(y, x + i, bpp === 8 ? b[pos + i] : (b[pos + (i >> 1)] >> (i % 2 === 0 ? 4 : 0)) & 15);
      pos += size;
      x += code;
      wrapped = false;
    } else if (bpp === 8) {
      let dx = width - x;
      let dy = height - y;
      if (code !== 0 || !wrapped || dx < width) {
        if (code === 2) {
          dx = byte();
          dy = byte();
        }
        if (code !== 0) dx += dy * width;
        if (y >= height) break;
        fill(dx, 0);
        if (y >= height) break;
      }
      wrapped = false;
      if (y >= height) break;
    } else {
      let dx = width - x;
      if (code === 2) {
        dx = byte();
        byte(); // OpenCV reads the vertical offset of an RLE4 delta but does not use it
      }
      fill(dx, 0);
      if (y >= height) break;
    }
  }
}

// ------------------------------------------------------------------------------------------------ PNM

export function isSpace(c: number | undefined): boolean {
  return c === 0x20 || c === 0x09 || c === 0x0a || c === 0x0d || c === 0x0b || c === 0x0c;
}

export function decodePnm(b: Uint8Array, mode: Mode): ImageU8 {
  const kind = b[1] - 0x30; // 1..6
  let pos = 2;
  const bad = (why: string): never => {
    throw new DatasetError(`cannot decode P${kind} image: ${why}`);
  };
  const number = (): number => {
    for (;;) {
      while (pos < b.length && isSpace(b[pos])) pos++;
      if (b[pos] !== 0x23) break;
      while (pos < b.length && b[pos] !== 0x0a && b[pos] !== 0x0d) pos++;
    }
    if (pos >= b.length || b[pos] < 0x30 || b[pos] > 0x39) bad('expected a number');
    let v = 0;
    while (pos < b.length && b[pos] >= 0x30 && b[pos] <= 0x39) v = v * 10 + (b[pos++] - 0x30);
    return v;
  };
  const width = number();
  const height = number();
  const bitmap = kind === 1 || kind === 4;
  const maxval = bitmap ? 1 : number();
  if (width <= 0 || height <= 0) bad(`bad size ${width}x${height}`);
  if (width * height > MAX_PIXELS) bad(`${width}x${height} is more than OpenCV's limit of 2^30 pixels`);
  if (maxval <= 0 || maxval > 65535) bad(`bad maximum value ${maxval}`);
  const ascii = kind <= 3;
  const color = kind === 3 || kind === 6;
  const spp = color ? 3 : 1;
  const n = width * height;
  const wide = maxval > 255;
  if (wide && mode === 'unchanged') refuse16(`this P${kind} image`);
  pos++; // the single whitespace after the header
  const samples = new Uint8Array(n * spp);
  if (bitmap) {
    for (let y = 0; y < height; y++) {
      for (let x = 0; x < width; x++) {
        let bit: number;
        if (ascii) {
          while (pos < b.length && (isSpace(b[pos]) || b[pos] === 0x23)) {
            if (b[pos] === 0x23) while (pos < b.length && b[pos] !== 0x0a) pos++;
            else pos++;
          }
          if (pos >= b.length) bad('the pixel data ends early');
          bit = b[pos++] - 0x30;
        } else {
          const at = pos + y * ((width + 7) >> 3) + (x >> 3);
          if (at >= b.length) bad('the pixel data ends early');
          bit = (b[at] >> (7 - (x & 7))) & 1;
        }
        samples[y * width + x] = bit ? 0 : 255;
      }
    }
  } else if (ascii) {
    pos--;
    for (let i = 0; i < n * spp; i++) {
      const v = number();
      samples[i] = wide ? v >> 8 : v;
    }
  } else {
    const need = n * spp * (wide ? 2 : 1);
    if (pos + need > b.length) bad('the pixel data ends early');
    for (let i = 0; i < n * spp; i++) samples[i] = wide ? b[pos + 2 * i] : b[pos + i];
  }
  const outCh = mode === 'gray' ? 1 : mode === 'color' ? 3 : spp;
  if (outCh === spp && spp === 1) return image(samples, height, width, 1);
  const bgr = image(toBgr(samples, n, spp, 3), height, width, 3);
  return outCh === 1 ? bgrToGray(bgr) : bgr;
}
