#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""Reference fixtures for @solo-ts/checkpoint, written with real PyTorch (Debian's torch 1.13).

Run from the repository root:  /usr/bin/python3 packages/checkpoint/__fixtures__/make_fixtures.py

Writes, next to this script:
  parity/<variant>.json   per-tensor facts of the golden data's parity/<variant>/checkpoint.pth (SOLO_PARITY_DIR, by
                          default ../shared/parity beside the checkout) as PyTorch loads it
                          (name, dtype, shape, float64 sum / sum of squares, first and last 8 values, and the
                          sha256 of the contiguous little-endian bytes) plus the checkpoint's `meta`
  small/*.pth             small checkpoints written by torch.save covering dtypes, views, shared storages,
                          state dicts with `_metadata`, mmdetection-style wrappers, numpy/opaque meta,
                          pickle protocol 4, the legacy (non-zip) format and a DEFLATE-compressed zip
  small/expected.json     every tensor of every small fixture with its exact values, found by walking
                          dicts / lists / tuples (path components joined with '/')

The test-suite never runs Python; it only reads these files.
"""
import collections
import hashlib
import io
import json
import math
import os
import sys
import zipfile

import numpy as np
import torch

HERE = os.path.dirname(os.path.abspath(__file__))
PARITY = os.environ.get('SOLO_PARITY_DIR', os.path.join(HERE, '..', '..', '..', '..', 'shared', 'parity'))

DTYPE_NAMES = {
    torch.float32: 'float32', torch.float16: 'float16', torch.bfloat16: 'bfloat16', torch.float64: 'float64',
    torch.int64: 'int64', torch.int32: 'int32', torch.int16: 'int16', torch.int8: 'int8', torch.uint8: 'uint8',
    torch.bool: 'bool',
}


def enc_value(v, dtype):
    """A JSON-safe exact encoding of one element: ints of 64-bit tensors as decimal strings, special floats as
    strings ('nan', 'inf', '-inf', '-0'), other floats as the exact double (float16/bfloat16/float32 widen exactly)."""
    if dtype == torch.bool:
        return 1 if v else 0
    if dtype == torch.int64:
        return str(int(v))
    if dtype in (torch.int32, torch.int16, torch.int8, torch.uint8):
        return int(v)
    f = float(v)
    if math.isnan(f):
        return 'nan'
    if math.isinf(f):
        return 'inf' if f > 0 else '-inf'
    if f == 0 and math.copysign(1.0, f) < 0:
        return '-0'
    return f


def tensor_bytes_sha256(t):
    c = t.detach().contiguous()
    if c.dtype == torch.bfloat16:
        raw = c.view(torch.int16).numpy().tobytes()
    else:
        raw = c.numpy().tobytes()
    return hashlib.sha256(raw).hexdigest()


def summarize(name, t):
    t = t.detach()
    flat = t.reshape(-1)
    n = flat.numel()
    out = {
        'name': name,
        'dtype': DTYPE_NAMES[t.dtype],
        'shape': list(t.shape),
        'numel': n,
        'sha256': tensor_bytes_sha256(t),
        'first': [enc_value(x, t.dtype) for x in flat[:8].tolist()],
        'last': [enc_value(x, t.dtype) for x in flat[max(0, n - 8):].tolist()],
    }
    if t.dtype.is_floating_point:
        d = flat.double()
        out['sum'] = float(d.sum())
        out['sumsq'] = float((d * d).sum())
    else:
        out['sum'] = str(int(flat.long().sum()))
    return out


def jsonable(x):
    if isinstance(x, dict):
        return {str(k): jsonable(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [jsonable(v) for v in x]
    if isinstance(x, (str, int, float, bool)) or x is None:
        return x
    raise TypeError(f'unexpected meta value {type(x)}')


def make_parity():
    out_dir = os.path.join(HERE, 'parity')
    os.makedirs(out_dir, exist_ok=True)
    variants = sorted(d for d in os.listdir(PARITY) if os.path.isfile(os.path.join(PARITY, d, 'checkpoint.pth')))
    for v in variants:
        path = os.path.join(PARITY, v, 'checkpoint.pth')
        ck = torch.load(path, map_location='cpu')
        sd = ck['state_dict']
        with open(path, 'rb') as f:
            file_sha = hashlib.sha256(f.read()).hexdigest()
        rec = {
            'variant': v,
            'file_sha256': file_sha,
            'top_level_keys': list(ck.keys()),
            'meta': jsonable(ck['meta']),
            'metadata_keys': len(getattr(sd, '_metadata', {}) or {}),
            'tensors': [summarize(k, t) for k, t in sd.items()],
        }
        with open(os.path.join(out_dir, v + '.json'), 'w') as f:
            json.dump(rec, f, indent=None, separators=(',', ':'))
            f.write('\n')
        print('parity', v, len(rec['tensors']), 'tensors')


class HookState:
    """A class the TypeScript unpickler cannot know: it must come back as an opaque object."""

    def __init__(self):
        self.count = 3
        self.name = 'hook'


def walk_tensors(obj, prefix, out):
    if isinstance(obj, torch.Tensor):
        t = obj.detach()
        flat = t.reshape(-1)
        out[prefix] = {
            'dtype': DTYPE_NAMES[t.dtype],
            'shape': list(t.shape),
            'values': [enc_value(x, t.dtype) for x in flat.tolist()],
            'requires_grad': bool(obj.requires_grad),
            'is_parameter': isinstance(obj, torch.nn.Parameter),
        }
    elif isinstance(obj, dict):
        for k, v in obj.items():
            walk_tensors(v, f'{prefix}/{k}' if prefix else str(k), out)
    elif isinstance(obj, (list, tuple)):
        for i, v in enumerate(obj):
            walk_tensors(v, f'{prefix}/{i}' if prefix else str(i), out)


def small_objects():
    objs = {}
    objs['dtypes'] = {
        'f32': torch.tensor([0.0, -0.0, 1.5, -2.25, 3.4028234663852886e38, 1e-45, float('nan'), float('inf'),
                             float('-inf'), 0.1], dtype=torch.float32),
        'f16': torch.tensor([0.0, -0.0, 1.0, -2.0, 65504.0, 6e-8, 0.333, float('nan'), float('inf'), float('-inf'),
                             1e-4], dtype=torch.float16),
        'bf16': torch.tensor([1.0, -1.5, 3.14159, 1e38, -0.0, float('nan'), float('inf'), 1e-40, 255.0],
                             dtype=torch.bfloat16),
        'f64': torch.tensor([1 / 3, -1e300, 5e-324, 2.0 ** 53 + 2, -0.0], dtype=torch.float64),
        'i64': torch.tensor([0, -1, 2 ** 53 + 1, -(2 ** 63), 2 ** 63 - 1, 123456789012], dtype=torch.int64),
        'i32': torch.tensor([-(2 ** 31), 2 ** 31 - 1, 0, 7], dtype=torch.int32),
        'i16': torch.tensor([-32768, 32767, -2], dtype=torch.int16),
        'i8': torch.tensor([-128, 127, -1], dtype=torch.int8),
        'u8': torch.tensor([0, 255, 128, 1], dtype=torch.uint8),
        'bool': torch.tensor([True, False, True, True], dtype=torch.bool),
        'mat': torch.arange(6, dtype=torch.float32).reshape(2, 3) / 4,
        'scalar': torch.tensor(3.5),
        'scalar_i64': torch.tensor(42),
        'empty': torch.zeros(0, 4),
        'empty3': torch.zeros(2, 0, 3, dtype=torch.float16),
    }

    base = torch.arange(24, dtype=torch.float32).reshape(2, 3, 4)
    ibase = torch.arange(12, dtype=torch.int64).reshape(3, 4) - 5
    hbase = (torch.arange(12, dtype=torch.float32).reshape(3, 4) / 8).half()
    bbase = torch.tensor([[True, False, False], [False, True, True]])
    objs['views'] = {
        'base': base,
        'transpose': base.transpose(0, 2),
        'slice_offset': base[1, :, 1:3],
        'step': base[:, ::2, ::3],
        'row': base[1, 2],
        'elem': base[1, 2, 3],
        'reshaped': base.view(4, 6),
        'permute': base.permute(1, 2, 0),
        'expand': torch.tensor([1.0, 2.0, 3.0]).expand(2, 3),
        'partial': torch.arange(100, 110, dtype=torch.float32)[3:7],
        'i64_t': ibase.t(),
        'i64_col': ibase[:, 2],
        'f16_t': hbase.t(),
        'bool_t': bbase.t(),
        'list': [base[0, 0], (base[1, 1], ibase[2])],
    }

    torch.manual_seed(0)
    net = torch.nn.Sequential(
        torch.nn.Conv2d(3, 4, 3, bias=False),
        torch.nn.BatchNorm2d(4),
        torch.nn.ReLU(),
        torch.nn.Conv2d(4, 2, 1),
    )
    with torch.no_grad():
        net[1].running_mean.uniform_(-1, 1)
        net[1].running_var.uniform_(0.5, 2)
        net[1].num_batches_tracked.fill_(17)
    sd = net.state_dict()
    objs['state_dict'] = sd

    mmdet_sd = collections.OrderedDict((f'module.{k}', v) for k, v in sd.items())
    mmdet_sd._metadata = sd._metadata
    meta = {
        'mmdet_version': '2.25.0',
        'CLASSES': ('person', 'car'),
        'epoch': 12,
        'iter': 7330,
        'lr': 0.01,
        'np_f64': np.float64(0.5),
        'np_f32': np.float32(1.25),
        'np_i64': np.int64(-7),
        'np_bool': np.bool_(True),
        'np_arr': np.array([[1, 2], [3, 4]], dtype=np.int32),
        'np_farr': np.array([0.5, -1.5], dtype=np.float64),
        'a_set': {3},
        'a_frozenset': frozenset(['x']),
        'raw_bytes': b'\x00\x01abc\xff',
        'nothing': None,
        'yes': True,
        'no': False,
        'big': 2 ** 70,
        'neg_big': -(2 ** 64) - 5,
        'neg': -100000,
        'unicode': 'h\u00e9llo \u2713 \U0001F600',
        'int_keys': {1: 'a', 2: 'b'},
        'nested': [{'a': (1, 2.5, 'x')}, [[]], ()],
        'hook': HookState(),
        'dd': collections.defaultdict(list, {'k': [1, 2]}),
        'complex': complex(1.5, -2),
    }
    optimizer = {
        'state': {0: {'momentum_buffer': torch.full((2,), 0.25)}},
        'param_groups': [{'lr': 0.01, 'momentum': 0.9, 'params': [0, 1]}],
    }
    objs['mmdet_style'] = {'meta': meta, 'state_dict': mmdet_sd, 'optimizer': optimizer}

    torch.manual_seed(1)
    objs['model_wrapper'] = {
        'model': collections.OrderedDict([
            ('module.fc.weight', torch.nn.Parameter(torch.randn(2, 3))),
            ('module.fc.bias', torch.nn.Parameter(torch.randn(2), requires_grad=False)),
        ]),
        'epoch': 3,
    }
    objs['state_dict_wrapper'] = {'state_dict': {'w': torch.ones(2, 2), 'b': torch.zeros(2)}}
    return objs


def rezip_deflate(src, dst):
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dst, 'w', compression=zipfile.ZIP_DEFLATED) as zout:
        for info in zin.infolist():
            zout.writestr(info.filename, zin.read(info.filename))


def make_small():
    out_dir = os.path.join(HERE, 'small')
    os.makedirs(out_dir, exist_ok=True)
    objs = small_objects()
    files = {}
    for name, obj in objs.items():
        p = os.path.join(out_dir, name + '.pth')
        torch.save(obj, p)
        files[name + '.pth'] = name
    # pickle protocol 4 (FRAME, MEMOIZE, SHORT_BINUNICODE, STACK_GLOBAL, ...)
    torch.save(objs['mmdet_style'], os.path.join(out_dir, 'mmdet_style_p4.pth'), pickle_protocol=4)
    files['mmdet_style_p4.pth'] = 'mmdet_style'
    # legacy (pre-1.6, non-zip) serialisation, as mmdetection's publish_model.py writes released checkpoints
    for name in ('dtypes', 'views', 'mmdet_style'):
        torch.save(objs[name], os.path.join(out_dir, name + '_legacy.pth'), _use_new_zipfile_serialization=False)
        files[name + '_legacy.pth'] = name
    rezip_deflate(os.path.join(out_dir, 'views.pth'), os.path.join(out_dir, 'views_deflate.pth'))
    files['views_deflate.pth'] = 'views'

    expected = {'files': files, 'objects': {}}
    for name, obj in objs.items():
        t = {}
        walk_tensors(obj, '', t)
        expected['objects'][name] = t
    # check that every file loads back in PyTorch to the same tensors
    for fname, oname in files.items():
        loaded = torch.load(os.path.join(out_dir, fname))
        got = {}
        walk_tensors(loaded, '', got)
        want = expected['objects'][oname]
        assert set(got) == set(want), fname
        for k in want:
            assert got[k]['values'] == want[k]['values'] and got[k]['shape'] == want[k]['shape'], (fname, k)
    with open(os.path.join(out_dir, 'expected.json'), 'w') as f:
        json.dump(expected, f, indent=1)
        f.write('\n')
    print('small', sorted(files))


def make_safetensors_reference():
    """A safetensors file built by hand from the format description (independent of the TypeScript writer):
    header NOT padded, keys not in data order, a zero-size tensor, and every dtype we support."""
    import struct
    out_dir = os.path.join(HERE, 'small')
    tensors = collections.OrderedDict([
        ('z_f32', np.array([[1.5, -2.0, 3.25], [0.0, -0.0, 1e-45]], dtype='<f4')),
        ('a_f16', np.array([1.0, -0.5, 65504.0, 6e-8], dtype='<f2')),
        ('m_bf16', torch.tensor([1.0, -1.5, 3.14159, 1e38], dtype=torch.bfloat16).view(torch.int16).numpy().astype('<i2')),
        ('b_i64', np.array([-(2 ** 63), 2 ** 53 + 1, 5], dtype='<i8')),
        ('c_bool', np.array([True, False, True], dtype='?')),
        ('d_u8', np.array([0, 255, 7], dtype='u1')),
        ('e_f64', np.array([1 / 3, -1e300], dtype='<f8')),
        ('f_i32', np.array([-(2 ** 31), 17], dtype='<i4')),
        ('g_i16', np.array([-32768, 3], dtype='<i2')),
        ('h_i8', np.array([-128, 127], dtype='i1')),
        ('empty', np.zeros((0, 3), dtype='<f4')),
    ])
    codes = {'z_f32': 'F32', 'a_f16': 'F16', 'm_bf16': 'BF16', 'b_i64': 'I64', 'c_bool': 'BOOL', 'd_u8': 'U8',
             'e_f64': 'F64', 'f_i32': 'I32', 'g_i16': 'I16', 'h_i8': 'I8', 'empty': 'F32'}
    # data order: reverse of the key order
    data = b''
    header = {}
    for k in reversed(list(tensors)):
        raw = tensors[k].tobytes()
        header[k] = {'dtype': codes[k], 'shape': list(tensors[k].shape), 'data_offsets': [len(data), len(data) + len(raw)]}
        data += raw
    header = dict(sorted(header.items()))
    header['__metadata__'] = {'format': 'pt', 'note': 'hand-made'}
    hb = json.dumps(header).encode()
    with open(os.path.join(out_dir, 'reference.safetensors'), 'wb') as f:
        f.write(struct.pack('<Q', len(hb)) + hb + data)
    expected = {}
    for k, a in tensors.items():
        if k == 'm_bf16':
            vals = torch.from_numpy(a.astype(np.int16)).view(torch.bfloat16).float().tolist()
            dtype = torch.bfloat16
        else:
            vals = a.reshape(-1).tolist()
            dtype = {'F32': torch.float32, 'F16': torch.float16, 'I64': torch.int64, 'BOOL': torch.bool,
                     'U8': torch.uint8, 'F64': torch.float64, 'I32': torch.int32, 'I16': torch.int16,
                     'I8': torch.int8}[codes[k]]
        expected[k] = {'dtype': DTYPE_NAMES[dtype], 'shape': list(a.shape), 'values': [enc_value(v, dtype) for v in vals]}
    with open(os.path.join(out_dir, 'reference.safetensors.json'), 'w') as f:
        json.dump({'metadata': {'format': 'pt', 'note': 'hand-made'}, 'tensors': expected}, f, indent=1)
        f.write('\n')


def make_half_rounding():
    """float32 -> float16 / bfloat16 rounding as numpy / PyTorch do it (round to nearest even)."""
    rng = np.random.default_rng(7)
    vals = [0.0, -0.0, 1.0, 65504.0, 65519.996, 65520.0, 1e6, -1e6, 6e-8, 2.98e-8, 2.9802322e-8, 3e-8, 5.96e-8,
            6.1035156e-05, 6.097555e-05, 1.00048828125, 1.00146484375, 3.4028234663852886e38, 1e-45,
            float('inf'), float('-inf'), 1 + 2 ** -8, 1 + 3 * 2 ** -9, 1.0078125, 257.5, 258.5]
    vals += list((rng.standard_normal(400) * np.exp(rng.uniform(-20, 20, 400))).astype(np.float32))
    vals += list(rng.uniform(-70000, 70000, 100).astype(np.float32))
    # exact halfway cases for float16 (mantissa bit patterns ...1000000000000)
    mant = rng.integers(0, 1 << 10, 100)
    ex = rng.integers(-14, 15, 100)
    vals += [float(np.float32((1 + (m + 0.5) / 1024) * 2.0 ** e)) for m, e in zip(mant, ex)]
    f32 = np.array(vals, dtype=np.float32)
    f16 = f32.astype(np.float16).view(np.uint16)
    bf16 = torch.from_numpy(f32.copy()).bfloat16().view(torch.int16).numpy().view(np.uint16)
    with open(os.path.join(HERE, 'small', 'half_rounding.json'), 'w') as f:
        json.dump({'f32': [enc_value(v, torch.float32) for v in f32.tolist()], 'f16_bits': f16.tolist(),
                   'bf16_bits': bf16.tolist()}, f)
        f.write('\n')


if __name__ == '__main__':
    make_parity()
    make_small()
    make_safetensors_reference()
    make_half_rounding()
