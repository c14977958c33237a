#!/usr/bin/env python3
"""PyTorch CPU peer for `distill bench`: training throughput of a tiny BERT student (2 layers x 128, 2 heads,
FFN 512, vocab 30522) at batch 64 x seq 48 with soft (KD, T=2) + hidden-state (MSE through 128->384
projections, 2 mapped layers) + attention (KL, 12 teacher heads grouped onto 2) losses against stored outputs of
a 6x384 teacher, AdamW, dropout 0.1 — the same model, losses and shapes as Distill's "train" section.
Usage: torch_train.py THREADS STEPS. Prints JSON for `distill bench --peers`: the time per step, and from the same
steps run again under torch.profiler, the share of the matrix products and the operators that take the most time.
"""
import json
import math
import sys
import time

import torch
import torch.nn as nn
import torch.nn.functional as F

threads, steps = int(sys.argv[1]), int(sys.argv[2])
torch.set_num_threads(threads)
torch.manual_seed(0)
V, H, L, NH, FF, C, B, S, TH, TNH = 30522, 128, 2, 2, 512, 6, 64, 48, 384, 12


class Layer(nn.Module):
    def __init__(self):
        super().__init__()
        self.q, self.k, self.v, self.o = (nn.Linear(H, H) for _ in range(4))
        self.ln1, self.ln2 = nn.LayerNorm(H, eps=1e-12), nn.LayerNorm(H, eps=1e-12)
        self.ff1, self.ff2 = nn.Linear(H, FF), nn.Linear(FF, H)

    def forward(self, x, mask):
        split = lambda t: t.view(B, S, NH, H // NH).transpose(1, 2)
        q, k, v = split(self.q(x)), split(self.k(x)), split(self.v(x))
        probs = torch.softmax(q @ k.transpose(-1, -2) / math.sqrt(H // NH) + mask, dim=-1)
        ctx = (F.dropout(probs, 0.1, True) @ v).transpose(1, 2).reshape(B, S, H)
        a = self.ln1(F.dropout(self.o(ctx), 0.1, True) + x)
        return self.ln2(F.dropout(self.ff2(F.gelu(self.ff1(a))), 0.1, True) + a), probs


class Student(nn.Module):
    def __init__(self):
        super().__init__()
        self.word, self.pos, self.typ = nn.Embedding(V, H), nn.Embedding(64, H), nn.Embedding(2, H)
        self.ln = nn.LayerNorm(H, eps=1e-12)
        self.layers = nn.ModuleList(Layer() for _ in range(L))
        self.cls = nn.Linear(H, C)
        self.proj = nn.ModuleList(nn.Linear(H, TH) for _ in range(L))

    def forward(self, ids, mask):
        x = F.dropout(self.ln(self.word(ids) + self.pos.weight[:S] + self.typ.weight[0]), 0.1, True)
        hidden, attn = [], []
        for layer in self.layers:
            x, p = layer(x, mask)
            hidden.append(x)
            attn.append(p)
        return self.cls(x.mean(1)), hidden, attn


model = Student()
opt = torch.optim.AdamW(model.parameters(), lr=5e-4, weight_decay=0.01)
ids = torch.randint(1000, 29000, (B, S))
mask = torch.zeros(B, 1, 1, S)
teacher_probs = torch.softmax(torch.randn(B, C), -1)
teacher_hidden = [torch.randn(B, S, TH) for _ in range(L)]
teacher_attn = [torch.softmax(torch.randn(B, TNH, S, S), -1).view(B, NH, TNH // NH, S, S).mean(2) for _ in range(L)]
T = 2.0


def step():
    logits, hidden, attn = model(ids, mask)
    soft = F.kl_div(F.log_softmax(logits / T, -1), teacher_probs.pow(1 / T) / teacher_probs.pow(1 / T).sum(-1, keepdim=True),
                    reduction="batchmean") * T * T
    loss = soft
    for i in range(L):
        loss = loss + F.mse_loss(model.proj[i](hidden[i]), teacher_hidden[i])
        t = teacher_attn[i]
        loss = loss + (t * (torch.log(t) - torch.log(attn[i] + 1e-12))).sum(-1).mean()
    opt.zero_grad(set_to_none=True)
    loss.backward()
    torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
    opt.step()


for _ in range(2):
    step()
start = time.perf_counter()
for _ in range(steps):
    step()
seconds = (time.perf_counter() - start) / steps

# Where the step's time goes: the same steps again under torch.profiler, the self time of the matrix products
# (aten::mm, addmm, bmm: wall time on the calling thread, as Distill's BLAS counters) as a share of the profiled
# step, applied to the unprofiled step.
from torch.profiler import ProfilerActivity, profile

start = time.perf_counter()
with profile(activities=[ProfilerActivity.CPU]) as prof:
    for _ in range(steps):
        step()
profiled = (time.perf_counter() - start) / steps
ops = {e.key: e.self_cpu_time_total / 1e6 / steps for e in prof.key_averages()}
gemm = sum(v for k, v in ops.items() if k in ("aten::mm", "aten::addmm", "aten::bmm"))
top = sorted(ops.items(), key=lambda kv: -kv[1])[:8]
print(json.dumps({"torch_train": {"version": torch.__version__, "threads": torch.get_num_threads(),
                                  "seconds_per_step": seconds, "examples_per_second": B / seconds,
                                  "gemm_seconds_per_step": gemm / profiled * seconds,
                                  "top_ops": [{"op": k, "share": v / profiled} for k, v in top]}}))
