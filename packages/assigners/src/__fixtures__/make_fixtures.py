# SPDX-License-Identifier: Apache-2.0
"""Reference fixtures for @solo-ts/assigners, made with Debian's python3 (torch 1.13, cv2 4.6.0, numpy).

Run: /usr/bin/python3 packages/assigners/src/__fixtures__/make_fixtures.py
Writes (next to this script):
  cv2_rescale.json  random 0/1 uint8 masks and cv2.resize(INTER_LINEAR) at int(W*s+0.5) x int(H*s+0.5), the way
                    mmcv.imrescale(mask, 1/os) calls it (bits packed with np.packbits, base64)
  grid_cells.json   torch float32 trunc-division grid cells (mmdet SOLOHead formula) for values near cell borders
  rand_mask.json    mmdet tests' _rand_masks(1, [[23.6667, 23.8757, 238.6326, 151.8874]], 256, 256) (RandomState(0))
  center_of_mass.json  mmdet center_of_mass of a few masks (int64 sums / float32 count, float32 result)
"""
import base64
import json
import os

import cv2
import numpy as np
import torch

HERE = os.path.dirname(os.path.abspath(__file__))


def pack(a):
    a = np.ascontiguousarray(a.astype(np.uint8).reshape(-1))
    return base64.b64encode(np.packbits(a).tobytes()).decode('ascii')


def cv2_cases():
    rng = np.random.RandomState(2024)
    cases = []
    shapes = [(128, 192, 4), (128, 192, 8), (128, 192, 16), (64, 96, 2), (37, 53, 4), (101, 77, 8), (45, 32, 8),
              (58, 61, 16), (75, 20, 4), (89, 85, 3), (53, 46, 2), (120, 90, 4), (33, 130, 16), (16, 16, 4)]
    for i, (h, w, s) in enumerate(shapes):
        if i % 3 == 0:
            m = (rng.rand(h, w) > rng.rand()).astype(np.uint8)
        else:
            # blobs: a filled ellipse plus noise, closer to real instance masks
            m = np.zeros((h, w), np.uint8)
            cy, cx = rng.randint(0, h), rng.randint(0, w)
            ry, rx = rng.randint(2, max(3, h // 2)), rng.randint(2, max(3, w // 2))
            yy, xx = np.mgrid[:h, :w]
            m[((yy - cy) / ry) ** 2 + ((xx - cx) / rx) ** 2 <= 1] = 1
            m ^= (rng.rand(h, w) > 0.93).astype(np.uint8)
        scale = 1.0 / s
        dw, dh = int(w * scale + 0.5), int(h * scale + 0.5)
        out = cv2.resize(m, (dw, dh), interpolation=cv2.INTER_LINEAR)
        cases.append({'h': h, 'w': w, 'os': s, 'out_h': dh, 'out_w': dw, 'src': pack(m), 'out': pack(out)})
    return cases


def grid_cases():
    rng = np.random.RandomState(7)
    out = []
    for size in (128, 192, 256, 800, 1344):
        for g in (40, 36, 24, 16, 12, 7):
            # values c (pixels) whose c/size lies within a few ulps of k/G
            for _ in range(12):
                k = rng.randint(0, g + 1)
                c = np.float32(k * size / g)
                for d in (-2, -1, 0, 1, 2):
                    v = c
                    for _ in range(abs(d)):
                        v = np.nextafter(v, np.float32(np.sign(d) * 1e9), dtype=np.float32)
                    out.append((float(v), size, g))
            for _ in range(6):
                out.append((float(np.float32(rng.rand() * size)), size, g))
    cs = torch.tensor([o[0] for o in out], dtype=torch.float32)
    res = []
    for i, (c, size, g) in enumerate(out):
        cell = int(torch.div(cs[i:i + 1] / size, 1. / g, rounding_mode='trunc').item())
        res.append({'c': c, 'size': size, 'g': g, 'cell': cell})
    return res


def rand_mask():
    # mmdet tests/test_models/test_dense_heads/test_solo_head.py::_rand_masks
    rng = np.random.RandomState(0)
    bboxes = np.array([[23.6667, 23.8757, 238.6326, 151.8874]])
    masks = np.zeros((1, 256, 256))
    for i, bbox in enumerate(bboxes):
        bbox = bbox.astype(np.int32)
        mask = (rng.rand(1, bbox[3] - bbox[1], bbox[2] - bbox[0]) > 0.3).astype(np.int64)
        masks[i:i + 1, bbox[1]:bbox[3], bbox[0]:bbox[2]] = mask
    m = masks[0].astype(np.uint8)
    return {'h': 256, 'w': 256, 'bbox': bboxes[0].tolist(), 'mask': pack(m), 'sum': int(m.sum())}


def center_of_mass_cases():
    # mmdet.models.utils.misc.center_of_mass on bool masks (SOLOHead passes bool)
    def com(mask):
        h, w = mask.shape
        grid_h = torch.arange(h)[:, None]
        grid_w = torch.arange(w)
        normalizer = mask.sum().float().clamp(min=1e-6)
        return float((mask * grid_h).sum() / normalizer), float((mask * grid_w).sum() / normalizer)
    rng = np.random.RandomState(11)
    cases = []
    for (h, w, p) in ((28, 28, 0.5), (128, 192, 0.3), (5, 7, 0.2)):
        m = rng.rand(h, w) > p
        ch, cw = com(torch.from_numpy(m))
        cases.append({'h': h, 'w': w, 'mask': pack(m), 'center_h': ch, 'center_w': cw})
    # large masks (sums above 2**24) given by a rule the test re-evaluates: ((x*7 + y*13) % 10) < k
    for (h, w, k) in ((800, 1344, 6), (1333, 800, 9), (1024, 1024, 3)):
        yy, xx = np.mgrid[:h, :w]
        m = ((xx * 7 + yy * 13) % 10) < k
        ch, cw = com(torch.from_numpy(m))
        cases.append({'h': h, 'w': w, 'rule_k': k, 'center_h': ch, 'center_w': cw})
    return cases


def main():
    with open(os.path.join(HERE, 'cv2_rescale.json'), 'w') as f:
        json.dump({'opencv': cv2.__version__, 'cases': cv2_cases()}, f)
    with open(os.path.join(HERE, 'grid_cells.json'), 'w') as f:
        json.dump({'torch': torch.__version__, 'cases': grid_cases()}, f)
    with open(os.path.join(HERE, 'rand_mask.json'), 'w') as f:
        json.dump(rand_mask(), f)
    with open(os.path.join(HERE, 'center_of_mass.json'), 'w') as f:
        json.dump({'torch': torch.__version__, 'cases': center_of_mass_cases()}, f)


if __name__ == '__main__':
    main()
