# Produces schedulers.json: per-iteration learning rates from torch.optim.lr_scheduler for
# packages/engine/src/optim/schedulers.test.ts. mmengine's LinearLR(begin, end) is torch's LinearLR with
# total_iters = end - begin - 1; MultiStepLR / StepLR are torch's; ConstantLR(end) is torch's ConstantLR with
# total_iters = end - begin - 1. Iteration-based schedulers step after every iteration, epoch-based ones after
# every epoch (mmengine's ParamSchedulerHook). Run with Debian's python3 (torch 1.13): /usr/bin/python3 make_schedulers.py
import json, torch
from torch.optim.lr_scheduler import LinearLR, MultiStepLR, StepLR, ConstantLR

def run(base_lr, iters_per_epoch, epochs, make_iter, make_epoch):
    p = torch.nn.Parameter(torch.zeros(1))
    opt = torch.optim.SGD([p], lr=base_lr, momentum=0.9)
    it_s = make_iter(opt)
    ep_s = make_epoch(opt)
    lrs = []
    for e in range(epochs):
        for i in range(iters_per_epoch):
            lrs.append(opt.param_groups[0]["lr"])
            opt.step()
            for s in it_s: s.step()
        for s in ep_s: s.step()
    return lrs

cases = {
    # schedule_1x shape, shortened: warm-up over 50 iterations (mmengine end=50), milestones at epochs 3, 5
    "warmup_multistep": dict(base_lr=0.02, ipe=20, epochs=6,
        lrs=run(0.02, 20, 6, lambda o: [LinearLR(o, start_factor=0.001, total_iters=49)], lambda o: [MultiStepLR(o, milestones=[3, 5], gamma=0.1)])),
    # 3x shape: start factor 1/3 over 30 iterations (end=30), step every 2 epochs
    "warmup_step": dict(base_lr=0.01, ipe=7, epochs=6,
        lrs=run(0.01, 7, 6, lambda o: [LinearLR(o, start_factor=1/3, total_iters=29)], lambda o: [StepLR(o, step_size=2, gamma=0.5)])),
    # ConstantLR(factor 0.25, end=10) by iteration
    "constant": dict(base_lr=0.1, ipe=5, epochs=3,
        lrs=run(0.1, 5, 3, lambda o: [ConstantLR(o, factor=0.25, total_iters=9)], lambda o: [])),
}
json.dump(cases, open("schedulers.json", "w"))
