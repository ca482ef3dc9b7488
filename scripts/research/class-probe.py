#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""How fast can a SOLO-style category branch learn the synthetic shapes' classes from scratch?

A diagnostic for docs/benchmarks.md (not used by the library or its tests; needs PyTorch, e.g. Debian's
python3-torch, and Pillow). It trains only the category path of a SOLOv2-like model in PyTorch: a ResNet-18-shaped
backbone at 1/4 width with GroupNorm, an FPN, P3 resized to an S x S grid, two 3x3 conv + GN + ReLU tower layers
(normal std 0.01 init, as mmdetection's SOLOv2 head) and a 3x3 conv to 5 classes (bias prior 0.01). Targets: the
grid cell of each object's box centre. It reports the class accuracy at those cells on the val split, which is
what limits the mask AP of the demo config (docs/benchmarks.md, "Session 3: why the category branch learns slowly").

    solo make-shapes --out data/shapes ...   (or run `npm run demo` once)
    /usr/bin/python3 scripts/research/class-probe.py --loss focal --batch 16 --lr 1e-3 --steps 900

--crops trains a plain classifier on 32x32 crops around each object instead (scale-normalised input, global
pooling), for comparison.
"""
import argparse, json, math, time
import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from PIL import Image

p = argparse.ArgumentParser()
p.add_argument('--data', default='data/shapes/')
p.add_argument('--loss', choices=['focal', 'ce'], default='focal', help='sigmoid focal over all cells, or softmax CE on the object cells only')
p.add_argument('--grid', type=int, default=10)
p.add_argument('--batch', type=int, default=16)
p.add_argument('--lr', type=float, default=1e-3)
p.add_argument('--steps', type=int, default=900)
p.add_argument('--level', type=int, default=1, help='FPN level read by the category branch (0 = stride 4 ... 3 = stride 32)')
p.add_argument('--crops', action='store_true')
p.add_argument('--mmdet-init', choices=['', 'both', 'kaiming', 'zero'], default='', help='backbone init as mmdetection\'s ResNet: convs Kaiming normal (fan_out, relu), the last norm of each block zeroed (zero_init_residual), or both')
p.add_argument('--seed', type=int, default=0)
a = p.parse_args()
torch.set_num_threads(1)
torch.manual_seed(a.seed)
MEAN, STD = np.array([123.675, 116.28, 103.53]), np.array([58.395, 57.12, 57.375])
CANVAS = 160


def load(split):
    ann = json.load(open(f'{a.data}/annotations/instances_{split}.json'))
    per_image = {}
    for g in ann['annotations']:
        per_image.setdefault(g['image_id'], []).append(g)
    images, objects = [], []
    for im in ann['images']:
        pil = Image.open(f'{a.data}/{split}/{im["file_name"]}').convert('RGB')
        w0, h0 = pil.size
        s = min(160 / max(w0, h0), 120 / min(w0, h0))  # mmdetection Resize(scale=(160, 120), keep_ratio=True)
        pil = pil.resize((int(w0 * s + 0.5), int(h0 * s + 0.5)), Image.BILINEAR)
        arr = np.zeros((CANVAS, CANVAS, 3), np.float32)
        img = (np.asarray(pil, np.float32) - MEAN) / STD
        arr[:img.shape[0], :img.shape[1]] = img
        images.append(arr)
        objects.append([(x * s, y * s, w * s, h * s, g['category_id'] - 1) for g in per_image.get(im['id'], []) for x, y, w, h in [g['bbox']]])
    return torch.tensor(np.stack(images)).permute(0, 3, 1, 2), objects


def gn(c):
    return nn.GroupNorm(8 if c >= 16 else 4, c)


class Block(nn.Module):
    def __init__(self, cin, cout, stride):
        super().__init__()
        self.c1, self.n1 = nn.Conv2d(cin, cout, 3, stride, 1, bias=False), gn(cout)
        self.c2, self.n2 = nn.Conv2d(cout, cout, 3, 1, 1, bias=False), gn(cout)
        self.down = None if cin == cout and stride == 1 else nn.Sequential(nn.Conv2d(cin, cout, 1, stride, bias=False), gn(cout))

    def forward(self, x):
        y = self.n2(self.c2(F.relu(self.n1(self.c1(x)))))
        return F.relu(y + (x if self.down is None else self.down(x)))


class Backbone(nn.Module):
    def __init__(self):
        super().__init__()
        self.stem = nn.Sequential(nn.Conv2d(3, 16, 7, 2, 3, bias=False), gn(16), nn.ReLU(), nn.MaxPool2d(3, 2, 1))
        chans, cin, self.stages = [16, 32, 64, 128], 16, nn.ModuleList()
        for k, c in enumerate(chans):
            self.stages.append(nn.Sequential(Block(cin, c, 1 if k == 0 else 2), Block(c, c, 1)))
            cin = c
        self.lateral = nn.ModuleList([nn.Conv2d(c, 64, 1) for c in chans])
        self.fpn = nn.ModuleList([nn.Conv2d(64, 64, 3, 1, 1) for _ in chans])

    def forward(self, x):
        x, feats = self.stem(x), []
        for st in self.stages:
            x = st(x)
            feats.append(x)
        lat = [l(f) for l, f in zip(self.lateral, feats)]
        for k in range(3, 0, -1):
            lat[k - 1] = lat[k - 1] + F.interpolate(lat[k], size=lat[k - 1].shape[-2:], mode='nearest')
        return [f(l) for f, l in zip(self.fpn, lat)]


class CategoryProbe(nn.Module):
    def __init__(self):
        super().__init__()
        self.backbone = Backbone()
        resnet_convs = [m for m in list(self.backbone.stem.modules()) + list(self.backbone.stages.modules()) if isinstance(m, nn.Conv2d)]
        if a.mmdet_init in ('both', 'kaiming'):
            for m in resnet_convs:
                nn.init.kaiming_normal_(m.weight, mode='fan_out', nonlinearity='relu')
        if a.mmdet_init in ('both', 'zero'):
            for m in self.backbone.modules():
                if isinstance(m, Block):
                    nn.init.zeros_(m.n2.weight)
        self.tower = nn.Sequential(*[m for _ in range(2) for m in (nn.Conv2d(64, 64, 3, 1, 1, bias=False), nn.GroupNorm(16, 64), nn.ReLU())])
        self.cls = nn.Conv2d(64, 5, 3, 1, 1)
        for m in self.tower.modules():
            if isinstance(m, nn.Conv2d):
                nn.init.normal_(m.weight, std=0.01)
        nn.init.normal_(self.cls.weight, std=0.01)
        nn.init.constant_(self.cls.bias, -math.log(99))

    def forward(self, x):
        f = F.interpolate(self.backbone(x)[a.level], size=(a.grid, a.grid), mode='bilinear', align_corners=False)
        return self.cls(self.tower(f)).permute(0, 2, 3, 1)


def cell_labels(objs_batch):
    lab = torch.full((len(objs_batch), a.grid, a.grid), -1, dtype=torch.long)
    for b, objs in enumerate(objs_batch):
        for x, y, w, h, c in objs:
            lab[b, min(a.grid - 1, int((y + h / 2) / CANVAS * a.grid)), min(a.grid - 1, int((x + w / 2) / CANVAS * a.grid))] = c
    return lab


def crops(images, objects, size=32, margin=0.25):
    xs, ys = [], []
    for img, objs in zip(images, objects):
        for x, y, w, h, c in objs:
            s = max(w, h) * (1 + 2 * margin)
            cx, cy = x + w / 2, y + h / 2
            theta = torch.tensor([[s / CANVAS, 0, (2 * cx / CANVAS) - 1], [0, s / CANVAS, (2 * cy / CANVAS) - 1]], dtype=torch.float32)
            grid = F.affine_grid(theta[None], [1, 3, size, size], align_corners=False)
            xs.append(F.grid_sample(img[None], grid, align_corners=False)[0])
            ys.append(c)
    return torch.stack(xs), torch.tensor(ys)


xtr, otr = load('train')
xva, ova = load('val')
gen = torch.Generator().manual_seed(a.seed)
t0 = time.time()
if a.crops:
    ctr, ytr = crops(xtr, otr)
    cva, yva = crops(xva, ova)
    block = lambda i, o, s: nn.Sequential(nn.Conv2d(i, o, 3, s, 1), nn.GroupNorm(4, o), nn.ReLU())
    net = nn.Sequential(block(3, 16, 1), block(16, 32, 2), block(32, 32, 1), block(32, 64, 2), block(64, 64, 1), block(64, 128, 2),
                        nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(128, 5))
else:
    net = CategoryProbe()
    lva = cell_labels(ova)
opt = torch.optim.AdamW(net.parameters(), a.lr, weight_decay=0.05)
print(f'{len(otr)} train images; loss {a.loss}; batch {a.batch}; lr {a.lr}; {"crops" if a.crops else f"grid {a.grid} on FPN level {a.level}"}', flush=True)
for step in range(1, a.steps + 1):
    for g in opt.param_groups:
        g['lr'] = a.lr * min(1.0, 0.01 + step / 50)  # linear warm-up as the demo config
    if a.crops:
        idx = torch.randint(0, len(ytr), (a.batch,), generator=gen)
        loss = F.cross_entropy(net(ctr[idx]), ytr[idx])
    else:
        idx = torch.randint(0, len(otr), (a.batch,), generator=gen)
        x, lab = xtr[idx], cell_labels([otr[i] for i in idx])
        out = net(x)
        pos = lab >= 0
        if a.loss == 'focal':
            t = torch.zeros_like(out)
            t[pos] = F.one_hot(lab[pos], 5).float()
            pr = torch.sigmoid(out)
            ce = F.binary_cross_entropy_with_logits(out, t, reduction='none')
            pt = pr * t + (1 - pr) * (1 - t)
            loss = (ce * (1 - pt) ** 2 * (0.25 * t + 0.75 * (1 - t))).sum() / (pos.sum() + 1)
        else:
            loss = F.cross_entropy(out[pos], lab[pos])
    opt.zero_grad()
    loss.backward()
    opt.step()
    if step % 50 == 0:
        with torch.no_grad():
            if a.crops:
                acc = (net(cva).argmax(1) == yva).float().mean().item()
            else:
                o = net(xva)
                acc = (o[lva >= 0].argmax(-1) == lva[lva >= 0]).float().mean().item()
        print(f'step {step} loss {loss.item():.3f} val class accuracy {acc:.3f} ({time.time() - t0:.0f} s)', flush=True)
