"""The files every peer of the real-logs quality benchmark reads and writes (bench/quality_peers*.py).

- `read(split, name)`: the rows of SPLIT/NAME.jsonl (`distill loghub` output).
- `Predictions(split, out).write(peer, predict, seconds, size, version)`: runs `predict` (a list of raw lines ->
  a list of labels) on both test files, writing OUT/<peer>/<test>.jsonl ({"label": ...} per line, in order) and
  OUT/<peer>/meta.json (training seconds, size on disk, lines/s on the held-out file).
"""
import json
import os
import time

TESTS = ["test-heldout", "test-seen"]


def read(split, name):
    return [json.loads(line) for line in open(os.path.join(split, name + ".jsonl"), encoding="utf-8")]


class Predictions:
    def __init__(self, split, out):
        self.out = out
        self.tests = {t: read(split, t) for t in TESTS}

    def write(self, peer, predict, seconds, size, version):
        folder = os.path.join(self.out, peer)
        os.makedirs(folder, exist_ok=True)
        rate = None
        for t, rows in self.tests.items():
            texts = [r["text"] for r in rows]
            start = time.perf_counter()
            labels = predict(texts)
            elapsed = time.perf_counter() - start
            if t == "test-heldout":
                rate = len(texts) / elapsed
            with open(os.path.join(folder, t + ".jsonl"), "w", encoding="utf-8") as f:
                for label in labels:
                    f.write(json.dumps({"label": str(label)}) + "\n")
        json.dump({"name": peer, "version": version, "train_seconds": seconds, "size_bytes": size, "lines_per_second": rate},
                  open(os.path.join(folder, "meta.json"), "w"), indent=1)
        print(f"{peer}: trained in {seconds:.1f} s, {size} bytes, {rate:.0f} lines/s", flush=True)
