#!/usr/bin/env bash
# Where the tiny BERT training step's time goes in Distill (issue 17): `perf record` of `distill bench --only train`
# (60 steps, so the set-up's random tensors weigh little), its samples grouped by what the symbols do. Needs `perf`
# (Debian: linux-perf) and permission to sample the process. Usage: bench/train_profile.sh DISTILL_BINARY
set -euo pipefail
BIN=$1
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
perf record -F 999 -e cpu-clock -g -o "$WORK/perf.data" "$BIN" bench --only train --trials 60 > "$WORK/bench.txt" 2>&1
grep -E "^Distill " "$WORK/bench.txt" || true
perf report -i "$WORK/perf.data" --no-children --sort symbol -g none 2>/dev/null | { grep -v "^#" || true; } | { grep "%" || true; } > "$WORK/symbols.txt"
python3 - "$WORK/symbols.txt" <<'PY'
import re, sys
groups = [
    ("set-up: random initial weights and teacher outputs", r"randomNormal|__cos_fma|__ieee754_log_fma"),
    ("matrix products (OpenBLAS sgemm and its packing)", r"sgemm|gemm_"),
    ("element-wise ops, broadcasting, reductions, copies", r"binary|vAdd|vScale|vAxpy|vMap|stridedCopy|sum_4axes|unary|scale_|shift_|Broadcast"),
    ("dropout (random numbers and masks)", r"dropout|RandomGenerator"),
    ("softmax, exp, log (attention and the losses)", r"simdExp|softmax|attentionProbabilities|expShifted|logf|__exp|log_"),
    ("memory: zeroing, page faults, malloc, memmove", r"memset|clear_page|malloc|free|memmove|page_fault|Pool|mmap|folio"),
    ("AdamW and gradient clipping", r"AdamW|globalNorm|Gradients"),
    ("GELU", r"gelu"),
    ("LayerNorm", r"layerNorm"),
    ("threads: wake-ups and yields", r"sched|yield|futex|spin|dispatch|switch"),
]
share = {name: 0.0 for name, _ in groups}
other = 0.0
for line in open(sys.argv[1]):
    m = re.match(r"\s*([\d.]+)%\s+\[.\]\s+(\S+)", line)
    if not m:
        continue
    p, symbol = float(m.group(1)), m.group(2)
    for name, pattern in groups:
        if re.search(pattern, symbol):
            share[name] += p
            break
    else:
        other += p
setup = share.pop(groups[0][0])
step = 100 - setup
print(f"\nCPU samples of the training steps by group (set-up excluded: {setup:.1f}% of all samples)\n")
print("| group | share of the step's CPU samples |\n|---|---|")
for name, p in sorted(share.items(), key=lambda kv: -kv[1]):
    print(f"| {name} | {100 * p / step:.1f}% |")
print(f"| other | {100 * other / step:.1f}% |")
PY
