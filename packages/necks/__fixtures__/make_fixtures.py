# SPDX-License-Identifier: Apache-2.0
"""Reference outputs of mmdet-style FPN variants written in plain PyTorch (mmdet 3.x `FPN.forward` logic with
mmcv ConvModule = conv [-> norm] [-> act]). Run with Debian's /usr/bin/python3 (torch 1.13):

    /usr/bin/python3 packages/necks/__fixtures__/make_fixtures.py

Writes fpn.json / fpn.bin (float32 LE, NCHW activations, OIHW weights, state-dict names as mmdet's).
"""
import json
import os

import torch
import torch.nn.functional as F

HERE = os.path.dirname(os.path.abspath(__file__))
g = torch.Generator().manual_seed(11)
blob, offset, cases = [], [0], {}


def put(t):
    a = t.detach().to(torch.float32).contiguous().numpy().astype('<f4')
    o = offset[0]
    blob.append(a.tobytes())
    offset[0] += a.size
    return {'offset': o, 'shape': list(a.shape)}


def fpn(cfg, inputs):
    inc, out, num_outs = cfg['in_channels'], cfg['out_channels'], cfg['num_outs']
    start, end = cfg.get('start_level', 0), cfg.get('end_level', -1)
    extra = cfg.get('add_extra_convs', False)
    if extra is True:
        extra = 'on_input'
    norm = cfg.get('norm_cfg')
    act = cfg.get('act_cfg')
    up = cfg.get('upsample_cfg', {'mode': 'nearest'})
    end_lvl = len(inc) if end in (-1, len(inc) - 1) else end + 1
    sd = {}

    def convmodule(name, cin, k, with_norm):
        sd[name + '.conv.weight'] = torch.randn(out, cin, k, k, generator=g) * (1.0 / (cin * k * k)) ** 0.5
        if not with_norm:
            sd[name + '.conv.bias'] = torch.randn(out, generator=g) * 0.1
        else:
            sd[name + '.gn.weight'] = torch.rand(out, generator=g) + 0.5
            sd[name + '.gn.bias'] = torch.randn(out, generator=g) * 0.1

    def run(name, x, stride=1, pad=0, with_norm=False):
        y = F.conv2d(x, sd[name + '.conv.weight'], sd.get(name + '.conv.bias'), stride=stride, padding=pad)
        if with_norm:
            y = F.group_norm(y, norm['num_groups'], sd[name + '.gn.weight'], sd[name + '.gn.bias'], 1e-5)
        if act:
            y = F.relu(y)
        return y

    lat_norm = norm is not None and not cfg.get('no_norm_on_lateral', False)
    for j, i in enumerate(range(start, end_lvl)):
        convmodule(f'lateral_convs.{j}', inc[i], 1, lat_norm)
        convmodule(f'fpn_convs.{j}', out, 3, norm is not None)
    used = end_lvl - start
    extra_levels = num_outs - end_lvl + start
    if extra and extra_levels >= 1:
        for e in range(extra_levels):
            cin = inc[end_lvl - 1] if e == 0 and extra == 'on_input' else out
            convmodule(f'fpn_convs.{used + e}', cin, 3, norm is not None)

    lats = [run(f'lateral_convs.{j}', inputs[j + start], with_norm=lat_norm) for j in range(used)]
    for i in range(used - 1, 0, -1):
        if 'scale_factor' in up:
            lats[i - 1] = lats[i - 1] + F.interpolate(lats[i], **up)
        else:
            lats[i - 1] = lats[i - 1] + F.interpolate(lats[i], size=lats[i - 1].shape[2:], **up)
    outs = [run(f'fpn_convs.{i}', lats[i], pad=1, with_norm=norm is not None) for i in range(used)]
    if num_outs > len(outs):
        if not extra:
            for _ in range(num_outs - used):
                outs.append(F.max_pool2d(outs[-1], 1, stride=2))
        else:
            src = {'on_input': inputs[end_lvl - 1], 'on_lateral': lats[-1], 'on_output': outs[-1]}[extra]
            outs.append(run(f'fpn_convs.{used}', src, stride=2, pad=1, with_norm=norm is not None))
            for i in range(used + 1, num_outs):
                prev = F.relu(outs[-1]) if cfg.get('relu_before_extra_convs') else outs[-1]
                outs.append(run(f'fpn_convs.{i}', prev, stride=2, pad=1, with_norm=norm is not None))
    return sd, outs


variants = {
    'default_p6_maxpool': {'in_channels': [4, 8, 16, 32], 'out_channels': 8, 'num_outs': 5},
    'on_input_relu_gn': {'in_channels': [4, 8, 16, 32], 'out_channels': 8, 'num_outs': 6, 'start_level': 1,
                         'add_extra_convs': 'on_input', 'relu_before_extra_convs': True,
                         'norm_cfg': {'type': 'GN', 'num_groups': 2}, 'act_cfg': {'type': 'ReLU'}},
    'on_output_scale2': {'in_channels': [4, 8, 16, 32], 'out_channels': 8, 'num_outs': 5, 'add_extra_convs': 'on_output',
                         'upsample_cfg': {'mode': 'nearest', 'scale_factor': 2}},
    'on_lateral_end2': {'in_channels': [4, 8, 16, 32], 'out_channels': 8, 'num_outs': 3, 'end_level': 2,
                        'add_extra_convs': 'on_lateral', 'no_norm_on_lateral': True, 'norm_cfg': {'type': 'GN', 'num_groups': 4}},
    'bilinear_odd': {'in_channels': [4, 8, 16], 'out_channels': 8, 'num_outs': 4, 'upsample_cfg': {'mode': 'bilinear'}},
}
for name, cfg in variants.items():
    # odd sizes (e.g. 25x34 -> 13x17) so the size / floor rules matter
    sizes = [(26, 35), (13, 18), (7, 9), (4, 5)][:len(cfg['in_channels'])]
    if 'scale_factor' in cfg.get('upsample_cfg', {}):
        sizes = [(24, 32), (12, 16), (6, 8), (3, 4)]
    inputs = [torch.randn(1, c, h, w, generator=g) for c, (h, w) in zip(cfg['in_channels'], sizes)]
    sd, outs = fpn(cfg, inputs)
    cases[name] = {'config': dict(type='FPN', **cfg), 'state_dict': {k: put(v) for k, v in sd.items()},
                   'inputs': [put(x) for x in inputs], 'outputs': [put(o) for o in outs]}

with open(os.path.join(HERE, 'fpn.bin'), 'wb') as f:
    for b in blob:
        f.write(b)
with open(os.path.join(HERE, 'fpn.json'), 'w') as f:
    json.dump({'generator': 'make_fixtures.py', 'torch': torch.__version__, 'cases': cases}, f, indent=1)
print(f'{len(cases)} cases, {offset[0] * 4} bytes')
