#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""Small image files and what cv2.imdecode (OpenCV 4.6.0) returns for them, for the LoadImageFromFile tests.

Writes src/transforms/__fixtures__/decode/<name>.<ext> and <name>.<flag>.bgr (raw HWC bytes) + index.json.
Run: /usr/bin/python3 packages/datasets/scripts/make-decode-fixtures.py
"""
import json
import os
import struct

import cv2
import numpy as np
from PIL import Image

OUT = os.path.join(os.path.dirname(__file__), '..', 'src', 'transforms', '__fixtures__', 'decode')


def base_image(h=37, w=53):
    rng = np.random.RandomState(3)
    img = (rng.rand(h, w, 3) * 255).astype(np.uint8)
    img = cv2.GaussianBlur(img, (5, 5), 1.5)
    img[5:15, 10:30] = (20, 220, 60)
    img[0:4, 0:4] = (0, 0, 255)  # red corner marks orientation
    return img


def exif_app1(orientation):
    ifd = struct.pack('>H', 1) + struct.pack('>HHIHH', 0x0112, 3, 1, orientation, 0) + struct.pack('>I', 0)
    tiff = b'MM\x00\x2a' + struct.pack('>I', 8) + ifd
    payload = b'Exif\x00\x00' + tiff
    return b'\xff\xe1' + struct.pack('>H', len(payload) + 2) + payload


def main():
    os.makedirs(OUT, exist_ok=True)
    img = base_image()
    files = {}
    ok, b = cv2.imencode('.jpg', img, [cv2.IMWRITE_JPEG_QUALITY, 90])
    files['baseline.jpg'] = b.tobytes()
    ok, b = cv2.imencode('.jpg', img, [cv2.IMWRITE_JPEG_QUALITY, 80, cv2.IMWRITE_JPEG_PROGRESSIVE, 1])
    files['progressive.jpg'] = b.tobytes()
    ok, b = cv2.imencode('.jpg', cv2.cvtColor(img, cv2.COLOR_BGR2GRAY))
    files['gray.jpg'] = b.tobytes()
    jpg = files['baseline.jpg']
    files['exif6.jpg'] = jpg[:2] + exif_app1(6) + jpg[2:]
    ok, b = cv2.imencode('.png', img)
    files['rgb.png'] = b.tobytes()
    rgba = np.dstack([img, (np.arange(img.shape[1])[None, :] * 4 % 256).repeat(img.shape[0], 0).astype(np.uint8)])
    ok, b = cv2.imencode('.png', rgba)
    files['rgba.png'] = b.tobytes()
    ok, b = cv2.imencode('.png', cv2.cvtColor(img, cv2.COLOR_BGR2GRAY))
    files['gray.png'] = b.tobytes()
    ok, b = cv2.imencode('.png', img.astype(np.uint16) * 257 + 3)
    files['rgb16.png'] = b.tobytes()
    pal = Image.fromarray(img[:, :, ::-1]).quantize(colors=16)
    path = os.path.join(OUT, 'palette.png')
    pal.save(path)
    with open(path, 'rb') as f:
        files['palette.png'] = f.read()
    index = []
    for name, data in files.items():
        with open(os.path.join(OUT, name), 'wb') as f:
            f.write(data)
        arr = np.frombuffer(data, np.uint8)
        entry = dict(file=name)
        for flag_name, flag in [('color', cv2.IMREAD_COLOR), ('color_ignore_orientation', cv2.IMREAD_COLOR | cv2.IMREAD_IGNORE_ORIENTATION)]:
            dec = cv2.imdecode(arr, flag)
            ref = f'{name}.{flag_name}.bgr'
            with open(os.path.join(OUT, ref), 'wb') as f:
                f.write(np.ascontiguousarray(dec).tobytes())
            entry[flag_name] = dict(ref=ref, shape=list(dec.shape))
        index.append(entry)
    with open(os.path.join(OUT, 'index.json'), 'w') as f:
        json.dump(dict(opencv=cv2.__version__, files=index), f, indent=1)
    print('wrote', len(index), 'files')


if __name__ == '__main__':
    main()
