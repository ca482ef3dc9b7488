#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""torch.randperm(n, generator=torch.Generator().manual_seed(seed)) on CPU (torch 1.13): what mmengine's
DefaultSampler uses for its epoch-seeded shuffle (seed + epoch). Output: src/loader/__fixtures__/randperm.json
Run: /usr/bin/python3 packages/datasets/scripts/make-randperm-fixtures.py
"""
import json
import os

import torch

cases = []
for seed in [0, 1, 42, 2023, 4294967295, 4294967296 + 7]:
    for n in [1, 2, 3, 10, 97, 1000]:
        g = torch.Generator()
        g.manual_seed(seed)
        cases.append(dict(seed=seed, n=n, perm=torch.randperm(n, generator=g).tolist()))
# consecutive draws from one generator (the second permutation continues the stream)
g = torch.Generator()
g.manual_seed(7)
first = torch.randperm(50, generator=g).tolist()
second = torch.randperm(50, generator=g).tolist()
out = dict(torch=torch.__version__, cases=cases, stream=dict(seed=7, n=50, first=first, second=second))
path = os.path.join(os.path.dirname(__file__), '..', 'src', 'loader', '__fixtures__', 'randperm.json')
with open(path, 'w') as f:
    json.dump(out, f)
print('wrote', path)
