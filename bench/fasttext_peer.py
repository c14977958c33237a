"""fastText peer for the edge table of `make bench`: trained on the demo's data/train.jsonl (the hand-labelled
real log lines of its split: what a user without Distill trains on), scored on the demo's held-out lines
(data/heldout.jsonl: templates no model saw), timed on the same stream files as `distill classify`. fastText reads the raw stream lines (it does no log normalization: less work than
Distill does per line). Prints and writes one JSON object.

Usage: python3 bench/fasttext_peer.py DEMO_DIR STREAM_REALISTIC STREAM_UNIQUE OUT_JSON
"""
import json
import os
import sys
import time

import fasttext_train

demo, realistic_path, unique_path, out_path = sys.argv[1:5]
train = [json.loads(l) for l in open(os.path.join(demo, "data/train.jsonl"), encoding="utf-8")]
heldout = [json.loads(l) for l in open(os.path.join(demo, "data/heldout.jsonl"), encoding="utf-8")]
clean = fasttext_train.clean
# The bag student's shape: 32-dim embeddings, 32,768 hash buckets, word bigrams, character 3-5-grams.
model, size, _ = fasttext_train.train(train, dim=32, bucket=32768, wordNgrams=2, minn=3, maxn=5, epoch=25, lr=0.5, thread=2, seed=1)

predicted = model.predict([clean(e["text"]) for e in heldout], k=1)[0]
accuracy = sum(p[0] == "__label__" + e["label"] for p, e in zip(predicted, heldout)) / len(heldout)
realistic = open(realistic_path, encoding="utf-8").read().split("\n")[:-1]
unique = open(unique_path, encoding="utf-8").read().split("\n")[:-1]
latencies = []
for line in unique[:2000]:
    t = time.perf_counter()
    model.predict(line, k=1)
    latencies.append((time.perf_counter() - t) * 1e3)
latencies.sort()


def stream(lines):
    best = float("inf")
    for _ in range(3):
        t = time.perf_counter()
        for s in range(0, len(lines), 256):
            model.predict(lines[s:s + 256], k=3)
        best = min(best, time.perf_counter() - t)
    return best


result = {"name": "fastText", "version": "fasttext-wheel 0.9.2", "accuracy": accuracy, "size_bytes": size,
          "single_p50_ms": latencies[len(latencies) // 2], "single_p99_ms": latencies[len(latencies) * 99 // 100],
          "realistic_seconds": stream(realistic), "unique_seconds": stream(unique)}
json.dump(result, open(out_path, "w"), indent=1)
print(json.dumps(result))
