#!/usr/bin/env bash
# Students distilled from two teachers that fail differently (issue 14): the fine-tuned MiniLM and Qwen2.5-Coder-0.5B
# few-shot (the 4 nearest labelled lines in each prompt, one call per template), averaged with equal weights, against
# the same students distilled from MiniLM alone. Same split, teacher fine-tuning, student recipes and table as
# `make bench-quality` (bench/quality.sh), which has these rows too; this script is the shorter run of them alone,
# with the peers when PEERS and EMBEDDING_PEERS name their Python folders (as `make bench-quality` installs them).
#
# Steps (each skipped when its result exists, so a rerun redoes only what is missing): `distill loghub`; the MiniLM
# teacher (`teacher finetune`, 6 epochs); the LLM's answers for the unlabelled and dev lines (llama-server on
# 127.0.0.1:18097, answers kept in OUT/llm.sqlite); four recipes (n-gram bag and BERT cut from the teacher, each from MiniLM alone
# and from the mean of MiniLM and the LLM's answers); predictions on the held-out and seen test files; the peers; the
# table. About 55 minutes on 2 cores (LLM 31 min, the cut students 6 min each, the teacher 7 min, the peers 6 min).
#
# Usage: bench/ensemble_students.sh DISTILL MINILM_FOLDER [OUT]   (QUALITY_LLM: qwen-0.5b (default) or qwen-1.5b)
set -euo pipefail
distill=$1 minilm=$2 out=${3:-runs/ensemble-students}
llm=${QUALITY_LLM:-qwen-0.5b} port=18097
source bench/quality_recipe.sh
labels=$quality_labels
mkdir -p "$out/recipes" "$out/models" "$out/predictions" "$out/logs"
out=$(cd "$out" && pwd)

"$distill" loghub --data data/loghub --out "$out/split" >"$out/logs/loghub.txt"
split=$out/split teacher=$out/teacher answers=$out/llm-$llm-few-shot-answers.jsonl

if [ ! -f "$teacher/model.safetensors" ]; then
  echo "teacher: all-MiniLM-L6-v2 fine-tuned on the labelled lines"
  quality_teacher "$distill" "$minilm" "$split" "$teacher" 6 >"$out/logs/teacher.log" 2>&1
fi

if [ ! -f "$answers" ]; then
  echo "$llm few-shot answers for the unlabelled and dev lines"
  gguf=$(bash scripts/fetch_llm_teachers.sh "$llm" | sed -n "s/^$llm=//p")
  LLAMA_MODEL_OVERRIDE=$gguf bash scripts/llm-server start $port >/dev/null
  trap 'bash scripts/llm-server stop '$port'' EXIT
  cp bench/llm_labels.txt "$out/labels.txt"  # the label descriptions of bench/quality.sh
  for part in unlabelled dev; do
    "$distill" label --teacher "openai:http://127.0.0.1:$port/v1" --labels "$out/labels.txt" --input "$split/$part.jsonl" \
      --examples "$split/labelled.jsonl" --nearest-examples 4 --out "$out/llm-$llm-few-shot-$part.jsonl" --store "$out/llm.sqlite" \
      --concurrency 2 >"$out/logs/llm-$part.log" 2>&1
  done
  cat "$out/llm-$llm-few-shot-unlabelled.jsonl" "$out/llm-$llm-few-shot-dev.jsonl" >"$answers.partial" && mv "$answers.partial" "$answers"
  bash scripts/llm-server stop $port; trap - EXIT
fi

recipe() {  # NAME ENSEMBLE(yes|no) STUDENT EPOCHS
  local teachers="  - {name: minilm, kind: bert, path: $teacher}"
  # Lines the LLM has no answer for (the labelled lines, a rejected question) get MiniLM's alone.
  [ "$2" = yes ] && teachers="  - {name: minilm, kind: bert, path: $teacher, weight: 0.5}
  - {name: $llm, kind: soft-labels, path: $answers, weight: 0.5}"
  quality_recipe "$out/recipes/$1.yaml" "$out/runs/$1" "$split" "$labels" "$teachers" "$3" "$4"
}
bag=$quality_bag cut=$quality_cut
recipe bag-kd no "$bag" 5
recipe bag-kd-ensemble yes "$bag" 5
recipe cut-kd no "$cut" 3
recipe cut-kd-ensemble yes "$cut" 3

for name in bag-kd bag-kd-ensemble cut-kd cut-kd-ensemble; do
  if [ ! -f "$out/runs/$name/final/config.json" ]; then
    echo "student $name"
    t0=$(date +%s.%N)
    "$distill" train --resume --recipe "$out/recipes/$name.yaml" >"$out/logs/$name.log" 2>&1
    awk -v a="$(date +%s.%N)" -v b="$t0" 'BEGIN { printf "%.1f\n", a - b }' >"$out/logs/$name.seconds"
  fi
  shipped=$out/runs/$name/best; [ -d "$shipped" ] || shipped=$out/runs/$name/final
  rm -rf "${out:?}/models/$name" && cp -r "$shipped" "$out/models/$name"
done
rm -rf "${out:?}/models/teacher" && cp -r "$teacher" "$out/models/teacher"

for name in teacher bag-kd bag-kd-ensemble cut-kd cut-kd-ensemble; do
  dir=$out/predictions/$name
  mkdir -p "$dir"
  for test in test-heldout test-seen; do
    "$distill" classify --model "$out/models/$name" --input "$split/$test.jsonl" --field text --cache-size 0 --ignore-decision >"$dir/$test.jsonl"
  done
  bytes=$(du -cb "$out/models/$name"/*.safetensors | tail -1 | cut -f1)
  echo "{\"name\": \"$name\", \"train_seconds\": $(cat "$out/logs/$name.seconds" 2>/dev/null || echo null), \"size_bytes\": $bytes, \"lines_per_second\": null}" \
    >"$dir/meta.json"
done

# The peers of bench/quality.sh on the same labelled lines, when their Python folders are given (PEERS: TF-IDF + LR and
# fastText; EMBEDDING_PEERS: model2vec and SetFit, as `make bench-quality` installs them); skipped when already run.
peer_rows=()
if [ -n "${PEERS:-}" ]; then
  [ -f "$out/predictions/fasttext/meta.json" ] || PYTHONPATH="$PEERS" python3 bench/quality_peers.py "$split" "$out/predictions" >"$out/logs/peers.txt"
  peer_rows+=("TF-IDF + LR (scikit-learn)=$out/predictions/tfidf-lr:peer" "fastText=$out/predictions/fasttext:peer")
fi
if [ -n "${EMBEDDING_PEERS:-}" ]; then
  [ -f "$out/predictions/setfit/meta.json" ] || PYTHONPATH="$EMBEDDING_PEERS" python3 bench/quality_peers_embedding.py "$split" "$out/predictions" \
    "$minilm" reduced >>"$out/logs/peers.txt" 2>"$out/logs/embedding-peers.log"
  peer_rows+=("model2vec (static MiniLM + its classifier)=$out/predictions/model2vec:peer" "SetFit (MiniLM)=$out/predictions/setfit:peer")
fi

p=$out/predictions
python3 bench/quality_table.py "$split" "$out/quality.md" "fine-tuned MiniLM" "fine-tuned MiniLM=$p/teacher:teacher" \
  "bag, distilled from MiniLM=$p/bag-kd:student" "bag, distilled from MiniLM + $llm few-shot=$p/bag-kd-ensemble:student" \
  "BERT cut from the teacher, distilled from MiniLM=$p/cut-kd:student" \
  "BERT cut from the teacher, distilled from MiniLM + $llm few-shot=$p/cut-kd-ensemble:student" "${peer_rows[@]}" >/dev/null
cat "$out/quality.md"
