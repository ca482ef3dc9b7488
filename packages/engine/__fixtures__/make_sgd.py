# Produces sgd.json: torch.optim.SGD + clip_grad_norm_ reference for packages/engine/src/optim/sgd.test.ts.
# Run with Debian's python3 (torch 1.13): /usr/bin/python3 make_sgd.py
import json, torch
torch.manual_seed(0)
p1 = torch.nn.Parameter(torch.randn(3, 4))
p2 = torch.nn.Parameter(torch.randn(5))
opt = torch.optim.SGD([p1, p2], lr=0.01, momentum=0.9, weight_decay=1e-4)
init = {"p1": p1.detach().flatten().tolist(), "p2": p2.detach().flatten().tolist()}
steps = []
lrs = [0.01, 0.005, 0.02]
for s in range(3):
    g1 = torch.randn(3, 4) * 3
    g2 = torch.randn(5) * 3
    p1.grad = g1.clone(); p2.grad = g2.clone()
    total = torch.nn.utils.clip_grad_norm_([p1, p2], max_norm=2.0, norm_type=2)
    for g in opt.param_groups: g["lr"] = lrs[s]
    opt.step()
    steps.append({"g1": g1.flatten().tolist(), "g2": g2.flatten().tolist(), "lr": lrs[s], "total_norm": float(total),
                  "p1": p1.detach().flatten().tolist(), "p2": p2.detach().flatten().tolist()})
json.dump({"init": init, "steps": steps, "momentum": 0.9, "weight_decay": 1e-4, "max_norm": 2.0}, open("sgd.json", "w"))
