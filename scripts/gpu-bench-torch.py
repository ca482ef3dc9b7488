#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""PyTorch CUDA fp32 reference for scripts/gpu-bench.sh: the same networks, input sizes and batches as the solo-ts
WebGPU runs, timed on the same GPU.

Builds the models with ../shared/reference/solo_torch.py (plain-PyTorch SOLO/SOLOv2, bit-exact with mmdetection on
the goldens; pass its folder with --reference), random weights, and prints one JSON line per measurement:
- infer: backbone + FPN + head forward (eval mode, no_grad) of SOLOv2 R50 @800x1344 and SOLOv2-light R18 @448x768
  (solo bench's --shape 800x1333 pads to 800x1344), batch 1;
- train: train-mode forward, a sum-of-outputs loss (no targets / assigner / real losses: a lower bound of
  mmdetection's step, as ../shared/reference/train_proxy.py), backward, SGD step; SOLOv2 R50 batch 2 @800x1344
  (frozen stem + layer1, eval BatchNorm, as the config) and the demo model (configs/demo: ResNet-18 with 16 base
  channels and GroupNorm(8), light SOLOv2 head) batch 8 @128x160.
Timings: CUDA-synchronised wall clock, median after warm-up; TF32 off (true fp32, like WebGPU's f32).
No opencv needed (solo_torch imports cv2 for image I/O only; a stub stands in when it is missing).
"""
import argparse
import json
import os
import statistics
import sys
import time
import types


def load_solo_torch(folder):
    sys.path.insert(0, folder)
    try:
        import cv2  # noqa: F401
    except ImportError:
        sys.modules['cv2'] = types.ModuleType('cv2')
    import solo_torch
    return solo_torch


def demo_model_cfg(st):
    """configs/demo/solov2-light_r18_shapes.yaml's model, as a solo_torch model dict."""
    cfg = st.PRESETS[st.resolve_preset('solov2-light_r18_fpn_ms-3x_coco')]['model']
    cfg = json.loads(json.dumps(cfg))
    cfg['backbone'].update(depth=18, base_channels=16, num_stages=4, out_indices=[0, 1, 2, 3], frozen_stages=-1,
                           norm_eval=False)
    cfg['neck'].update(in_channels=[16, 32, 64, 128], out_channels=64, start_level=0, num_outs=5)
    head = cfg['mask_head']
    head.update(num_classes=5, in_channels=64, feat_channels=64, stacked_convs=2, strides=[8, 8, 16, 32, 32],
                scale_ranges=[[1, 24], [12, 48], [24, 96], [48, 192], [96, 2048]], pos_scale=0.2,
                num_grids=[12, 10, 8, 6, 4], cls_down_index=0, norm_cfg={'type': 'GN', 'num_groups': 16, 'requires_grad': True})
    head['mask_feature_head'] = dict(head['mask_feature_head'], feat_channels=32, start_level=0, end_level=3,
                                     out_channels=64, mask_stride=4, norm_cfg={'type': 'GN', 'num_groups': 8, 'requires_grad': True})
    return cfg


def gn_backbone(torch, module, groups):
    """Replace the backbone's BatchNorm2d by GroupNorm(groups) (the demo config's norm_cfg)."""
    for name, child in list(module.named_children()):
        if isinstance(child, torch.nn.BatchNorm2d):
            setattr(module, name, torch.nn.GroupNorm(groups, child.num_features, eps=1e-5))
        else:
            gn_backbone(torch, child, groups)


def flat(o):
    if hasattr(o, 'shape'):
        return [o]
    r = []
    for e in o:
        r += flat(e)
    return r


def timed(torch, fn, warmup, iters):
    sync = torch.cuda.synchronize if torch.cuda.is_available() else (lambda: None)
    for _ in range(warmup):
        fn()
    sync()
    times = []
    for _ in range(iters):
        t0 = time.perf_counter()
        fn()
        sync()
        times.append((time.perf_counter() - t0) * 1000)
    return times


def main():
    p = argparse.ArgumentParser()
    p.add_argument('--reference', default=os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', '..', 'shared', 'reference'))
    p.add_argument('--warmup', type=int, default=3)
    p.add_argument('--iters', type=int, default=10)
    p.add_argument('--only', default='', help='comma list of measurement names (substrings) to run')
    p.add_argument('--device', default='cuda', help='cuda (default), or cpu for a dry run of the script itself')
    a = p.parse_args()
    import torch
    if a.device == 'cuda' and not torch.cuda.is_available():
        print(json.dumps({'error': 'torch.cuda.is_available() is False'}))
        return 1
    if a.device == 'cuda':
        torch.backends.cuda.matmul.allow_tf32 = False
        torch.backends.cudnn.allow_tf32 = False
        torch.backends.cudnn.benchmark = True
    st = load_solo_torch(a.reference)
    dev = torch.device(a.device)
    gpu = torch.cuda.get_device_name(0) if a.device == 'cuda' else 'cpu'
    print(json.dumps({'torch': torch.__version__, 'cuda': torch.version.cuda, 'gpu': gpu}))

    def build(cfg, gn=None):
        m = st.SOLODetector(cfg)
        st.init_random(m, 0)
        if gn:
            gn_backbone(torch, m.backbone, gn)
        return m.to(dev)

    runs = [
        ('infer solov2_r50 800x1333', 'solov2_r50_fpn_1x_coco', None, 'infer', 1, (800, 1344)),
        ('infer solov2-light_r18 448x768', 'solov2-light_r18_fpn_ms-3x_coco', None, 'infer', 1, (448, 768)),
        ('train solov2_r50 b2 800x1333', 'solov2_r50_fpn_1x_coco', None, 'train', 2, (800, 1344)),
        ('train demo b8 128x160', None, 8, 'train', 8, (128, 160)),
    ]
    only = [s for s in a.only.split(',') if s]
    for name, preset, gn, mode, batch, (h, w) in runs:
        if only and not any(o in name for o in only):
            continue
        cfg = demo_model_cfg(st) if preset is None else st.PRESETS[st.resolve_preset(preset)]['model']
        m = build(cfg, gn)
        x = torch.randn(batch, 3, h, w, device=dev)
        if mode == 'infer':
            m.eval()

            def step():
                with torch.no_grad():
                    m.network(x)
        else:
            m.train()
            if preset is not None:
                for mod in m.backbone.modules():
                    if isinstance(mod, torch.nn.BatchNorm2d):
                        mod.eval()
                        for q in mod.parameters():
                            q.requires_grad_(False)
                fz = cfg['backbone'].get('frozen_stages', -1)
                for pn, q in m.backbone.named_parameters():
                    if fz >= 0 and (pn.startswith('conv1') or pn.startswith('bn1') or any(pn.startswith('layer%d.' % i) for i in range(1, fz + 1))):
                        q.requires_grad_(False)
            opt = torch.optim.SGD([q for q in m.parameters() if q.requires_grad], lr=1e-4, momentum=0.9)
            head = m.mask_head

            def step():
                feats = m.features(x)
                outs = head.train_forward(feats) if hasattr(head, 'train_forward') else head(feats)
                loss = sum(t.float().mean() for t in flat(outs))
                opt.zero_grad()
                loss.backward()
                opt.step()
        times = timed(torch, step, a.warmup, a.iters)
        print(json.dumps({'name': name, 'batch': batch, 'input': [h, w], 'ms_median': round(statistics.median(times), 2),
                          'ms': [round(t, 2) for t in times]}))
        del m
        torch.cuda.empty_cache()
    return 0


if __name__ == '__main__':
    sys.exit(main())
