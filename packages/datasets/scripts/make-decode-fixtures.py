#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""Small image files of every format/variant and what cv2.imdecode (OpenCV 4.6.0) returns for them under each of
mmcv's imread flags, for the decode conformance test (src/transforms/decode-image.test.ts). Not used by the tests.

Needs Debian's python3-opencv (OpenCV 4.6.0), python3-pil and the ghostscript ICC profiles (installed with
imagemagick), tiffset and cjpeg:
apt-get install -y python3-opencv python3-pil imagemagick libtiff-tools libjpeg-turbo-progs
Run: /usr/bin/python3 packages/datasets/scripts/make-decode-fixtures.py

Writes src/transforms/__fixtures__/decode/:
- files/<name>: the encoded files (32x24 unless stated);
- refs.bin.gz: OpenCV's decoded arrays, concatenated (C order; uint8, or uint16 little-endian), deduplicated;
- index.json: for each file and flag, {shape, dtype, offset} into refs.bin, or null where cv2.imdecode returns None.
"""
import gzip
import io
import json
import os
import struct
import subprocess
import tempfile
import zlib

import cv2
import numpy as np
from PIL import Image

OUT = os.path.join(os.path.dirname(__file__), '..', 'src', 'transforms', '__fixtures__', 'decode')
W, H = 32, 24
PROPHOTO = '/usr/share/color/icc/ghostscript/rommrgb.icc'

# mmcv.image.io.imread_flags
FLAGS = {
    'color': cv2.IMREAD_COLOR,
    'color_ignore_orientation': cv2.IMREAD_IGNORE_ORIENTATION | cv2.IMREAD_COLOR,
    'grayscale': cv2.IMREAD_GRAYSCALE,
    'grayscale_ignore_orientation': cv2.IMREAD_IGNORE_ORIENTATION | cv2.IMREAD_GRAYSCALE,
    'unchanged': cv2.IMREAD_UNCHANGED,
}


def base_rgb(h=H, w=W, seed=3):
    """Smooth gradients, saturated blocks (chroma clamping in JPEG), mild noise; a red top-left mark."""
    rng = np.random.RandomState(seed)
    y, x = np.mgrid[0:h, 0:w].astype(np.float64)
    img = np.stack([x / (w - 1) * 255, y / (h - 1) * 255, (x + y) / (w + h - 2) * 255], -1)
    img += rng.randn(h, w, 3) * 12
    img[h // 3: h // 3 + 6, w // 2: w // 2 + 8] = (20, 60, 250)
    img[2 * h // 3:, 3:9] = (250, 240, 10)
    img[0:4, 0:4] = (255, 0, 0)
    return np.clip(np.round(img), 0, 255).astype(np.uint8)


def gray8(h=H, w=W):
    rgb = base_rgb(h, w).astype(np.int32)
    return ((rgb[..., 0] * 3 + rgb[..., 1] * 5 + rgb[..., 2] * 2) // 10).astype(np.uint8)


def alpha8(h=H, w=W):
    y, x = np.mgrid[0:h, 0:w]
    return ((x * 8 + y * 3) % 256).astype(np.uint8)


def to16(a8, seed=5):
    """16-bit samples whose low byte varies (so high-byte truncation and rounding differ)."""
    rng = np.random.RandomState(seed)
    return (a8.astype(np.uint16) * 256 + rng.randint(0, 256, a8.shape)).astype(np.uint16)


def pil_bytes(im, fmt, **kw):
    b = io.BytesIO()
    im.save(b, fmt, **kw)
    return b.getvalue()


# ---------------------------------------------------------------- JPEG

def jpeg_segments(data):
    """(marker, start, end) of the marker segments before the first SOS."""
    out, i = [], 2
    while i < len(data):
        m = data[i + 1]
        n = struct.unpack('>H', data[i + 2:i + 4])[0]
        out.append((m, i, i + 2 + n))
        if m == 0xDA:
            break
        i += 2 + n
    return out


def jpeg_insert_after_app0(data, seg):
    segs = jpeg_segments(data)
    at = segs[0][2] if segs[0][0] == 0xE0 else 2
    return data[:at] + seg + data[at:]


def jpeg_strip(data, marker):
    for m, s, e in jpeg_segments(data):
        if m == marker:
            return data[:s] + data[e:]
    raise ValueError('no marker')


def jpeg_set_adobe_transform(data, transform):
    for m, s, e in jpeg_segments(data):
        if m == 0xEE and data[s + 4:s + 9] == b'Adobe':
            return data[:s + 15] + bytes([transform]) + data[s + 16:]
    raise ValueError('no Adobe marker')


def exif_app1(orientation, little_endian=False):
    e = '<' if little_endian else '>'
    ifd = struct.pack(e + 'H', 1) + struct.pack(e + 'HHIHH', 0x0112, 3, 1, orientation, 0) + struct.pack(e + 'I', 0)
    payload = b'Exif\x00\x00' + (b'II\x2a\x00' if little_endian else b'MM\x00\x2a') + struct.pack(e + 'I', 8) + ifd
    return b'\xff\xe1' + struct.pack('>H', len(payload) + 2) + payload


def exif_tiff_bytes(orientation):
    return exif_app1(orientation)[4:]


def cmyk_from_rgb(rgb):
    """Photoshop-like CMYK content (values as stored in the file)."""
    f = rgb.astype(np.float64) / 255
    k = 1 - f.max(-1)
    d = np.maximum(1 - k, 1e-6)
    c, m, y = [(1 - f[..., i] - k) / d for i in range(3)]
    return np.clip(np.round(np.stack([c, m, y, k * 0.8], -1) * 255), 0, 255).astype(np.uint8)


def ycck_from_cmyk(cmyk):
    """libjpeg's CMYK -> YCCK: YCbCr of (255-C, 255-M, 255-Y), K unchanged."""
    r, g, b = [255 - cmyk[..., i].astype(np.float64) for i in range(3)]
    yy = 0.299 * r + 0.587 * g + 0.114 * b
    cb = -0.168735892 * r - 0.331264108 * g + 0.5 * b + 128
    cr = 0.5 * r - 0.418687589 * g - 0.081312411 * b + 128
    return np.clip(np.round(np.stack([yy, cb, cr, cmyk[..., 3]], -1)), 0, 255).astype(np.uint8)


def jpeg_files():
    rgb = base_rgb()
    im = Image.fromarray(rgb)
    f = {}
    f['jpeg-baseline-420.jpg'] = pil_bytes(im, 'JPEG', quality=90, subsampling=2)
    f['jpeg-baseline-422.jpg'] = pil_bytes(im, 'JPEG', quality=90, subsampling=1)
    f['jpeg-baseline-444.jpg'] = pil_bytes(im, 'JPEG', quality=90, subsampling=0)
    f['jpeg-progressive-420.jpg'] = pil_bytes(im, 'JPEG', quality=85, subsampling=2, progressive=True)
    f['jpeg-progressive-444.jpg'] = pil_bytes(im, 'JPEG', quality=85, subsampling=0, progressive=True)
    f['jpeg-odd-size-420.jpg'] = pil_bytes(Image.fromarray(base_rgb(23, 31)), 'JPEG', quality=90, subsampling=2)
    f['jpeg-gray.jpg'] = pil_bytes(Image.fromarray(gray8()), 'JPEG', quality=90)
    f['jpeg-icc-prophoto.jpg'] = pil_bytes(im, 'JPEG', quality=90, icc_profile=open(PROPHOTO, 'rb').read())
    # RGB components (Adobe transform 0, no JFIF), as libjpeg-turbo's cjpeg -rgb writes them (libjpeg-turbo-progs)
    ppm = b'P6\n%d %d\n255\n' % (W, H) + rgb.tobytes()
    cjpeg = lambda *args: subprocess.run(['cjpeg', '-quality', '90', *args], input=ppm, capture_output=True, check=True).stdout
    f['jpeg-rgb-components.jpg'] = cjpeg('-rgb')
    f['jpeg-arithmetic.jpg'] = cjpeg('-arithmetic')
    f['jpeg-restart-markers.jpg'] = cjpeg('-restart', '1B', '-sample', '2x1')
    f['jpeg-440-float-dct.jpg'] = cjpeg('-dct', 'float', '-sample', '1x2')
    cmyk = cmyk_from_rgb(rgb)
    adobe = pil_bytes(Image.fromarray(cmyk, 'CMYK'), 'JPEG', quality=90)
    f['jpeg-cmyk-adobe.jpg'] = adobe
    f['jpeg-cmyk-no-adobe.jpg'] = jpeg_strip(adobe, 0xEE)
    ycck = jpeg_set_adobe_transform(pil_bytes(Image.fromarray(ycck_from_cmyk(cmyk), 'CMYK'), 'JPEG', quality=90), 2)
    f['jpeg-ycck-adobe.jpg'] = ycck
    f['jpeg-ycck-no-adobe.jpg'] = jpeg_strip(ycck, 0xEE)
    f['jpeg-cmyk-adobe-exif6.jpg'] = jpeg_insert_after_app0(adobe, exif_app1(6))
    for o in range(1, 9):
        f[f'jpeg-exif{o}.jpg'] = jpeg_insert_after_app0(f['jpeg-baseline-420.jpg'], exif_app1(o))
    base = f['jpeg-baseline-420.jpg']
    f['jpeg-truncated-scan.jpg'] = base[:int(len(base) * 0.7)]  # libjpeg warns and fills in; OpenCV returns it
    f['jpeg-no-eoi.jpg'] = base[:-2]
    f['jpeg-exif6-little-endian.jpg'] = jpeg_insert_after_app0(base, exif_app1(6, True))
    xmp = b'http://ns.adobe.com/xap/1.0/\x00<x:xmpmeta xmlns:x="adobe:ns:meta/"/>'
    f['jpeg-xmp-then-exif6.jpg'] = jpeg_insert_after_app0(base, b'\xff\xe1' + struct.pack('>H', len(xmp) + 2) + xmp + exif_app1(6))
    sos = [seg for seg in jpeg_segments(base) if seg[0] == 0xDA][0][1]
    f['jpeg-warn-extraneous-bytes.jpg'] = base[:sos] + b'\x00\x01\x02' + base[sos:]  # libjpeg warns, reads on
    f['jpeg-gray-exif6.jpg'] = jpeg_insert_after_app0(f['jpeg-gray.jpg'], exif_app1(6))
    return f


# ---------------------------------------------------------------- PNG (written here: every bit depth and colour type)

def png_chunk(kind, data):
    return struct.pack('>I', len(data)) + kind + data + struct.pack('>I', zlib.crc32(kind + data) & 0xFFFFFFFF)


def png_rows(samples, depth):
    """samples: HxWxC integer array -> list of packed rows (bytes, no filter byte)."""
    h, w, c = samples.shape
    rows = []
    for r in range(h):
        s = samples[r].reshape(-1)
        if depth == 16:
            rows.append(s.astype('>u2').tobytes())
        elif depth == 8:
            rows.append(s.astype(np.uint8).tobytes())
        else:
            per = 8 // depth
            pad = (-len(s)) % per
            s = np.concatenate([s, np.zeros(pad, s.dtype)]).reshape(-1, per).astype(np.uint32)
            shifts = np.array([8 - depth * (i + 1) for i in range(per)], np.uint32)
            rows.append(((s << shifts).sum(1)).astype(np.uint8).tobytes())
    return rows


ADAM7 = [(0, 0, 8, 8), (4, 0, 8, 8), (0, 4, 4, 8), (2, 0, 4, 4), (0, 2, 2, 4), (1, 0, 2, 2), (0, 1, 1, 2)]


def png_bytes(samples, depth, color_type, plte=None, trns=None, interlace=False, extra=(), late=()):
    if samples.ndim == 2:
        samples = samples[..., None]
    h, w, _ = samples.shape
    raw = b''
    passes = ADAM7 if interlace else [(0, 0, 1, 1)]
    for x0, y0, dx, dy in passes:
        sub = samples[y0::dy, x0::dx]
        if sub.size == 0:
            continue
        for i, row in enumerate(png_rows(sub, depth)):
            raw += bytes([(i % 2) * 2]) + (row if i % 2 == 0 else png_up_filter(row, prev))  # none / up filters
            prev = row
    ihdr = struct.pack('>IIBBBBB', w, h, depth, color_type, 0, 0, 1 if interlace else 0)
    out = b'\x89PNG\r\n\x1a\n' + png_chunk(b'IHDR', ihdr)
    for kind, data in extra:
        out += png_chunk(kind, data)
    if plte is not None:
        out += png_chunk(b'PLTE', plte.astype(np.uint8).tobytes())
    if trns is not None:
        out += png_chunk(b'tRNS', trns)
    out += png_chunk(b'IDAT', zlib.compress(raw, 9))
    for kind, data in late:
        out += png_chunk(kind, data)
    return out + png_chunk(b'IEND', b'')


def png_up_filter(row, prev):
    return bytes((a - b) & 0xFF for a, b in zip(row, prev))


def png_files():
    rgb = base_rgb()
    g = gray8()
    a = alpha8()
    f = {}
    for d in (1, 2, 4):
        f[f'png-gray{d}.png'] = png_bytes(g >> (8 - d), d, 0)
    f['png-gray8.png'] = png_bytes(g, 8, 0)
    f['png-gray16.png'] = png_bytes(to16(g), 16, 0)
    f['png-gray8-trns.png'] = png_bytes(g, 8, 0, trns=struct.pack('>H', int(g[5, 5])))
    f['png-gray-alpha8.png'] = png_bytes(np.dstack([g, a]), 8, 4)
    f['png-gray-alpha16.png'] = png_bytes(np.dstack([to16(g), to16(a, 7)]), 16, 4)
    f['png-rgb8.png'] = png_bytes(rgb, 8, 2)
    f['png-rgb16.png'] = png_bytes(to16(rgb), 16, 2)
    f['png-rgb8-trns.png'] = png_bytes(rgb, 8, 2, trns=struct.pack('>HHH', *[int(v) for v in rgb[0, 0]]))
    f['png-rgba8.png'] = png_bytes(np.dstack([rgb, a]), 8, 6)
    f['png-rgba16.png'] = png_bytes(np.dstack([to16(rgb), to16(a, 7)]), 16, 6)
    f['png-rgba8-interlaced.png'] = png_bytes(np.dstack([rgb, a]), 8, 6, interlace=True)
    # palettes: quantise the colour image
    for d in (1, 2, 4, 8):
        n = 1 << d
        q = Image.fromarray(rgb).quantize(colors=min(n, 64))
        idx = np.array(q)
        pal = np.array(q.getpalette()[:3 * n], np.uint8).reshape(-1, 3)
        if len(pal) < n:
            pal = np.vstack([pal, np.zeros((n - len(pal), 3), np.uint8)])
        f[f'png-palette{d}.png'] = png_bytes(idx, d, 3, plte=pal)
        if d in (4, 8):
            trns = bytes([(i * 37) % 256 for i in range(min(n, 64) // 2)])  # partial alpha table
            f[f'png-palette{d}-trns.png'] = png_bytes(idx, d, 3, plte=pal, trns=trns)
    # file gamma: OpenCV leaves colour alone but libpng's rgb_to_gray (grayscale) then works in linear light
    gama = lambda g: (b'gAMA', struct.pack('>I', g))
    f['png-rgb8-gama.png'] = png_bytes(rgb, 8, 2, extra=[gama(20000)])
    f['png-rgb8-gama-near1.png'] = png_bytes(rgb, 8, 2, extra=[gama(97000)])
    f['png-rgb8-srgb.png'] = png_bytes(rgb, 8, 2, extra=[(b'sRGB', b'\x00'), gama(45455)])
    f['png-rgba8-srgb.png'] = png_bytes(np.dstack([rgb, a]), 8, 6, extra=[(b'sRGB', b'\x00')])
    f['png-gray8-gama.png'] = png_bytes(g, 8, 0, extra=[gama(20000)])
    f['png-rgb16-gama.png'] = png_bytes(to16(rgb), 16, 2, extra=[gama(45455)])
    f['png-rgb16-gama-sbit9.png'] = png_bytes(to16(rgb), 16, 2, extra=[(b'sBIT', b'\x09\x09\x09'), gama(30000)])
    q = Image.fromarray(rgb).quantize(colors=64)
    f['png-palette8-srgb.png'] = png_bytes(np.array(q), 8, 3, plte=np.array(q.getpalette()[:192], np.uint8).reshape(-1, 3),
                                           extra=[(b'sRGB', b'\x00'), gama(45455)])
    # files real datasets contain that make libpng / libtiff warn (OpenCV ignores warnings)
    text = png_chunk(b'tEXt', b'Comment\x00hello')
    plain = png_bytes(rgb, 8, 2)
    f['png-warn-ancillary-crc.png'] = plain[:33] + text[:-4] + b'\x00\x00\x00\x00' + plain[33:]
    f['png-warn-trailing-data.png'] = plain + b'garbage after IEND'
    rows = b''.join(b'\x00' + rgb[r].tobytes() for r in range(H)) + bytes(200)  # more rows than IHDR says
    f['png-warn-too-much-data.png'] = (b'\x89PNG\r\n\x1a\n' + png_chunk(b'IHDR', struct.pack('>IIBBBBB', W, H, 8, 2, 0, 0, 0))
                                       + png_chunk(b'IDAT', zlib.compress(rows)) + png_chunk(b'IEND', b''))
    f['png-warn-bad-iccp.png'] = png_bytes(rgb, 8, 2, extra=[(b'iCCP', b'broken\x00\x00' + zlib.compress(b'not a profile' * 20))])
    # eXIf after the image data, as ImageMagick writes it; every orientation (16x12)
    for o in range(1, 9):
        f[f'png-exif{o}-after-idat.png'] = png_bytes(base_rgb(12, 16), 8, 2, late=[(b'eXIf', exif_tiff_bytes(o)[6:])])
    f['png-exif6-little-endian.png'] = png_bytes(rgb, 8, 2, extra=[(b'eXIf', exif_app1(6, True)[10:])])
    # libpng and OpenCV warn about these and read on
    f['png-exif6.png'] = png_bytes(rgb, 8, 2, extra=[(b'eXIf', exif_tiff_bytes(6)[6:])])
    icc = open(PROPHOTO, 'rb').read()
    f['png-icc-prophoto.png'] = png_bytes(rgb, 8, 2, extra=[(b'iCCP', b'ProPhoto\x00\x00' + zlib.compress(icc))])
    return f


# ---------------------------------------------------------------- BMP (written here)

def bmp_bytes(pixels, bpp, palette=None, top_down=False, bitfields=None):
    """pixels: HxWx3/4 BGR(A) for 24/32 bpp, HxW indices for <= 8 bpp."""
    h, w = pixels.shape[:2]
    rows = []
    for r in range(h):
        if bpp >= 16:
            row = pixels[r].astype(np.uint8).tobytes()
        elif bpp == 8:
            row = pixels[r].astype(np.uint8).tobytes()
        else:
            per = 8 // bpp
            s = pixels[r].astype(np.uint32)
            s = np.concatenate([s, np.zeros((-len(s)) % per, np.uint32)]).reshape(-1, per)
            row = (s << np.array([8 - bpp * (i + 1) for i in range(per)], np.uint32)).sum(1).astype(np.uint8).tobytes()
        rows.append(row + b'\x00' * ((-len(row)) % 4))
    if not top_down:
        rows = rows[::-1]
    data = b''.join(rows)
    compression = 3 if bitfields else 0
    info = struct.pack('<IiiHHIIiiII', 40, w, -h if top_down else h, 1, bpp, compression, len(data), 2835, 2835,
                       0 if palette is None else len(palette), 0)
    if bitfields:
        info += struct.pack('<III', *bitfields)
    pal = b'' if palette is None else b''.join(bytes([b, g, r, 0]) for r, g, b in palette)
    off = 14 + len(info) + len(pal)
    return b'BM' + struct.pack('<IHHI', off + len(data), 0, 0, off) + info + pal + data


def bmp_rle(idx, bpp):
    """RLE8 / RLE4 stream (bottom-up) of palette indices; some rows end early and one delta skips pixels."""
    h, w = idx.shape
    out = bytearray()
    for r in range(h - 1, -1, -1):
        row = idx[r]
        end = w - 5 if r % 5 == 0 else w  # end of line before the last pixels
        x = 0
        if r == h // 2:
            out += bytes([0, 2, 3, 0])  # delta: skip 3 pixels
            x = 3
        while x < end:
            n = 1
            while x + n < end and n < 255 and row[x + n] == row[x]:
                n += 1
            v = int(row[x])
            out += bytes([n, v if bpp == 8 else (v << 4) | v])
            x += n
        out += bytes([0, 0])
    out += bytes([0, 1])
    return bytes(out)


def bmp_rle_bytes(idx, bpp, palette):
    h, w = idx.shape
    data = bmp_rle(idx, bpp)
    info = struct.pack('<IiiHHIIiiII', 40, w, h, 1, bpp, 1 if bpp == 8 else 2, len(data), 2835, 2835, len(palette), 0)
    pal = b''.join(bytes([b, g, r, 0]) for r, g, b in palette)
    off = 14 + len(info) + len(pal)
    return b'BM' + struct.pack('<IHHI', off + len(data), 0, 0, off) + info + pal + data


def bmp_files():
    rgb = base_rgb()
    bgr = rgb[..., ::-1]
    a = alpha8()
    f = {}
    f['bmp-bgr24.bmp'] = bmp_bytes(bgr, 24)
    f['bmp-bgr24-top-down.bmp'] = bmp_bytes(bgr, 24, top_down=True)
    f['bmp-bgr24-odd-width.bmp'] = bmp_bytes(base_rgb(23, 31)[..., ::-1], 24)
    f['bmp-bgrx32.bmp'] = bmp_bytes(np.dstack([bgr, a]), 32)
    f['bmp-bgra32-bitfields.bmp'] = bmp_bytes(np.dstack([bgr, a]), 32, bitfields=(0xFF0000, 0xFF00, 0xFF))
    for d in (1, 4, 8):
        n = 1 << d
        q = Image.fromarray(rgb).quantize(colors=min(n, 64))
        pal = np.array(q.getpalette()[:3 * min(n, 64)], np.uint8).reshape(-1, 3)
        f[f'bmp-palette{d}.bmp'] = bmp_bytes(np.array(q), d, palette=[tuple(p) for p in pal])
    q = Image.fromarray(base_rgb(23, 31)).quantize(colors=16)
    pal = np.array(q.getpalette()[:48], np.uint8).reshape(-1, 3)
    f['bmp-palette4-odd-width.bmp'] = bmp_bytes(np.array(q), 4, palette=[tuple(p) for p in pal])
    for d in (4, 8):
        q = Image.fromarray(rgb).quantize(colors=16 if d == 4 else 64)
        pal = np.array(q.getpalette()[:48 if d == 4 else 192], np.uint8).reshape(-1, 3)
        f[f'bmp-palette{d}-rle{d}.bmp'] = bmp_rle_bytes(np.array(q), d, [tuple(p) for p in pal])
    b16 = bgr.astype(np.uint16)
    v555 = ((b16[..., 2] >> 3) << 10) | ((b16[..., 1] >> 3) << 5) | (b16[..., 0] >> 3)
    v565 = ((b16[..., 2] >> 3) << 11) | ((b16[..., 1] >> 2) << 5) | (b16[..., 0] >> 3)
    f['bmp-rgb555.bmp'] = bmp_bytes(v555.astype('<u2').view(np.uint8).reshape(H, W, 2), 16)
    f['bmp-rgb565-bitfields.bmp'] = bmp_bytes(v565.astype('<u2').view(np.uint8).reshape(H, W, 2), 16, bitfields=(0xF800, 0x7E0, 0x1F))
    # BITMAPV5HEADER with an alpha mask, as GIMP writes 32-bit BMPs
    v5 = bmp_bytes(np.dstack([bgr, a]), 32, bitfields=(0xFF0000, 0xFF00, 0xFF))
    hdr = bytearray(v5[14:14 + 52]) + struct.pack('<I', 0xFF000000) + b'sRGB'.ljust(4) + bytes(124 - 60)
    hdr[0:4] = struct.pack('<I', 124)
    pix = v5[struct.unpack('<I', v5[10:14])[0]:]
    f['bmp-bgra32-v5.bmp'] = b'BM' + struct.pack('<IHHI', 14 + 124 + len(pix), 0, 0, 14 + 124) + bytes(hdr) + pix
    # OS/2 BITMAPCOREHEADER (12 bytes, 3-byte palette entries)
    q = Image.fromarray(rgb).quantize(colors=64)
    pal = np.array(q.getpalette()[:192], np.uint8).reshape(-1, 3)
    idx = np.array(q)
    rows = b''.join(idx[r].tobytes() for r in range(H - 1, -1, -1))
    core = struct.pack('<IHHHH', 12, W, H, 1, 8) + b''.join(bytes([b, g, r]) for r, g, b in pal) + bytes(3 * (256 - 64))
    f['bmp-os2-palette8.bmp'] = b'BM' + struct.pack('<IHHI', 14 + len(core) + len(rows), 0, 0, 14 + len(core)) + core + rows
    gpal = [(i, i, i) for i in range(256)]
    f['bmp-palette8-gray.bmp'] = bmp_bytes(gray8(), 8, palette=gpal)
    return f


# ---------------------------------------------------------------- TIFF, WebP, PNM, not decoded by OpenCV

def tiff_files():
    rgb = base_rgb()
    f = {}
    f['tiff-rgb8.tif'] = pil_bytes(Image.fromarray(rgb), 'TIFF')
    f['tiff-rgb8-lzw.tif'] = pil_bytes(Image.fromarray(rgb), 'TIFF', compression='tiff_lzw')
    f['tiff-rgb8-deflate.tif'] = pil_bytes(Image.fromarray(rgb), 'TIFF', compression='tiff_adobe_deflate')
    f['tiff-rgba8.tif'] = pil_bytes(Image.fromarray(np.dstack([rgb, alpha8()]), 'RGBA'), 'TIFF')
    f['tiff-gray8.tif'] = pil_bytes(Image.fromarray(gray8()), 'TIFF')
    f['tiff-gray16.tif'] = pil_bytes(Image.fromarray(to16(gray8()), 'I;16'), 'TIFF')
    ok, b = cv2.imencode('.tiff', to16(rgb)[..., ::-1].copy())  # OpenCV writes 16-bit RGB TIFF (LZW)
    f['tiff-rgb16.tif'] = b.tobytes()
    f['tiff-warn-unknown-tag.tif'] = pil_bytes(Image.fromarray(rgb), 'TIFF', tiffinfo={65000: 'private'})
    f['tiff-palette8.tif'] = pil_bytes(Image.fromarray(rgb).quantize(colors=64), 'TIFF')
    f['tiff-bilevel.tif'] = pil_bytes(Image.fromarray(gray8()).convert('1'), 'TIFF')
    f['tiff-cmyk8.tif'] = pil_bytes(Image.fromarray(cmyk_from_rgb(rgb), 'CMYK'), 'TIFF')
    f['tiff-rgb8-jpeg.tif'] = pil_bytes(Image.fromarray(rgb), 'TIFF', compression='jpeg')
    f['tiff-cmyk8-orientation6.tif'] = pil_bytes(Image.fromarray(cmyk_from_rgb(rgb), 'CMYK'), 'TIFF', tiffinfo={274: 6})
    f['tiff-rgb8-two-pages.tif'] = pil_bytes(Image.fromarray(rgb), 'TIFF', save_all=True, append_images=[Image.fromarray(255 - rgb)])
    # tiled, with tiffcp (libtiff-tools). cv2.imdecode (not imread) of OpenCV 4.6 fails on uncompressed tiles whose
    # size in bytes is not a multiple of 1024 (16x16 RGB here); 32x32 tiles it reads
    for t in (32, 16):
        with tempfile.TemporaryDirectory() as d:
            open(os.path.join(d, 'a.tif'), 'wb').write(f['tiff-rgb8.tif'])
            subprocess.run(['tiffcp', '-t', '-w', str(t), '-l', str(t), os.path.join(d, 'a.tif'), os.path.join(d, 'b.tif')], check=True)
            f[f'tiff-rgb8-tiled{t}.tif'] = open(os.path.join(d, 'b.tif'), 'rb').read()
    f['tiff-rgb8-orientation6.tif'] = pil_bytes(Image.fromarray(rgb), 'TIFF', tiffinfo={274: 6})
    f['tiff-gray16-orientation6.tif'] = pil_bytes(Image.fromarray(to16(gray8()), 'I;16'), 'TIFF', tiffinfo={274: 6})
    f['tiff-gray8-orientation6.tif'] = pil_bytes(Image.fromarray(gray8()), 'TIFF', tiffinfo={274: 6})
    with tempfile.NamedTemporaryFile(suffix='.tif') as tmp:  # tiffset (libtiff-tools) adds the tag to OpenCV's file
        tmp.write(f['tiff-rgb16.tif'])
        tmp.flush()
        subprocess.run(['tiffset', '-s', '274', '6', tmp.name], check=True)
        f['tiff-rgb16-orientation6.tif'] = open(tmp.name, 'rb').read()
    return f


def webp_files():
    rgb = base_rgb()
    rgba = Image.fromarray(np.dstack([rgb, alpha8()]), 'RGBA')
    f = {}
    f['webp-lossy.webp'] = pil_bytes(Image.fromarray(rgb), 'WEBP', quality=80)
    f['webp-lossless.webp'] = pil_bytes(Image.fromarray(rgb), 'WEBP', lossless=True)
    f['webp-lossy-alpha.webp'] = pil_bytes(rgba, 'WEBP', quality=80)
    f['webp-lossless-alpha.webp'] = pil_bytes(rgba, 'WEBP', lossless=True)
    f['webp-animated.webp'] = pil_bytes(Image.fromarray(rgb), 'WEBP', save_all=True, append_images=[Image.fromarray(255 - rgb)], duration=100, lossless=True)
    f['webp-lossy-exif6.webp'] = pil_bytes(Image.fromarray(rgb), 'WEBP', quality=80, exif=exif_tiff_bytes(6))
    return f


def pnm_files():
    rgb = base_rgb()
    g = gray8()
    f = {}
    f['pnm-gray8.pgm'] = b'P5\n%d %d\n255\n' % (W, H) + g.tobytes()
    f['pnm-rgb8.ppm'] = b'P6\n# a comment\n%d %d\n255\n' % (W, H) + rgb.tobytes()
    f['pnm-gray8-ascii.pgm'] = b'P2\n%d %d\n255\n' % (W, H) + ' '.join(map(str, g.reshape(-1))).encode() + b'\n'
    f['pnm-rgb8-ascii.ppm'] = b'P3\n%d %d\n255\n' % (W, H) + ' '.join(map(str, rgb.reshape(-1))).encode() + b'\n'
    f['pnm-gray16.pgm'] = b'P5\n%d %d\n65535\n' % (W, H) + to16(g).astype('>u2').tobytes()
    f['pnm-rgb16.ppm'] = b'P6\n%d %d\n65535\n' % (W, H) + to16(rgb).astype('>u2').tobytes()
    f['pnm-rgb-maxval100.ppm'] = b'P6\n%d %d\n100\n' % (W, H) + (rgb.astype(np.int32) * 100 // 255).astype(np.uint8).tobytes()
    f['pnm-gray-maxval1023.pgm'] = b'P5\n%d %d\n1023\n' % (W, H) + (g.astype(np.uint16) * 4 + 1).astype('>u2').tobytes()
    f['pnm-gray-maxval1023-ascii.pgm'] = b'P2\n%d %d\n1023\n' % (W, H) + ' '.join(map(str, g.reshape(-1).astype(int) * 4 + 1)).encode() + b'\n'
    bits = (g > 128).astype(np.uint8)
    f['pnm-bitmap.pbm'] = b'P4\n%d %d\n' % (W, H) + np.packbits(bits, axis=1).tobytes()
    f['pnm-bitmap-ascii.pbm'] = b'P1\n%d %d\n' % (W, H) + ' '.join(map(str, bits.reshape(-1))).encode() + b'\n'
    return f


def undecodable_files():
    f = {}
    f['none-gif.gif'] = pil_bytes(Image.fromarray(base_rgb()).quantize(colors=16), 'GIF')
    f['none-svg.svg'] = b'<svg xmlns="http://www.w3.org/2000/svg" width="32" height="24"><rect width="32" height="24" fill="red"/></svg>'
    f['none-truncated.jpg'] = jpeg_files()['jpeg-baseline-420.jpg'][:300]
    f['none-text.jpg'] = b'this is not an image'
    png = png_files()['png-rgb8.png']
    f['none-png-truncated.png'] = png[:int(len(png) * 0.7)]
    i = png.index(b'IDAT') + 10
    f['none-png-corrupt.png'] = png[:i] + bytes([png[i] ^ 0xFF]) + png[i + 1:]
    for name, data, keep in [('webp-truncated.webp', webp_files()['webp-lossy.webp'], 0.8),
                             ('tiff-truncated.tif', tiff_files()['tiff-rgb8.tif'], 0.6),
                             ('bmp-truncated.bmp', bmp_files()['bmp-bgr24.bmp'], 0.6),
                             ('pnm-truncated.ppm', pnm_files()['pnm-rgb8.ppm'], 0.6)]:
        f['none-' + name] = data[:int(len(data) * keep)]
    return f


def main():
    files = {}
    for make in (jpeg_files, png_files, bmp_files, tiff_files, webp_files, pnm_files, undecodable_files):
        files.update(make())
    os.makedirs(os.path.join(OUT, 'files'), exist_ok=True)
    blob = bytearray()
    seen = {}
    index = []
    for name in sorted(files):
        data = files[name]
        with open(os.path.join(OUT, 'files', name), 'wb') as fh:
            fh.write(data)
        entry = {'file': name}
        for flag, value in FLAGS.items():
            dec = cv2.imdecode(np.frombuffer(data, np.uint8), value)
            if dec is None:
                entry[flag] = None
                continue
            raw = np.ascontiguousarray(dec).astype(dec.dtype.newbyteorder('<')).tobytes()
            if raw not in seen:
                seen[raw] = len(blob)
                blob += raw
            entry[flag] = {'shape': list(dec.shape), 'dtype': str(dec.dtype), 'offset': seen[raw]}
        index.append(entry)
    with open(os.path.join(OUT, 'refs.bin.gz'), 'wb') as fh:
        fh.write(gzip.compress(bytes(blob), 9, mtime=0))
    with open(os.path.join(OUT, 'index.json'), 'w') as fh:
        fh.write('{"opencv": "%s", "files": [\n' % cv2.__version__)
        fh.write(',\n'.join(json.dumps(e, separators=(',', ':')) for e in index))
        fh.write('\n]}\n')
    print('wrote', len(index), 'files,', len(blob), 'reference bytes')


if __name__ == '__main__':
    main()
