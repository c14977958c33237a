#!/usr/bin/env python3
"""PyTorch CPU peer for `distill bench`: all-MiniLM-L6-v2 forward throughput, batch 32 x seq 64.

Builds the BERT encoder from the same model.safetensors with torch ops (eager, like Hugging Face's
BertModel), runs under torch.inference_mode with as many threads as Distill uses, on the same token ids
(a fixed formula both sides use). Prints JSON for `distill bench --peers`.
Usage: torch_minilm.py MODEL_DIR THREADS TRIALS
"""
import json
import math
import os
import sys
import time

import torch
import torch.nn.functional as F
from safetensors.torch import load_file

model_dir, threads, trials = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
torch.set_num_threads(threads)
cfg = json.load(open(os.path.join(model_dir, "config.json")))
w = load_file(os.path.join(model_dir, "model.safetensors"))
B, S, H = 32, 64, cfg["hidden_size"]
heads, eps = cfg["num_attention_heads"], cfg["layer_norm_eps"]
ids = torch.tensor([[(b * 7919 + s * 104729) % 29000 + 1000 for s in range(S)] for b in range(B)])
mask = torch.zeros(B, 1, 1, S)


def forward(ids):
    h = w["embeddings.word_embeddings.weight"][ids] + w["embeddings.position_embeddings.weight"][:S] \
        + w["embeddings.token_type_embeddings.weight"][0]
    h = F.layer_norm(h, (H,), w["embeddings.LayerNorm.weight"], w["embeddings.LayerNorm.bias"], eps)
    for i in range(cfg["num_hidden_layers"]):
        p = f"encoder.layer.{i}."
        lin = lambda x, n: F.linear(x, w[p + n + ".weight"], w[p + n + ".bias"])
        split = lambda t: t.view(B, S, heads, H // heads).transpose(1, 2)
        q, k, v = split(lin(h, "attention.self.query")), split(lin(h, "attention.self.key")), split(lin(h, "attention.self.value"))
        probs = torch.softmax(q @ k.transpose(-1, -2) / math.sqrt(H // heads) + mask, dim=-1)
        ctx = (probs @ v).transpose(1, 2).reshape(B, S, H)
        a = F.layer_norm(lin(ctx, "attention.output.dense") + h, (H,), w[p + "attention.output.LayerNorm.weight"],
                         w[p + "attention.output.LayerNorm.bias"], eps)
        h = F.layer_norm(lin(F.gelu(lin(a, "intermediate.dense")), "output.dense") + a, (H,),
                         w[p + "output.LayerNorm.weight"], w[p + "output.LayerNorm.bias"], eps)
    return h


with torch.inference_mode():
    forward(ids)
    samples = []
    for _ in range(trials):
        start = time.perf_counter()
        forward(ids)
        samples.append(time.perf_counter() - start)
seconds = sorted(samples)[len(samples) // 2]
print(json.dumps({"torch": {"version": torch.__version__, "threads": torch.get_num_threads(),
                            "minilm_seconds_per_batch": seconds, "minilm_sentences_per_second": B / seconds}}))
