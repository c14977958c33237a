#!/usr/bin/env bash
# The million-line row of `make bench`: `distill train` of an n-gram bag distilled from a small BERT teacher on
# 1,000,000 unlabelled log lines (`distill generate-logs`: 14 sources, fresh variable values on every line), with
# identical prepared texts merged (the default, `training.duplicates: merge`), against the same recipe on the
# distinct texts alone (one raw line each) and, for scale, on the first 100,000 lines with every line kept
# (`duplicates: keep`). Wall time and peak RSS (/usr/bin/time) per run; one JSON object for the bench table.
# Usage: bench/million_lines.sh DISTILL_BINARY OUT_JSON [LINES]
set -euo pipefail
BIN=$(cd "$(dirname "$1")" && pwd)/$(basename "$1") OUT=$(mkdir -p "$(dirname "$2")" && cd "$(dirname "$2")" && pwd)/$(basename "$2") LINES=${3:-1000000}
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
cd "$WORK"
"$BIN" generate-logs --out all.jsonl --lines "$LINES" --seed 11 --held-out 0 > /dev/null
"$BIN" generate-logs --out labelled.jsonl --lines 2000 --seed 12 --held-out 0 > /dev/null
"$BIN" generate-logs --out dev.jsonl --lines 500 --seed 13 --held-out 0 > /dev/null
labels="[normal, database, network, auth, storage, memory, application, configuration]"

# The teacher: a 2x64 BERT trained on the 2,000 labelled lines.
cat > teacher.yaml <<YAML
labels: $labels
data: {labelled: labelled.jsonl, dev: dev.jsonl}
student: {kind: bert, layers: 2, hidden: 64, heads: 2, intermediate: 256, vocab_size: 4000, max_length: 48}
input: logs
training: {epochs: 3, batch_size: 32}
seed: 1
output: teacher
YAML
"$BIN" train --recipe teacher.yaml > teacher.log 2>&1 || { tail -20 teacher.log >&2; exit 1; }

run() {  # NAME UNLABELLED DUPLICATES
  cat > "$1.yaml" <<YAML
labels: $labels
data: {labelled: labelled.jsonl, unlabelled: $2, dev: dev.jsonl}
teachers: [{name: bert, kind: bert, path: teacher/final}]
student: {kind: ngram-bag}
input: logs
training: {epochs: 3, batch_size: 32, duplicates: $3}
seed: 1
output: run-$1
YAML
  /usr/bin/time -f '%e %M' -o "$1.time" "$BIN" train --recipe "$1.yaml" > "$1.log" 2>&1 || { tail -20 "$1.log" >&2; exit 1; }
}
run million all.jsonl merge
# The distinct texts alone: each prepared text once, as its first raw line (what the merged run trains on).
python3 -c '
import json
with open("all.jsonl") as f, open("raw.txt", "w") as out:
    for l in f: out.write(json.loads(l)["text"].replace("\n", " ") + "\n")
'
"$BIN" prepare --model run-million/final --input raw.txt > prepared.jsonl
python3 -c '
import json
seen = set()
with open("raw.txt") as raw, open("prepared.jsonl") as prepared, open("distinct.jsonl", "w") as out:
    for r, p in zip(raw, prepared):
        t = json.loads(p)["text"]
        if t not in seen:
            seen.add(t); out.write(json.dumps({"text": r.rstrip("\n")}) + "\n")
'
run distinct distinct.jsonl merge
head -n 100000 all.jsonl > first-100k.jsonl
run keep-100k first-100k.jsonl keep
python3 - "$OUT" "$LINES" <<'PY'
import json, re, sys
out, lines = sys.argv[1], int(sys.argv[2])
rows = {}
for name, count in [("million", lines), ("distinct", None), ("keep-100k", 100000)]:
    seconds, rss_kb = open(f"{name}.time").read().split()
    log = open(f"{name}.log").read()
    m = re.search(r"training: (\d+) distinct examples for (\d+) lines", log)
    d = re.search(r"\((\d+) distinct texts\)", log)
    steps = re.findall(r"step (\d+)/(\d+)", log)
    rows[name] = {"lines": int(m.group(2)) if m else count, "examples": int(m.group(1)) if m else None,
                  "distinct_unlabelled": int(d.group(1)) if d else None, "seconds": float(seconds), "peak_rss_mb": int(rss_kb) / 1024,
                  "steps": int(steps[-1][1]) if steps else None}
json.dump(rows, open(out, "w"), indent=1)
base = rows["distinct"]["seconds"]
titles = {"million": f"{lines:,} unlabelled lines, duplicates merged", "distinct": "their distinct texts alone (one raw line each)",
          "keep-100k": "the first 100,000 lines, every line kept"}
print("| run | lines | examples trained | optimizer steps | wall s | vs distinct alone | peak RSS MB |")
print("|---|---|---|---|---|---|---|")
for k, r in rows.items():
    print(f"| {titles[k]} | {r['lines']:,} | {r['examples'] or r['lines']:,} | {r['steps']:,} | {r['seconds']:.1f} | "
          f"{r['seconds'] / base:.2f}x | {r['peak_rss_mb']:.0f} |")
PY
