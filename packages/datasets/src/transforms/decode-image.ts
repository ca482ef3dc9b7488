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
import sharp, { type Sharp } from 'sharp';
import { DatasetError } from '@solo-ts/core';
import type { ImageU8 } from '@solo-ts/ops';

export type ColorType = 'color' | 'color_ignore_orientation' | 'grayscale' | 'grayscale_ignore_orientation' | 'unchanged';

/** The image formats OpenCV 4.6's `imdecode` recognises and solo-ts reads, by signature. */
export type ImageFormat = 'jpeg' | 'png' | 'tiff' | 'webp' | 'bmp' | 'pnm';

type Mode = 'color' | 'gray' | 'unchanged';

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

// ------------------------------------------------------------------------------------------------ pixel helpers

function image(data: Uint8Array, height: number, width: number, channels: number): ImageU8 {
  return { data, height, width, channels };
}

/** imgcodecs' `icvCvt_BGR2Gray_8u` (BMP, PNM, TIFF, CMYK JPEG): (B*1868 + G*9617 + R*4899 + 8192) >> 14. */
function bgrToGray(img: ImageU8): ImageU8 {
  const n = img.height * img.width;
  const out = new Uint8Array(n);
  const d = img.data;
  for (let i = 0, j = 0; i < n; i++, j += img.channels) out[i] = (d[j] * 1868 + d[j + 1] * 9617 + d[j + 2] * 4899 + 8192) >> 14;
  return image(out, img.height, img.width, 1);
}

/** `cv::cvtColor(..., COLOR_BGR2GRAY)` on uint8 (WebP): (B*3735 + G*19235 + R*9798 + 16384) >> 15. */
function bgrToGrayCvt(img: ImageU8): ImageU8 {
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
function toBgr(src: Uint8Array, n: number, channels: number, outChannels: number): Uint8Array {
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
function exifOrientation(t: Uint8Array): number {
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
function applyOrientation(img: ImageU8, orientation: number): ImageU8 {
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

interface Raw {
  data: Uint8Array;
  width: number;
  height: number;
  channels: number;
}

async function raw(s: Sharp): Promise<Raw> {
  const { data, info } = await s.raw().toBuffer({ resolveWithObject: true });
  return { data: new Uint8Array(data.buffer, data.byteOffset, data.length), width: info.width, height: info.height, channels: info.channels };
}

/** 16-bit samples from sharp (`depth: 'ushort'`), as a Uint16Array view. */
async function raw16(s: Sharp): Promise<{ data: Uint16Array; width: number; height: number; channels: number }> {
  const { data, info } = await s.raw({ depth: 'ushort' }).toBuffer({ resolveWithObject: true });
  const copy = new Uint8Array(data.length);
  copy.set(data);
  return { data: new Uint16Array(copy.buffer), width: info.width, height: info.height, channels: info.channels };
}

/**
 * A sharp pipeline on `bytes` (PNG, TIFF, WebP), ICC profile ignored, EXIF-oriented by libvips if `orient`; any
 * decoder warning fails, as libpng's, libtiff's and libwebp's errors fail in OpenCV.
 */
function load(bytes: Uint8Array, orient: boolean): Sharp {
  const s = sharp(bytes, { ignoreIcc: true, failOn: 'warning' });
  return orient ? s.autoOrient() : s;
}

/**
 * A sharp pipeline on a JPEG, ICC profile ignored, turned as EXIF `orientation` (1-8) says. It decodes through
 * libjpeg's warnings (a JPEG that ends early: libjpeg fills in the rest, and OpenCV returns such images too).
 */
function loadJpeg(bytes: Uint8Array, orientation: number): Sharp {
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

function refuse16(what: string): never {
  throw new DatasetError(
    `${what} has 16-bit samples: with color_type 'unchanged' mmcv keeps them as uint16, which solo-ts's uint8 images do not carry; use 'color' or 'grayscale'`,
  );
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

async function decodePng(bytes: Uint8Array, mode: Mode, orient: boolean): Promise<ImageU8> {
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
function decodeBmp(b: Uint8Array, mode: Mode): ImageU8 {
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

function isSpace(c: number | undefined): boolean {
  return c === 0x20 || c === 0x09 || c === 0x0a || c === 0x0d || c === 0x0b || c === 0x0c;
}

function decodePnm(b: Uint8Array, mode: Mode): ImageU8 {
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
