#!/usr/bin/env python3
"""numpy matmul GFLOP/s for the engine benchmark's shapes; prints JSON for `distill bench --peers`.

Same protocol as the Swift side: one warm-up call, then the median over TRIALS trials of the mean time per
call, each trial at least 0.2 s. Runs with numpy's own BLAS and thread settings.
"""
import json
import sys
import time

import numpy as np

TRIALS = int(sys.argv[1]) if len(sys.argv) > 1 else 5
SHAPES = {"512,512,512": (1, 512, 512, 512), "2048,384,384": (1, 2048, 384, 384), "64x32,128,512": (64, 32, 128, 512)}


def median_seconds(fn):
    fn()
    samples = []
    for _ in range(TRIALS):
        calls, start = 0, time.perf_counter()
        while True:
            fn()
            calls += 1
            elapsed = time.perf_counter() - start
            if elapsed >= 0.2:
                break
        samples.append(elapsed / calls)
    return sorted(samples)[len(samples) // 2]


rng = np.random.default_rng(1)
result = {}
for key, (batch, m, k, n) in SHAPES.items():
    a = rng.standard_normal((batch, m, k) if batch > 1 else (m, k), dtype=np.float32)
    b = rng.standard_normal((k, n), dtype=np.float32)
    result[key] = 2 * batch * m * k * n / median_seconds(lambda: a @ b) / 1e9

blas = None
try:
    cfg = np.show_config(mode="dicts")
    info = cfg.get("Build Dependencies", {}).get("blas", {})
    blas = f"{info.get('name', '?')} {info.get('version', '')}".strip()
except Exception:
    pass
print(json.dumps({"numpy": {"version": np.__version__, "blas": blas, "gflops": result}}))
