# SPDX-License-Identifier: Apache-2.0
"""Time pycocotools' COCOeval on the files written by bench-eval.ts (same phases, same inputs).

    PYTHONPATH=/path/to/cocoapi/PythonAPI /usr/bin/python3 \
        packages/evaluation/scripts/bench-pycocotools.py /tmp/solo-bench-eval [runs] [segm|bbox|both]

pycocotools is not part of this repository: build it yourself from https://github.com/cocodataset/cocoapi
(`cd PythonAPI && python3 setup.py build_ext --inplace`, needs cython3 and numpy). Its `coco.py` imports
matplotlib only for drawing; a stub module is installed here when matplotlib is missing. Writes
`<dir>/stats-py-<iouType>.json` so the stats can be compared with bench-eval.ts's.
"""
import json
import statistics
import sys
import time
import types

import numpy as np

if not hasattr(np, 'float'):
    np.float = float  # removed in numpy 1.24; cocoeval.py at 8c9bcc3 still uses it (always meant float64)

try:
    import matplotlib  # noqa: F401
except ImportError:
    for name in ('matplotlib', 'matplotlib.pyplot', 'matplotlib.collections', 'matplotlib.patches'):
        sys.modules[name] = types.ModuleType(name)
    sys.modules['matplotlib.collections'].PatchCollection = None
    sys.modules['matplotlib.patches'].Polygon = None

from pycocotools.coco import COCO  # noqa: E402
from pycocotools.cocoeval import COCOeval  # noqa: E402


def run(d, iou_type):
    t0 = time.perf_counter()
    c0 = time.process_time()
    gt = COCO()
    with open(f'{d}/gt.json') as f:
        gt.dataset = json.load(f)
    gt.createIndex()
    with open(f'{d}/dt.json') as f:
        dets = json.load(f)
    if iou_type == 'segm':
        for x in dets:
            x.pop('bbox')
    dt = gt.loadRes(dets)
    t1 = time.perf_counter()
    E = COCOeval(gt, dt, iou_type)
    E.evaluate()
    E.accumulate()
    E.summarize()
    t2 = time.perf_counter()
    return t2 - t0, time.process_time() - c0, t2 - t1, [float(s) for s in E.stats]


def main():
    d = sys.argv[1] if len(sys.argv) > 1 else '/tmp/solo-bench-eval'
    runs = int(sys.argv[2]) if len(sys.argv) > 2 else 1
    which = sys.argv[3] if len(sys.argv) > 3 else 'both'
    for iou_type in (['segm', 'bbox'] if which == 'both' else [which]):
        totals, cpus, evals = [], [], []
        for i in range(runs):
            total, cpu, ev, stats = run(d, iou_type)
            totals.append(total)
            cpus.append(cpu)
            evals.append(ev)
            print(f'  {iou_type} run {i + 1}: total {total:.2f} s wall, {cpu:.2f} s cpu '
                  f'(evaluate+accumulate+summarize {ev:.2f} s wall)', flush=True)
        with open(f'{d}/stats-py-{iou_type}.json', 'w') as f:
            json.dump(stats, f)
        print(f'{iou_type}: median total {statistics.median(totals):.2f} s wall / {statistics.median(cpus):.2f} s cpu, '
              f'median evaluate+accumulate+summarize {statistics.median(evals):.2f} s wall; AP {stats[0]}', flush=True)


if __name__ == '__main__':
    main()
