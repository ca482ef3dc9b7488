// SPDX-License-Identifier: Apache-2.0
/**
 * `decodeImage`: image bytes to the array `mmcv.imfrombytes(bytes, flag, backend='cv2')` returns, i.e.
 * `cv2.imdecode` of OpenCV 4.6.0 (Debian's build, as mmdetection users run it): uint8 HWC, BGR / BGRA / gray.
 * This is the one decoder of solo-ts; every path that reads an image for the model goes through it.
 *
 * OpenCV picks the decoder by the file's signature, not its name; so does this. Formats and how:
 * - JPEG: sharp (its mozjpeg, a libjpeg-turbo fork: same IDCT and upsampling as OpenCV's libjpeg-turbo). ICC
 *   profiles are ignored (OpenCV ignores them). CMYK / YCCK: sharp's raw CMYK samples, converted to BGR (and
 *   gray) with OpenCV's integer formula in JavaScript. `grayscale` of a colour JPEG is libjpeg's gray output
 *   (OpenCV asks libjpeg for JCS_GRAYSCALE): for YCbCr files its luma (the file's markers are rewritten so that
 *   libjpeg reads the components as RGB without colour conversion, and the first one, Y, is kept); for
 *   RGB-component files libjpeg's weights. JPEGs that end early decode as far as libjpeg gets (OpenCV returns them).
 * - PNG: sharp (libpng). `grayscale` of a colour PNG is libpng's rgb_to_gray (OpenCV asks libpng for it): its
 *   weights, and, when the file has a gamma (gAMA, sRGB), its linear-light tables.
 * - TIFF: sharp (libtiff). OpenCV applies the TIFF Orientation tag under every flag (even `unchanged` and
 *   `*_ignore_orientation`), premultiplies unassociated alpha, converts CMYK with libtiff's integer formula, rounds
 *   16-bit RGB samples to 8 bits and keeps the high byte of 16-bit gray ones; this is reproduced.
 * - WebP: sharp (libwebp). OpenCV applies no EXIF orientation to WebP, grays it with `cvtColor`, and refuses
 *   animated WebP.
 * - BMP (1/4/8-bit palette, RLE4/RLE8, 16/24/32-bit, OS/2 headers) and PNM (P1-P6): read here (sharp has no BMP
 *   or PNM loader, and no maintained npm decoder covers these variants with OpenCV's rules).
 * Anything else (GIF, SVG, AVIF, ...; OpenCV 4.6 reads none of them) and files OpenCV cannot read throw.
 *
 * `colorType` (mmcv's `imread_flags`):
 * - `color`: 3 channels BGR, EXIF orientation applied (JPEG, PNG), alpha dropped, 16-bit samples to 8 bits.
 * - `color_ignore_orientation`: as `color` without the EXIF rotation.
 * - `grayscale` / `grayscale_ignore_orientation`: 1 channel, by each OpenCV decoder's own conversion.
 * - `unchanged`: the file's channels (gray, BGR or BGRA), no EXIF orientation. mmcv keeps 16-bit samples as
 *   uint16 there; solo-ts images are uint8, so 16-bit files are refused under `unchanged`.
 *
 * Node-only (sharp).
 */
import sharp from 'sharp';
import { DatasetError } from '@solo-ts/core';
import type { ImageU8 } from '@solo-ts/ops';
import { image, bgrToGray, bgrToGrayCvt, toBgr, exifOrientation, raw, raw16, load, loadJpeg, refuse16, type Mode } from './decode-util.js';
import { decodePng } from './decode-png.js';
import { decodeBmp, isSpace, decodePnm } from './decode-bmp-pnm.js';

export type ColorType = 'color' | 'color_ignore_orientation' | 'grayscale' | 'grayscale_ignore_orientation' | 'unchanged';

/** The image formats OpenCV 4.6's `imdecode` recognises and solo-ts reads, by signature. */
export type ImageFormat = 'jpeg' | 'png' | 'tiff' | 'webp' | 'bmp' | 'pnm';


/** The format of `bytes` by its signature (as OpenCV's `findDecoder`), or null. */
export function sniffImageFormat(bytes: Uint8Array): ImageFormat | null {
  const b = bytes;
  const ascii = (at: number, s: string): boolean => {
    for (let i = 0; i < s.length; i++) if (b[at + i] !== s.charCodeAt(i)) return false;
    return true;
  };
  if (b.length >= 3 && b[0] === 0xff && b[1] === 0xd8 && b[2] === 0xff) return 'jpeg';
  if (b.length >= 8 && b[0] === 0x89 && ascii(1, 'PNG\r\n\x1a\n')) return 'png';
  if (b.length >= 4 && (ascii(0, 'II*\0') || ascii(0, 'MM\0*'))) return 'tiff';
  if (b.length >= 12 && ascii(0, 'RIFF') && ascii(8, 'WEBP')) return 'webp';
  if (b.length >= 2 && ascii(0, 'BM')) return 'bmp';
  if (b.length >= 3 && b[0] === 0x50 && b[1] >= 0x31 && b[1] <= 0x36 && isSpace(b[2])) return 'pnm';
  return null;
}

/** Decode image bytes like `mmcv.imfrombytes(bytes, flag=colorType, backend='cv2')` (OpenCV 4.6.0). */
export async function decodeImage(bytes: Uint8Array, colorType: ColorType = 'color'): Promise<ImageU8> {
  const mode: Mode = colorType === 'unchanged' ? 'unchanged' : colorType.startsWith('grayscale') ? 'gray' : 'color';
  const orient = colorType === 'color' || colorType === 'grayscale';
  const format = sniffImageFormat(bytes);
  switch (format) {
    case 'jpeg':
      return decodeJpeg(bytes, mode, orient);
    case 'png':
      return decodePng(bytes, mode, orient);
    case 'tiff':
      return decodeTiff(bytes, mode);
    case 'webp':
      return decodeWebp(bytes, mode);
    case 'bmp':
      return decodeBmp(bytes, mode);
    case 'pnm':
      return decodePnm(bytes, mode);
    default:
      throw new DatasetError(
        'unsupported image format: OpenCV 4.6 (mmdetection\'s decoder) reads JPEG, PNG, TIFF, WebP, BMP and PNM, and the file starts with none of their signatures',
      );
  }
}

// ------------------------------------------------------------------------------------------------ JPEG

/**
 * The frame's number of components (0 if no frame header comes before the first scan) and whether libjpeg takes
 * 3 components as RGB rather than YCbCr: no JFIF marker and an Adobe marker with transform 0, or neither marker
 * and component ids 'R', 'G', 'B' (libjpeg-turbo's default_decompress_parms); and the EXIF orientation OpenCV
 * finds: the first APP1 segment read as EXIF (an XMP segment first means none, where libvips would find the EXIF).
 */
function jpegFrame(b: Uint8Array): { components: number; rgb: boolean; orientation: number } {
  let jfif = false;
  let adobeTransform = -1;
  let orientation = 0; // 0: no APP1 seen yet
  let i = 2;
  while (i + 4 <= b.length) {
    if (b[i] !== 0xff) break;
    const m = b[i + 1];
    if (m === 0xff) {
      i++;
      continue;
    }
    const len = (b[i + 2] << 8) | b[i + 3];
    const id = String.fromCharCode(...b.subarray(i + 4, i + 9));
    if (m === 0xe0 && len >= 16 && id === 'JFIF\0') jfif = true;
    if (m === 0xee && len >= 14 && id === 'Adobe') adobeTransform = b[i + 15];
    // OpenCV parses the first APP1 segment as EXIF (past its 6-byte header), whatever it holds
    if (m === 0xe1 && orientation === 0) orientation = exifOrientation(b.subarray(i + 10, i + 2 + len));
    if (m >= 0xc0 && m <= 0xcf && m !== 0xc4 && m !== 0xc8 && m !== 0xcc) {
      const components = b[i + 9] ?? 0;
      const ids = components === 3 ? [b[i + 10], b[i + 13], b[i + 16]].join() : '';
      const rgb = !jfif && (adobeTransform >= 0 ? adobeTransform === 0 : ids === '82,71,66');
      return { components, rgb, orientation: orientation || 1 };
    }
    if (m === 0xda) break;
    i += 2 + len;
  }
  return { components: 0, rgb: false, orientation: orientation || 1 };
}

/**
 * A copy of a 3-component JPEG that libjpeg decodes without colour conversion: its JFIF and Adobe markers are
 * renamed (so libjpeg ignores them) and an Adobe marker with transform 0 (components are RGB) is put first.
 * Decoded as "RGB", band 0 is then exactly libjpeg's luma output (JCS_GRAYSCALE), which OpenCV's grayscale read is.
 */
function jpegWithoutColorTransform(b: Uint8Array): Uint8Array {
  const adobe = [0xff, 0xee, 0, 14, 0x41, 0x64, 0x6f, 0x62, 0x65, 0, 100, 0, 0, 0, 0, 0];
  const out = new Uint8Array(b.length + adobe.length);
  out.set(b.subarray(0, 2));
  out.set(adobe, 2);
  out.set(b.subarray(2), 2 + adobe.length);
  let i = 2 + adobe.length;
  while (i + 4 <= out.length && out[i] === 0xff) {
    const m = out[i + 1];
    if (m === 0xda) break;
    const len = (out[i + 2] << 8) | out[i + 3];
    const id = String.fromCharCode(...out.subarray(i + 4, i + 9));
    if ((m === 0xe0 && id === 'JFIF\0') || (m === 0xee && id === 'Adobe')) out[i + 4] = 0x58; // 'X'
    i += 2 + len;
  }
  return out;
}

async function decodeJpeg(bytes: Uint8Array, mode: Mode, orient: boolean): Promise<ImageU8> {
  const { components: comps, rgb, orientation: exif } = jpegFrame(bytes);
  const orientation = orient ? exif : 1;
  if (comps === 4) {
    // OpenCV asks libjpeg for CMYK (libjpeg converts YCCK) and converts it with integer arithmetic:
    // X = K - ((255 - X) * K >> 8) on libjpeg's samples. sharp's (libvips') CMYK samples are libjpeg's inverted.
    const r = await raw(loadJpeg(bytes, orientation).pipelineColourspace('cmyk').toColourspace('cmyk'));
    if (r.channels !== 4) throw new DatasetError(`unexpected ${r.channels} channels decoding a CMYK JPEG`);
    const n = r.width * r.height;
    const bgr = new Uint8Array(n * 3);
    const d = r.data;
    for (let i = 0, s = 0, o = 0; i < n; i++, s += 4, o += 3) {
      const k = 255 - d[s + 3];
      bgr[o] = k - ((d[s + 2] * k) >> 8);
      bgr[o + 1] = k - ((d[s + 1] * k) >> 8);
      bgr[o + 2] = k - ((d[s] * k) >> 8);
    }
    const img = image(bgr, r.height, r.width, 3);
    return mode === 'gray' ? bgrToGray(img) : img;
  }
  if (mode === 'gray' && comps === 3 && !rgb) {
    const r = await raw(loadJpeg(jpegWithoutColorTransform(bytes), orientation).toColourspace('srgb'));
    return image(toBgr(r.data, r.width * r.height, r.channels, 1), r.height, r.width, 1);
  }
  if (mode === 'gray' && comps === 3) {
    // RGB components: libjpeg's rgb_gray_convert, (R*19595 + G*38470 + B*7471 + 32768) >> 16
    const r = await raw(loadJpeg(bytes, orientation).toColourspace('srgb'));
    const n = r.width * r.height;
    const out = new Uint8Array(n);
    for (let i = 0, s = 0; i < n; i++, s += r.channels) out[i] = (r.data[s] * 19595 + r.data[s + 1] * 38470 + r.data[s + 2] * 7471 + 32768) >>> 16;
    return image(out, r.height, r.width, 1);
  }
  if (comps === 1) {
    const r = await raw(loadJpeg(bytes, orientation).toColourspace('b-w'));
    const n = r.width * r.height;
    return mode === 'color' ? image(toBgr(r.data, n, 1, 3), r.height, r.width, 3) : image(r.data, r.height, r.width, 1);
  }
  const r = await raw(loadJpeg(bytes, orientation).toColourspace('srgb'));
  const n = r.width * r.height;
  if (r.channels !== 3) throw new DatasetError(`unexpected ${r.channels} channels decoding a JPEG`);
  return image(toBgr(r.data, n, 3, 3), r.height, r.width, 3);
}

// ------------------------------------------------------------------------------------------------ TIFF

async function decodeTiff(bytes: Uint8Array, mode: Mode): Promise<ImageU8> {
  const meta = await sharp(bytes).metadata();
  const is16 = meta.depth === 'ushort';
  const channels = meta.channels ?? 0;
  const isGray = channels <= 2;
  let img: ImageU8;
  if (meta.space === 'cmyk') {
    // libtiff's RGBA interface: X = (255 - K) * (255 - C) / 255 (integer); alpha 255 under 'unchanged'
    if (is16) throw new DatasetError('16-bit CMYK TIFF is not supported');
    const r = await raw(load(bytes, true).pipelineColourspace('cmyk').toColourspace('cmyk'));
    const n = r.width * r.height;
    const outCh = mode === 'unchanged' ? 4 : 3;
    const bgr = new Uint8Array(n * outCh);
    for (let i = 0, s = 0, o = 0; i < n; i++, s += r.channels, o += outCh) {
      const k = 255 - r.data[s + 3];
      bgr[o] = Math.floor((k * (255 - r.data[s + 2])) / 255);
      bgr[o + 1] = Math.floor((k * (255 - r.data[s + 1])) / 255);
      bgr[o + 2] = Math.floor((k * (255 - r.data[s])) / 255);
      if (outCh === 4) bgr[o + 3] = 255;
    }
    img = image(bgr, r.height, r.width, outCh);
    return mode === 'gray' ? bgrToGray(img) : img;
  }
  if (isGray) {
    // 16-bit gray keeps the high byte
    if (is16) {
      if (mode === 'unchanged') refuse16('this TIFF');
      const r = await raw16(load(bytes, true).toColourspace('grey16'));
      const n = r.width * r.height;
      const g = new Uint8Array(n);
      for (let i = 0; i < n; i++) g[i] = r.data[i * r.channels] >> 8;
      img = image(g, r.height, r.width, 1);
    } else {
      const r = await raw(load(bytes, true).toColourspace('b-w'));
      img = image(toBgr(r.data, r.width * r.height, r.channels, 1), r.height, r.width, 1);
    }
    return mode === 'color' ? image(toBgr(img.data, img.height * img.width, 1, 3), img.height, img.width, 3) : img;
  }
  // RGB(A): as libtiff's RGBA interface (alpha premultiplied, 16 bits rounded to 8)
  if (is16 && mode === 'unchanged') refuse16('this TIFF');
  const oriented = load(bytes, true);
  let rgba: Uint8Array;
  let width: number;
  let height: number;
  let ch: number;
  if (is16) {
    const r = await raw16(oriented.toColourspace('rgb16'));
    rgba = new Uint8Array(r.data.length);
    for (let i = 0; i < r.data.length; i++) rgba[i] = Math.floor((r.data[i] * 255 + 32767) / 65535);
    ({ width, height } = r);
    ch = r.channels;
  } else {
    const r = await raw(oriented.toColourspace('srgb'));
    ({ width, height } = r);
    rgba = r.data;
    ch = r.channels;
  }
  const n = width * height;
  if (ch === 4) {
    for (let i = 0; i < n * 4; i += 4) {
      const a = rgba[i + 3];
      for (let c = 0; c < 3; c++) rgba[i + c] = Math.floor((rgba[i + c] * a + 127) / 255);
    }
  }
  const outCh = mode === 'unchanged' && ch === 4 ? 4 : 3;
  img = image(toBgr(rgba, n, ch, outCh), height, width, outCh);
  return mode === 'gray' ? bgrToGray(img) : img;
}

// ------------------------------------------------------------------------------------------------ WebP

async function decodeWebp(bytes: Uint8Array, mode: Mode): Promise<ImageU8> {
  // VP8X header with the animation flag: OpenCV 4.6 decodes no animated WebP
  if (String.fromCharCode(...bytes.subarray(12, 16)) === 'VP8X' && (bytes[20] & 0x02) !== 0) {
    throw new DatasetError('animated WebP: OpenCV 4.6 (mmdetection\'s decoder) does not decode animations');
  }
  const r = await raw(load(bytes, false));
  const n = r.width * r.height;
  if (mode === 'unchanged') return image(toBgr(r.data, n, r.channels, r.channels === 4 ? 4 : 3), r.height, r.width, r.channels === 4 ? 4 : 3);
  const img = image(toBgr(r.data, n, r.channels, 3), r.height, r.width, 3);
  return mode === 'gray' ? bgrToGrayCvt(img) : img;
}
