#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""Independent check of a solo-ts checkpoint (safetensors + __metadata__) with numpy only, optionally against the
.pth it was converted from:

  /usr/bin/python3 packages/checkpoint/__fixtures__/check_safetensors.py OUT.safetensors [IN.pth]

Verifies the header layout, the recorded sha256 of the data section and of the canonical header, and (with IN.pth)
that every tensor equals torch.load's. Not run by the test-suite (a manual interoperability check)."""
import hashlib
import json
import struct
import sys

import numpy as np

CODES = {'F32': '<f4', 'F16': '<f2', 'F64': '<f8', 'I64': '<i8', 'I32': '<i4', 'I16': '<i2', 'I8': 'i1', 'U8': 'u1',
         'BOOL': '?', 'BF16': '<u2'}


def main():
    path = sys.argv[1]
    raw = open(path, 'rb').read()
    (n,) = struct.unpack('<Q', raw[:8])
    header = json.loads(raw[8:8 + n])
    meta = header.pop('__metadata__', {})
    data = raw[8 + n:]
    arrays = {}
    for k, v in header.items():
        b, e = v['data_offsets']
        a = np.frombuffer(data[b:e], dtype=CODES[v['dtype']]).reshape(v['shape'])
        arrays[k] = (v['dtype'], a)
    print(len(arrays), 'tensors;', 'metadata keys', sorted(meta))
    if meta.get('format') == 'solo-ts-checkpoint':
        assert hashlib.sha256(data).hexdigest() == meta['data_sha256'], 'data sha256'
        entries = sorted(((k, v) for k, v in header.items()), key=lambda kv: kv[1]['data_offsets'])
        canon = json.dumps({'format': meta['format'], 'format_version': meta['format_version'],
                            'tensors': [[k, v['dtype'], v['shape'], v['data_offsets']] for k, v in entries],
                            'meta': meta['meta'], 'data_sha256': meta['data_sha256']}, separators=(',', ':'),
                           ensure_ascii=False)
        assert hashlib.sha256(canon.encode()).hexdigest() == meta['header_sha256'], 'header sha256'
        print('checksums ok; meta:', json.loads(meta['meta']).get('source'))
    if len(sys.argv) > 2:
        import torch
        ck = torch.load(sys.argv[2], map_location='cpu')
        sd = ck.get('state_dict', ck.get('model', ck)) if isinstance(ck, dict) else ck
        sd = {k[7:] if k.startswith('module.') else k: v for k, v in sd.items()}
        assert set(sd) == set(arrays), set(sd) ^ set(arrays)
        for k, t in sd.items():
            dt, a = arrays[k]
            t = t.detach().contiguous()
            ref = t.view(torch.int16).numpy().view(np.uint16) if t.dtype == torch.bfloat16 else t.numpy()
            assert ref.shape == a.shape and ref.tobytes() == a.tobytes(), k
        print('all', len(sd), 'tensors equal torch.load')


if __name__ == '__main__':
    main()
