#!/usr/bin/env python3
"""Reference forward pass of a BERT checkpoint (all-MiniLM-L6-v2) in float64 numpy.

Reads config.json + model.safetensors with a plain numpy safetensors reader, tokenizes with the Hugging Face
`tokenizers` library from tokenizer.json, and writes, for each input sentence (run unpadded, one at a time):
token ids, every layer's hidden states (embedding output + 6 layers) and the mean-pooled embedding.

Usage: minilm_reference.py MODEL_DIR OUT_DIR
Output: OUT_DIR/minilm_reference.json (ids, shapes, pooled embeddings) and
        OUT_DIR/minilm_reference.safetensors (hidden states, F32, keys "s{i}.layer{l}").
"""
import json
import os
import struct
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from bert_numpy import encoder_states, load_checkpoint  # noqa: E402

SENTENCES = [
    "Connection refused while connecting to upstream database at 10.0.3.17:5432",
    "kubelet: Liveness probe failed for pod payments-7f9c8d6b5-x2k4q: HTTP probe failed with statuscode: 503",
    "ERROR 1045 (28000): Access denied for user 'app'@'172.16.4.2' (using password: YES)",
    "disk /dev/sda1 is 97% full",
    "Out of memory: Killed process 4242 (java) total-vm:8388608kB",
    "GET /api/v1/orders?id=123 HTTP/1.1 200 512 0.004",
    "ok",
    "User alice logged in successfully from 192.168.1.20",
    "java.lang.NullPointerException: Cannot invoke \"String.length()\" because \"s\" is null",
    "Redis connection timeout after 5000ms, retrying (attempt 3/5)",
    "Café déjà vu — naïve résumé",
    "日志服务 连接 超时",
    "TLS handshake error from 10.1.2.3:44312: remote error: tls: bad certificate",
    "kafka: Leader not available for partition orders-3",
    "Traceback (most recent call last): File \"/app/main.py\", line 42, in <module>",
    "The quick brown fox jumps over the lazy dog",
    "systemd[1]: Started Session 42 of user root.",
    "nginx: [error] 1234#0: *5 upstream timed out (110: Connection timed out) while reading response header",
    "0x7ffd5e8c3a10 deadbeef cafebabe",
    "PostgreSQL: FATAL:  remaining connection slots are reserved for non-replication superuser connections",
    "A very long line " + "with many repeated words " * 12,
    "🔥 alert: cpu usage 99.9% on node-17",
]


def save_safetensors(path, tensors):
    header, offset, blobs = {}, 0, []
    for name in sorted(tensors):
        arr = np.ascontiguousarray(tensors[name], dtype=np.float32)
        b = arr.tobytes()
        header[name] = {"dtype": "F32", "shape": list(arr.shape), "data_offsets": [offset, offset + len(b)]}
        offset += len(b)
        blobs.append(b)
    h = json.dumps(header).encode()
    h += b" " * ((8 - (8 + len(h)) % 8) % 8)
    with open(path, "wb") as fh:
        fh.write(struct.pack("<Q", len(h)))
        fh.write(h)
        for b in blobs:
            fh.write(b)


def main():
    model_dir, out_dir = sys.argv[1], sys.argv[2]
    os.makedirs(out_dir, exist_ok=True)
    cfg, weights, tok = load_checkpoint(model_dir)
    cases, tensors = [], {}
    for i, text in enumerate(SENTENCES):
        ids = tok.encode(text).ids
        states = encoder_states(weights, cfg, ids)
        pooled = states[-1].mean(0)
        for l, st in enumerate(states):
            tensors[f"s{i}.layer{l}"] = st
        cases.append({"text": text, "ids": ids, "pooled": pooled.tolist()})
    save_safetensors(os.path.join(out_dir, "minilm_reference.safetensors"), tensors)
    with open(os.path.join(out_dir, "minilm_reference.json"), "w") as fh:
        json.dump({"generator": "scripts/minilm_reference.py", "layers": cfg["num_hidden_layers"] + 1, "cases": cases}, fh)
    print(f"minilm_reference: {len(cases)} sentences -> {out_dir}")


if __name__ == "__main__":
    main()
