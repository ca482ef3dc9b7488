// SPDX-License-Identifier: Apache-2.0
/**
 * PNG as OpenCV 4.6 decodes it (libpng): header chunks, the gray conversion with its gamma tables, EXIF orientation
 * wherever the eXIf chunk sits. Part of decodeImage (decode-image.ts).
 */
import { DatasetError } from '@solo-ts/core';
import type { ImageU8 } from '@solo-ts/ops';
import { image, toBgr, exifOrientation, applyOrientation, raw, raw16, load, refuse16, type Mode } from './decode-util.js';

// ------------------------------------------------------------------------------------------------ PNG

/**
 * IHDR bit depth and colour type, tRNS presence, the file gamma (x100000; 0: none), the sBIT maximum and the EXIF
 * orientation of an eXIf chunk, which OpenCV finds before or after the image data.
 */
function pngHeader(b: Uint8Array): { depth: number; colorType: number; trns: boolean; gamma: number; sigBit: number; orientation: number } {
  const depth = b[24];
  const colorType = b[25];
  let trns = false;
  let gama = 0;
  let srgb = false;
  let sigBit = 0;
  let orientation = 1;
  let beforeData = true; // tRNS, gAMA, sRGB and sBIT only count before the image data (as libpng reads them)
  for (let i = 8; i + 8 <= b.length; ) {
    const len = ((b[i] << 24) | (b[i + 1] << 16) | (b[i + 2] << 8) | b[i + 3]) >>> 0;
    const kind = String.fromCharCode(b[i + 4], b[i + 5], b[i + 6], b[i + 7]);
    const data = b.subarray(i + 8, i + 8 + len);
    if (kind === 'IDAT') beforeData = false;
    else if (kind === 'IEND') break;
    else if (kind === 'eXIf') orientation = exifOrientation(data);
    else if (beforeData && kind === 'tRNS') trns = true;
    else if (beforeData && kind === 'gAMA' && len === 4) gama = ((data[0] << 24) | (data[1] << 16) | (data[2] << 8) | data[3]) >>> 0;
    else if (beforeData && kind === 'sRGB') srgb = true;
    else if (beforeData && kind === 'sBIT') sigBit = Math.max(...data.subarray(0, 3));
    i += 12 + len;
  }
  return { depth, colorType, trns, gamma: srgb ? 45455 : gama, sigBit, orientation };
}

// libpng's png_set_rgb_to_gray(png, 1, 0.299, 0.587) fixed-point weights (of 32768), as OpenCV sets them
const PNG_RC = 9797;
const PNG_GC = 19234;
const PNG_BC = 32768 - PNG_RC - PNG_GC;

// libpng 1.6's fixed-point gamma arithmetic (x100000), floating-point build
const gammaSignificant = (g: number): boolean => g < 95000 || g > 105000;
const reciprocal = (a: number): number => Math.floor(1e10 / a + 0.5);

/**
 * The gamma tables libpng 1.6 uses in rgb_to_gray when the file has a gamma (gAMA, or sRGB) and OpenCV sets no
 * screen gamma: the screen gamma defaults to the file's inverse, so colours stay as they are, but rgb_to_gray goes
 * to linear light (`to1`), weighs, and comes back (`from1`); `same` maps pixels whose components are equal. Each
 * maps a sample (8-bit, or 16-bit shifted right by `shift`). Null where libpng builds none (gamma within 5% of 1).
 */
function pngGrayGamma(fileGamma: number, depth: number, sigBit: number): { shift: number; to1: Uint16Array; from1: Uint16Array; same: Uint16Array } | null {
  if (fileGamma <= 0) return null;
  const screen = reciprocal(fileGamma);
  if (!gammaSignificant(fileGamma) && !gammaSignificant(screen)) return null;
  if (depth <= 8) {
    const table = (g: number): Uint16Array => {
      const t = new Uint16Array(256);
      for (let v = 0; v < 256; v++) t[v] = gammaSignificant(g) && v > 0 && v < 255 ? Math.floor(255 * Math.pow(v / 255, g * 1e-5) + 0.5) : v;
      return t;
    };
    return { shift: 0, to1: table(reciprocal(fileGamma)), from1: table(reciprocal(screen)), same: table(100000) };
  }
  // 16-bit: OpenCV strips to 8 bits, so libpng keeps at most 11 significant bits in its tables
  let shift = sigBit > 0 && sigBit < 16 ? 16 - sigBit : 0;
  shift = Math.min(Math.max(shift, 5), 8);
  const size = 1 << (16 - shift);
  const max = size - 1;
  const table16 = (g: number): Uint16Array => {
    const t = new Uint16Array(size);
    for (let v = 0; v < size; v++) t[v] = gammaSignificant(g) ? Math.floor(65535 * Math.pow(v / max, g * 1e-5) + 0.5) : Math.floor((v * 65535 + (1 << (15 - shift))) / max);
    return t;
  };
  // png_build_16to8_table with the product of file and screen gamma
  const product = Math.floor(fileGamma * 1e-5 * screen + 0.5);
  const correct16 = (v: number): number => (v > 0 && v < 65535 ? Math.floor(65535 * Math.pow(v / 65535, product * 1e-5) + 0.5) : v);
  const same = new Uint16Array(size).fill(65535);
  let last = 0;
  for (let i = 0; i < 255; i++) {
    const out = i * 257;
    const bound = Math.floor((correct16(out + 128) * size + 32768) / 65535) + 1;
    while (last < bound && last < size) same[last++] = out;
  }
  return { shift, to1: table16(reciprocal(fileGamma)), from1: table16(reciprocal(screen)), same };
}

export async function decodePng(bytes: Uint8Array, mode: Mode, orient: boolean): Promise<ImageU8> {
  const header = pngHeader(bytes);
  const img = await decodePngPixels(bytes, mode, header);
  // OpenCV takes the orientation from an eXIf chunk wherever it is; libvips reads it only before the image data
  return orient ? applyOrientation(img, header.orientation) : img;
}

async function decodePngPixels(bytes: Uint8Array, mode: Mode, header: ReturnType<typeof pngHeader>): Promise<ImageU8> {
  const { depth, colorType, trns, gamma, sigBit } = header;
  const isGray = (colorType & 2) === 0;
  if (mode === 'color') {
    const r = await raw(load(bytes, false).removeAlpha().toColourspace('srgb'));
    if (r.channels !== 3) throw new DatasetError(`unexpected ${r.channels} channels decoding a PNG`);
    return image(toBgr(r.data, r.width * r.height, 3, 3), r.height, r.width, 3);
  }
  if (mode === 'gray') {
    if (isGray) {
      const r = await raw(load(bytes, false));
      return image(toBgr(r.data, r.width * r.height, r.channels, 1), r.height, r.width, 1);
    }
    // libpng's rgb_to_gray: without a file gamma 8-bit truncates, 16-bit rounds (then drops the low byte); with one
    // it weighs in linear light through libpng's tables; pixels with equal components keep their value
    const gt = pngGrayGamma(gamma, depth, sigBit);
    if (depth === 16) {
      const r = await raw16(load(bytes, false).toColourspace('rgb16'));
      const n = r.width * r.height;
      const out = new Uint8Array(n);
      const d = r.data;
      for (let i = 0, s = 0; i < n; i++, s += r.channels) {
        const [red, green, blue] = [d[s], d[s + 1], d[s + 2]];
        if (!gt) out[i] = ((PNG_RC * red + PNG_GC * green + PNG_BC * blue + 16384) >>> 15) >> 8;
        else if (red === green && red === blue) out[i] = gt.same[red >> gt.shift] >> 8;
        else {
          const g16 = (PNG_RC * gt.to1[red >> gt.shift] + PNG_GC * gt.to1[green >> gt.shift] + PNG_BC * gt.to1[blue >> gt.shift] + 16384) >>> 15;
          out[i] = gt.from1[g16 >> gt.shift] >> 8;
        }
      }
      return image(out, r.height, r.width, 1);
    }
    const r = await raw(load(bytes, false).toColourspace('srgb'));
    const n = r.width * r.height;
    const out = new Uint8Array(n);
    for (let i = 0, s = 0; i < n; i++, s += r.channels) {
      const red = r.data[s];
      const green = r.data[s + 1];
      const blue = r.data[s + 2];
      if (red === green && red === blue) out[i] = red;
      else if (gt) out[i] = gt.from1[(PNG_RC * gt.to1[red] + PNG_GC * gt.to1[green] + PNG_BC * gt.to1[blue] + 16384) >>> 15];
      else out[i] = (PNG_RC * red + PNG_GC * green + PNG_BC * blue) >>> 15;
    }
    return image(out, r.height, r.width, 1);
  }
  // unchanged: gray stays 1 channel (tRNS ignored), gray+alpha becomes BGRA, RGB/palette with tRNS become BGRA
  if (depth === 16) refuse16('this PNG');
  const r = await raw(load(bytes, false));
  const n = r.width * r.height;
  const out = colorType === 0 ? 1 : colorType === 4 || colorType === 6 || trns ? 4 : 3;
  return image(toBgr(r.data, n, r.channels, out), r.height, r.width, out);
}
