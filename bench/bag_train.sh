#!/usr/bin/env bash
# The bag-training benchmark of `make bench`: `distill train` of the n-gram bag on real Loghub lines (the labelled
# and unlabelled lines of `distill loghub`, with their gold labels) with sparse and with dense embedding updates
# (AdamW) and with fastText's SGD (`optimizer: sgd`), and fastText on the same prepared lines, epochs and n-gram options. Accuracy on the seen-template and held-out
# test files. One table (bench/bag_train.py).
# Usage: bench/bag_train.sh DISTILL_BINARY OUT_JSON FASTTEXT_PYTHONPATH [EPOCHS]
set -euo pipefail
BIN=$1 OUT=$2 PEERS=$3 EPOCHS=${4:-5}
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
"$BIN" loghub --data data/loghub --out "$WORK/split" > /dev/null
python3 - "$WORK" <<'PY'
import json, pathlib, sys
work = pathlib.Path(sys.argv[1])
rows = [json.loads(l) for f in ["labelled", "unlabelled"] for l in (work / "split" / f"{f}.jsonl").read_text().splitlines()]
(work / "train.jsonl").write_text("".join(json.dumps({"text": r["text"], "label": r.get("label", r.get("gold"))}) + "\n" for r in rows))
for name in ["seen", "heldout"]:
    (work / f"test-{name}.jsonl").write_text((work / "split" / f"test-{name}.jsonl").read_text())
PY
for updates in sparse dense sgd; do
  if [ "$updates" = sgd ]; then optimizer="optimizer: sgd"; else optimizer="embedding_updates: $updates"; fi
  cat > "$WORK/$updates.yaml" <<YAML
labels: [normal, database, network, auth, storage, memory, application, configuration]
data:
  labelled: $WORK/train.jsonl
  dev: $WORK/split/dev.jsonl
student:
  kind: ngram-bag
input: logs
training:
  epochs: $EPOCHS
  batch_size: 32
  $optimizer
seed: 1
output: $WORK/runs/$updates
YAML
  t0=$(date +%s.%N)
  "$BIN" train --recipe "$WORK/$updates.yaml" > "$WORK/$updates.log" 2>&1 || { tail -20 "$WORK/$updates.log" >&2; exit 1; }
  awk -v a="$(date +%s.%N)" -v b="$t0" 'BEGIN { printf "%.2f\n", a - b }' > "$WORK/$updates.seconds"
  for t in seen heldout; do
    "$BIN" eval --model "$WORK/runs/$updates/final" --data "$WORK/test-$t.jsonl" --json "$WORK/$updates-test-$t.json" > /dev/null
  done
done
# fastText reads the text the bag trained on: each line prepared as the student prepares it (input: logs).
for f in train test-seen test-heldout; do
  python3 -c 'import json, sys
for l in open(sys.argv[1]): print(json.loads(l)["text"])' "$WORK/$f.jsonl" > "$WORK/$f.txt"
  "$BIN" prepare --model "$WORK/runs/sparse/final" --input "$WORK/$f.txt" > "$WORK/$f-prepared.jsonl"
done
PYTHONPATH="$PEERS:bench" python3 bench/bag_train.py "$WORK" "$OUT" "$EPOCHS"
