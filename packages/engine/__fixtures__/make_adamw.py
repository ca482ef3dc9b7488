# Produces adamw.json: torch.optim.AdamW and torch.optim.Adam references for packages/engine/src/optim/adamw.test.ts.
# Run with Debian's python3 (torch 1.13): /usr/bin/python3 make_adamw.py
import json, torch
out = {}
for name, cls, kw in [("adamw", torch.optim.AdamW, dict(lr=0.001, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.05)),
                      ("adam", torch.optim.Adam, dict(lr=0.002, betas=(0.8, 0.99), eps=1e-6, weight_decay=0.01))]:
    torch.manual_seed(1)
    p1 = torch.nn.Parameter(torch.randn(3, 4))
    p2 = torch.nn.Parameter(torch.randn(5))
    opt = cls([p1, p2], **kw)
    init = {"p1": p1.detach().flatten().tolist(), "p2": p2.detach().flatten().tolist()}
    steps = []
    lrs = [kw["lr"], kw["lr"] * 0.5, kw["lr"] * 2, kw["lr"]]
    for s in range(4):
        g1 = torch.randn(3, 4) * 3
        g2 = torch.randn(5) * 0.1
        p1.grad = g1.clone(); p2.grad = g2.clone()
        for g in opt.param_groups: g["lr"] = lrs[s]
        opt.step()
        steps.append({"g1": g1.flatten().tolist(), "g2": g2.flatten().tolist(), "lr": lrs[s],
                      "p1": p1.detach().flatten().tolist(), "p2": p2.detach().flatten().tolist()})
    out[name] = {"init": init, "steps": steps, "betas": list(kw["betas"]), "eps": kw["eps"], "weight_decay": kw["weight_decay"]}
json.dump(out, open("adamw.json", "w"))
