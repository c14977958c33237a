#!/usr/bin/env bash
# The bag-training benchmark of `make bench`: `distill train` of the n-gram bag on real Loghub lines (the labelled
# and unlabelled lines of `distill loghub`, with their gold labels) with sparse and with dense embedding updates
# (AdamW) and with fastText's SGD (`optimizer: sgd`), and fastText on the same prepared lines, epochs and n-gram
# options. Accuracy on the seen-template and held-out test files. The sparse and SGD runs and fastText are repeated
# TRIALS times, interleaved (this shared machine moves a run's speed by tens of percent from one minute to the
# next): the table gives medians and the ratio of each trial to the fastText run beside it. One table
# (bench/bag_train.py).
# Usage: bench/bag_train.sh DISTILL_BINARY OUT_JSON FASTTEXT_PYTHONPATH [EPOCHS] [TRIALS]
set -euo pipefail
BIN=$1 OUT=$2 PEERS=$3 EPOCHS=${4:-5} TRIALS=${5:-3}
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
done

# One `distill train` of recipe $1 as trial $2: its log and wall seconds; the first trial's model is evaluated.
train() {
  local updates=$1 trial=$2 t0
  t0=$(date +%s.%N)
  "$BIN" train --restart --recipe "$WORK/$updates.yaml" > "$WORK/$updates-$trial.log" 2>&1 || { tail -20 "$WORK/$updates-$trial.log" >&2; exit 1; }
  awk -v a="$(date +%s.%N)" -v b="$t0" 'BEGIN { printf "%.2f\n", a - b }' > "$WORK/$updates-$trial.seconds"
  if [ "$trial" = 1 ]; then
    for t in seen heldout; do
      "$BIN" eval --model "$WORK/runs/$updates/final" --data "$WORK/test-$t.jsonl" --json "$WORK/$updates-test-$t.json" > /dev/null
    done
  fi
}

for trial in $(seq 1 "$TRIALS"); do
  train sparse "$trial"
  if [ "$trial" = 1 ]; then
    # Dense AdamW is 20-50x slower: one trial. fastText reads the text the bag trained on: each line prepared as
    # the student prepares it (input: logs).
    train dense 1
    for f in train test-seen test-heldout; do
      python3 -c 'import json, sys
for l in open(sys.argv[1]): print(json.loads(l)["text"])' "$WORK/$f.jsonl" > "$WORK/$f.txt"
      "$BIN" prepare --model "$WORK/runs/sparse/final" --input "$WORK/$f.txt" > "$WORK/$f-prepared.jsonl"
    done
  fi
  PYTHONPATH="$PEERS:bench" python3 bench/bag_train.py fasttext "$WORK" "$EPOCHS" "$trial"
  train sgd "$trial"
done
PYTHONPATH="$PEERS:bench" python3 bench/bag_train.py table "$WORK" "$EPOCHS" "$TRIALS" "$OUT"
