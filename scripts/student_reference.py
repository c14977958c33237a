#!/usr/bin/env python3
"""Reads a student folder saved by Distill with the `safetensors` package's numpy loader and prints its
logits, so tests can check that what Distill writes is what other tools read.

Usage: student_reference.py FOLDER < request.json
  BERT students:  {"ids": [[101, ..., 102], ...]}                  (unpadded token ids per text)
  n-gram bag:     {"indices": [...], "offsets": [...]}             (featurized batch)
Prints {"logits": [[...], ...]}.
"""
import json
import os
import sys

import numpy as np
from safetensors.numpy import load_file

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from bert_numpy import classifier_logits  # noqa: E402

folder = sys.argv[1]
cfg = json.load(open(os.path.join(folder, "config.json")))
w = load_file(os.path.join(folder, "model.safetensors"))
# int8 students (`distill quantize`): weight = int8 values x the per-row F32 scale stored beside them.
for name in [k for k in w if k.endswith(".int8_scale")]:
    base = name[: -len(".int8_scale")]
    w[base] = w[base].astype(np.float32) * w.pop(name)[:, None]
request = json.load(sys.stdin)
if cfg["model_type"] == "bert":
    logits = [classifier_logits(w, cfg, ids).tolist() for ids in request["ids"]]
elif cfg["model_type"] == "distill-ngram-bag":
    idx, off = request["indices"], request["offsets"] + [len(request["indices"])]
    table = w["embeddings.weight"].astype(np.float64)
    logits = []
    for b in range(len(request["offsets"])):
        rows = idx[off[b]:off[b + 1]]
        x = table[rows].mean(0) if rows else np.zeros(table.shape[1])
        if "hidden.weight" in w:
            x = np.maximum(x @ w["hidden.weight"].T + w["hidden.bias"], 0)
        logits.append((x @ w["classifier.weight"].T + w["classifier.bias"]).tolist())
else:
    sys.exit(f"unknown model_type {cfg['model_type']}")
print(json.dumps({"logits": logits}))
