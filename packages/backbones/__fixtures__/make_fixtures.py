# SPDX-License-Identifier: Apache-2.0
"""Reference outputs of small mmdet-style ResNet / ResNeXt variants, written in plain PyTorch (+ torchvision's
deform_conv2d for DCNv2) with mmdet's module names. Run with Debian's /usr/bin/python3 (torch 1.13):

    /usr/bin/python3 packages/backbones/__fixtures__/make_fixtures.py

Writes backbones.json (per case: config, state-dict entries, outputs) and backbones.bin (float32 LE, PyTorch
layouts: NCHW activations, OIHW weights). The networks follow mmdet 3.x `ResNet` / `ResNeXt`:
stem conv1 7x7 s2 p3 + bn1 + ReLU (or deep_stem: stem.0/1 conv-bn 3x3 s2, stem.3/4, stem.6/7) + maxpool 3 s2 p1;
Bottleneck conv1 1x1 (stride in caffe style) / conv2 3x3 (stride in pytorch style, grouped for ResNeXt, DCNv2 when
enabled) / conv3 1x1, downsample 1x1 conv + BN (avg_down: AvgPool2d(stride, ceil_mode, count_include_pad=False)
then 1x1 conv stride 1 + BN); BN in eval mode.
"""
import json
import math
import os

import numpy as np
import torch
import torch.nn.functional as F
from torchvision.ops import deform_conv2d

HERE = os.path.dirname(os.path.abspath(__file__))
g = torch.Generator().manual_seed(7)
blob, offset, cases = [], [0], {}


def put(t):
    a = t.detach().to(torch.float32).contiguous().numpy().astype('<f4')
    o = offset[0]
    blob.append(a.tobytes())
    offset[0] += a.size
    return {'offset': o, 'shape': list(a.shape)}


class SD(dict):
    def conv(self, name, cout, cin, k, std=None):
        std = std or math.sqrt(2.0 / (cin * k * k))
        self[name + '.weight'] = torch.randn(cout, cin, k, k, generator=g) * std

    def bn(self, name, c):
        self[name + '.weight'] = torch.rand(c, generator=g) + 0.5
        self[name + '.bias'] = (torch.rand(c, generator=g) - 0.5) * 0.4
        self[name + '.running_mean'] = torch.randn(c, generator=g) * 0.2
        self[name + '.running_var'] = torch.rand(c, generator=g) + 0.5
        self[name + '.num_batches_tracked'] = torch.tensor(5)

    def dcn_offset(self, name, cin, k):
        self[name + '.conv_offset.weight'] = torch.randn(3 * k * k, cin, k, k, generator=g) * 0.1
        self[name + '.conv_offset.bias'] = torch.randn(3 * k * k, generator=g) * 0.3


def bn(sd, x, name):
    return F.batch_norm(x, sd[name + '.running_mean'], sd[name + '.running_var'], sd[name + '.weight'], sd[name + '.bias'], False, 0.1, 1e-5)


def dcn(sd, x, name, stride, padding, dilation, groups):
    out = F.conv2d(x, sd[name + '.conv_offset.weight'], sd[name + '.conv_offset.bias'], stride=stride, padding=padding, dilation=dilation)
    o1, o2, m = torch.chunk(out, 3, dim=1)
    w = sd[name + '.weight']
    assert w.shape[1] * groups == x.shape[1]
    return deform_conv2d(x, torch.cat((o1, o2), 1), w, None, stride=stride, padding=padding, dilation=dilation, mask=torch.sigmoid(m))


def resnet(cfg):
    depth = cfg['depth']
    blocks = {50: [3, 4, 6, 3], 101: [3, 4, 23, 3]}[depth]
    base = cfg['base_channels']
    stem = cfg.get('stem_channels') or base
    groups, base_width = cfg.get('groups', 1), cfg.get('base_width', 4)
    style, avg_down, deep = cfg.get('style', 'pytorch'), cfg.get('avg_down', False), cfg.get('deep_stem', False)
    ns = cfg.get('num_stages', 4)
    strides, dil = cfg.get('strides', [1, 2, 2, 2])[:ns], cfg.get('dilations', [1, 1, 1, 1])[:ns]
    stage_dcn = cfg.get('stage_with_dcn', [False] * ns) if cfg.get('dcn') else [False] * ns
    sd = SD()
    if deep:
        sd.conv('stem.0', stem // 2, 3, 3); sd.bn('stem.1', stem // 2)
        sd.conv('stem.3', stem // 2, stem // 2, 3); sd.bn('stem.4', stem // 2)
        sd.conv('stem.6', stem, stem // 2, 3); sd.bn('stem.7', stem)
    else:
        sd.conv('conv1', stem, 3, 7); sd.bn('bn1', stem)
    inpl = stem
    plan = []
    for i in range(ns):
        planes = base * 2 ** i
        width = planes if groups == 1 else math.floor(planes * (base_width / base)) * groups
        for b in range(blocks[i]):
            p = f'layer{i + 1}.{b}'
            cin = inpl if b == 0 else planes * 4
            s = strides[i] if b == 0 else 1
            sd.conv(p + '.conv1', width, cin, 1); sd.bn(p + '.bn1', width)
            sd.conv(p + '.conv2', width, width // groups, 3)
            if stage_dcn[i]:
                sd.dcn_offset(p + '.conv2', width, 3)
            sd.bn(p + '.bn2', width)
            sd.conv(p + '.conv3', planes * 4, width, 1); sd.bn(p + '.bn3', planes * 4)
            ds = b == 0 and (s != 1 or cin != planes * 4)
            if ds:
                di = 1 if avg_down else 0
                sd.conv(f'{p}.downsample.{di}', planes * 4, cin, 1); sd.bn(f'{p}.downsample.{di + 1}', planes * 4)
            plan.append((i, p, s, dil[i], ds, stage_dcn[i]))
        inpl = planes * 4

    def forward(x):
        if deep:
            x = F.relu(bn(sd, F.conv2d(x, sd['stem.0.weight'], stride=2, padding=1), 'stem.1'))
            x = F.relu(bn(sd, F.conv2d(x, sd['stem.3.weight'], padding=1), 'stem.4'))
            x = F.relu(bn(sd, F.conv2d(x, sd['stem.6.weight'], padding=1), 'stem.7'))
        else:
            x = F.relu(bn(sd, F.conv2d(x, sd['conv1.weight'], stride=2, padding=3), 'bn1'))
        x = F.max_pool2d(x, 3, 2, 1)
        outs = []
        for idx, (i, p, s, d, ds, use_dcn) in enumerate(plan):
            s1, s2 = (1, s) if style == 'pytorch' else (s, 1)
            o = F.relu(bn(sd, F.conv2d(x, sd[p + '.conv1.weight'], stride=s1), p + '.bn1'))
            if use_dcn:
                o = dcn(sd, o, p + '.conv2', s2, d, d, groups)
            else:
                o = F.conv2d(o, sd[p + '.conv2.weight'], stride=s2, padding=d, dilation=d, groups=groups)
            o = F.relu(bn(sd, o, p + '.bn2'))
            o = bn(sd, F.conv2d(o, sd[p + '.conv3.weight']), p + '.bn3')
            if ds:
                if avg_down:
                    idn = F.avg_pool2d(x, s, s, ceil_mode=True, count_include_pad=False)
                    idn = bn(sd, F.conv2d(idn, sd[p + '.downsample.1.weight']), p + '.downsample.2')
                else:
                    idn = bn(sd, F.conv2d(x, sd[p + '.downsample.0.weight'], stride=s), p + '.downsample.1')
            else:
                idn = x
            x = F.relu(o + idn)
            last_of_stage = idx == len(plan) - 1 or plan[idx + 1][0] != i
            if last_of_stage and i in cfg.get('out_indices', [0, 1, 2, 3]):
                outs.append(x)
        return outs

    return sd, forward


variants = {
    'r50_dcn': {'type': 'ResNet', 'depth': 50, 'base_channels': 2, 'num_stages': 4, 'out_indices': [0, 1, 2, 3],
                'frozen_stages': 1, 'norm_eval': True, 'style': 'pytorch', 'init_cfg': None,
                'dcn': {'type': 'DCNv2', 'deformable_groups': 1, 'fallback_on_stride': False},
                'stage_with_dcn': [False, True, True, True]},
    'x50_deepstem_avgdown_caffe': {'type': 'ResNeXt', 'depth': 50, 'base_channels': 4, 'groups': 2, 'base_width': 2,
                                   'num_stages': 3, 'strides': [1, 2, 2], 'dilations': [1, 1, 1], 'out_indices': [0, 2],
                                   'deep_stem': True, 'stem_channels': 8, 'avg_down': True, 'style': 'caffe', 'init_cfg': None},
    'x50_g4_dcn': {'type': 'ResNeXt', 'depth': 50, 'base_channels': 4, 'groups': 4, 'base_width': 4, 'num_stages': 2,
                   'strides': [1, 2], 'dilations': [1, 2], 'out_indices': [0, 1], 'init_cfg': None,
                   'dcn': {'type': 'DCNv2', 'deform_groups': 1, 'fallback_on_stride': False}, 'stage_with_dcn': [False, True]},
}
for name, cfg in variants.items():
    torch.manual_seed(0)
    sd, fwd = resnet(cfg)
    x = torch.randn(1, 3, 37, 50, generator=g)  # odd sizes: padding / ceil_mode / floor rules matter
    with torch.no_grad():
        outs = fwd(x)
    cases[name] = {'config': cfg, 'state_dict': {k: put(v) for k, v in sd.items()}, 'input': put(x),
                   'outputs': [put(o) for o in outs]}

with open(os.path.join(HERE, 'backbones.bin'), 'wb') as f:
    for b in blob:
        f.write(b)
with open(os.path.join(HERE, 'backbones.json'), 'w') as f:
    json.dump({'generator': 'make_fixtures.py', 'torch': torch.__version__, 'cases': cases}, f, indent=1)
print(f'{len(cases)} cases, {offset[0] * 4} bytes')
