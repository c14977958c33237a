#!/usr/bin/env bash
# How much the real-logs quality table owes to its one split (issue 14): the same protocol on other template splits
# (`distill loghub --seed N`), without the LLM — the fine-tuned MiniLM teacher, the BERT cut from it and distilled
# (the recipe of bench/quality.sh), TF-IDF + LR, fastText and model2vec — one table per seed (OUT/sN/quality.md,
# with the template-resampling interval of bench/quality_table.py). About 10 minutes per seed on 2 cores; every step
# skipped when its result exists.
#
# Usage: bench/split_seeds.sh DISTILL MINILM_FOLDER PEERS_PYTHONPATH EMBEDDING_PEERS_PYTHONPATH OUT SEED...
#   (the Python folders as `make bench-quality` installs them: .cache/pip/quality-peers, .cache/pip/embedding-peers)
set -euo pipefail
distill=$1 minilm=$2 peers=$3 embedding_peers=$4 out=$5; shift 5
source bench/quality_recipe.sh
mkdir -p "$out" && out=$(cd "$out" && pwd)
for seed in "$@"; do
  o=$out/s$seed
  mkdir -p "$o/predictions"
  "$distill" loghub --data data/loghub --out "$o/split" --seed "$seed" >"$o/loghub.txt"
  if [ ! -f "$o/teacher/model.safetensors" ]; then
    quality_teacher "$distill" "$minilm" "$o/split" "$o/teacher" 6 >"$o/teacher.log" 2>&1
  fi
  quality_recipe "$o/cut-kd.yaml" "$o/runs/cut-kd" "$o/split" "$quality_labels" "  - {name: minilm, kind: bert, path: $o/teacher}" "$quality_cut" 3
  [ -f "$o/runs/cut-kd/final/config.json" ] || "$distill" train --resume --recipe "$o/cut-kd.yaml" >"$o/cut-kd.log" 2>&1
  student=$o/runs/cut-kd/best; [ -d "$student" ] || student=$o/runs/cut-kd/final
  for name in teacher cut-kd; do
    model=$student; [ "$name" = teacher ] && model=$o/teacher
    mkdir -p "$o/predictions/$name"
    for test in test-heldout test-seen; do
      "$distill" classify --model "$model" --input "$o/split/$test.jsonl" --field text --cache-size 0 --ignore-decision \
        >"$o/predictions/$name/$test.jsonl" 2>/dev/null
    done
    echo '{}' >"$o/predictions/$name/meta.json"
  done
  [ -f "$o/predictions/fasttext/meta.json" ] || PYTHONPATH="$peers" python3 bench/quality_peers.py "$o/split" "$o/predictions" >"$o/peers.txt" 2>&1
  [ -f "$o/predictions/model2vec/meta.json" ] || EMBEDDING_PEERS_ONLY=model2vec PYTHONPATH="$embedding_peers" \
    python3 bench/quality_peers_embedding.py "$o/split" "$o/predictions" "$minilm" reduced >>"$o/peers.txt" 2>"$o/embedding-peers.log"
  p=$o/predictions
  python3 bench/quality_table.py "$o/split" "$o/quality.md" "fine-tuned MiniLM" "fine-tuned MiniLM=$p/teacher:teacher" \
    "BERT cut from the teacher, distilled=$p/cut-kd:student" "TF-IDF + LR (scikit-learn)=$p/tfidf-lr:peer" "fastText=$p/fasttext:peer" \
    "model2vec (static MiniLM + its classifier)=$p/model2vec:peer" >/dev/null
  echo "== seed $seed: $(cat "$o/loghub.txt")"
  cat "$o/quality.md"
done
