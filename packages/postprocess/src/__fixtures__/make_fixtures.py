# SPDX-License-Identifier: Apache-2.0
"""PyTorch bilinear references for host-resize.ts (Debian python3: torch 1.13).

Run: /usr/bin/python3 packages/postprocess/src/__fixtures__/make_fixtures.py  -> torch_bilinear.json
F.interpolate(x, size=(oh, ow), mode='bilinear', align_corners=False) of random float32 maps.
"""
import base64
import json
import os

import numpy as np
import torch
import torch.nn.functional as F

HERE = os.path.dirname(os.path.abspath(__file__))


def b64(a):
    return base64.b64encode(np.ascontiguousarray(a, dtype=np.float32).tobytes()).decode('ascii')


def main():
    torch.set_num_threads(1)
    rng = np.random.RandomState(3)
    cases = []
    for (h, w, oh, ow) in ((8, 12, 32, 48), (7, 9, 30, 41), (30, 41, 7, 9), (5, 33, 13, 8), (32, 48, 128, 192), (24, 36, 85, 128), (3, 2, 11, 1), (16, 16, 16, 16)):
        x = rng.rand(h, w).astype(np.float32)
        y = F.interpolate(torch.from_numpy(x)[None, None], size=(oh, ow), mode='bilinear', align_corners=False)[0, 0].numpy()
        cases.append({'h': h, 'w': w, 'oh': oh, 'ow': ow, 'x': b64(x), 'y': b64(y)})
    with open(os.path.join(HERE, 'torch_bilinear.json'), 'w') as f:
        json.dump({'torch': torch.__version__, 'cases': cases}, f)


if __name__ == '__main__':
    main()
