#!/usr/bin/env bash
# How much the real-logs quality table owes to its one split (issue 14): the same protocol on other template splits
# (`distill loghub --seed N`) — the fine-tuned MiniLM teacher; distilled from it with the recipes of bench/quality.sh,
# the 2x128 tiny BERT (soft labels only) and the BERT cut from the teacher; the seeds teacher (MiniLM fine-tuned with
# seeds 1-3, averaged) and the same two students from it; the same cut BERT distilled from MiniLM +
# the LLM few-shot (equal weights; the LLM's answers for the unlabelled and dev lines in a store of their own, as in
# bench/quality.sh); and the four peers (TF-IDF + LR, fastText, model2vec, SetFit) — one table per seed
# (OUT/sN/quality.md, with the template-resampling interval of bench/quality_table.py), then bench/split_summary.py
# over the seeds. About 40 minutes per seed on 2 cores with the LLM (its answers 19, the cut students 6 each, the
# tiny BERT 1.5, the teacher 2.5, the peers 6), 17 without; every step skipped when its result exists.
#
# Usage: bench/split_seeds.sh DISTILL MINILM_FOLDER PEERS_PYTHONPATH EMBEDDING_PEERS_PYTHONPATH OUT SEED...
#   (the Python folders as `make bench-quality` installs them: .cache/pip/quality-peers, .cache/pip/embedding-peers;
#   QUALITY_LLM: qwen-0.5b (default), qwen-1.5b or none; QUALITY_TEACHER_LR as in bench/quality.sh; SPLIT_SUMMARY_EXTRA: more result folders for the summary,
#   e.g. the bench-quality run of seed 1)
set -euo pipefail
distill=$1 minilm=$2 peers=$3 embedding_peers=$4 out=$5; shift 5
llm=${QUALITY_LLM:-qwen-0.5b} port=18098
source bench/quality_recipe.sh
quality_run_settings "$out"
out=$(cd "$out" && pwd)
server_up=no
stop_server() {
  if [ "$server_up" = yes ]; then bash scripts/llm-server stop $port >/dev/null; fi
  server_up=no
}
trap stop_server EXIT

for seed in "$@"; do
  o=$out/s$seed
  mkdir -p "$o/predictions"
  "$distill" loghub --data data/loghub --out "$o/split" --seed "$seed" >"$o/loghub.txt"
  echo "== seed $seed: $(cat "$o/loghub.txt")"
  if [ ! -f "$o/teacher/model.safetensors" ]; then
    echo "  teacher"
    quality_teacher "$distill" "$minilm" "$o/split" "$o/teacher" 6 >"$o/teacher.log" 2>&1
  fi
  seed_teachers=("$o/teacher")
  for teacher_seed in $quality_teacher_seeds; do
    [ "$teacher_seed" = 1 ] && continue
    if [ ! -f "$o/teacher-seed$teacher_seed/model.safetensors" ]; then
      echo "  teacher, seed $teacher_seed"
      quality_teacher "$distill" "$minilm" "$o/split" "$o/teacher-seed$teacher_seed" 6 "$teacher_seed" >"$o/teacher-seed$teacher_seed.log" 2>&1
    fi
    seed_teachers+=("$o/teacher-seed$teacher_seed")
  done
  minilm_teacher="  - {name: minilm, kind: bert, path: $o/teacher}"
  seed_teachers_yaml=$(quality_seed_teachers "${seed_teachers[@]}")
  students=(tinybert-kd-soft cut-kd tinybert-kd-soft-seeds cut-kd-seeds)
  quality_recipe "$o/tinybert-kd-soft.yaml" "$o/runs/tinybert-kd-soft" "$o/split" "$quality_labels" "$minilm_teacher" "$quality_tiny_bert" 4
  quality_recipe "$o/cut-kd.yaml" "$o/runs/cut-kd" "$o/split" "$quality_labels" "$minilm_teacher" "$quality_cut" 3
  quality_recipe "$o/tinybert-kd-soft-seeds.yaml" "$o/runs/tinybert-kd-soft-seeds" "$o/split" "$quality_labels" "$seed_teachers_yaml" "$quality_tiny_bert" 4
  quality_recipe "$o/cut-kd-seeds.yaml" "$o/runs/cut-kd-seeds" "$o/split" "$quality_labels" "$seed_teachers_yaml" "$quality_cut" 3
  if [ "$llm" != none ]; then
    answers=$o/llm-$llm-few-shot-answers.jsonl
    if [ ! -f "$answers" ]; then
      if [ "$server_up" = no ]; then
        gguf=$(bash scripts/fetch_llm_teachers.sh "$llm" | sed -n "s/^$llm=//p")
        LLAMA_MODEL_OVERRIDE=$gguf bash scripts/llm-server start $port >/dev/null
        server_up=yes
      fi
      for part in unlabelled dev; do
        echo "  $llm few-shot answers: $part lines"
        quality_few_shot_answers "$distill" $port bench/llm_labels.txt "$o/split" $part "$o/llm-$llm-few-shot-$part.jsonl" \
          "$o/llm-$llm-transfer.sqlite" >"$o/llm-$llm-few-shot-$part.log" 2>&1
      done
      cat "$o/llm-$llm-few-shot-unlabelled.jsonl" "$o/llm-$llm-few-shot-dev.jsonl" >"$answers.partial" && mv "$answers.partial" "$answers"
    fi
    quality_recipe "$o/cut-kd-ensemble.yaml" "$o/runs/cut-kd-ensemble" "$o/split" "$quality_labels" \
      "$(quality_ensemble_teachers "$o/teacher" "$llm" "$answers")" "$quality_cut" 3
    students+=(cut-kd-ensemble)
  fi
  stop_server
  for name in "${students[@]}"; do
    if [ ! -f "$o/runs/$name/final/config.json" ]; then
      echo "  student $name"
      "$distill" train --resume --recipe "$o/$name.yaml" >"$o/$name.log" 2>&1
    fi
  done
  for name in teacher "${students[@]}"; do
    model=$o/runs/$name/best; [ -d "$model" ] || model=$o/runs/$name/final
    [ "$name" = teacher ] && model=$o/teacher
    mkdir -p "$o/predictions/$name"
    for test in test-heldout test-seen; do
      "$distill" classify --model "$model" --input "$o/split/$test.jsonl" --field text --cache-size 0 --ignore-decision \
        >"$o/predictions/$name/$test.jsonl" 2>/dev/null
    done
    echo '{}' >"$o/predictions/$name/meta.json"
  done
  mkdir -p "$o/predictions/teacher-seeds"
  for test in test-heldout test-seen; do
    [ -f "$o/predictions/teacher-seeds/$test.jsonl" ] || \
      quality_seed_teacher_answers "$distill" "$o/split/$test.jsonl" "$o/predictions/teacher-seeds/$test.jsonl" "${seed_teachers[@]}"
  done
  echo '{}' >"$o/predictions/teacher-seeds/meta.json"
  [ -f "$o/predictions/fasttext/meta.json" ] || PYTHONPATH="$peers" python3 bench/quality_peers.py "$o/split" "$o/predictions" >"$o/peers.txt" 2>&1
  for peer in model2vec setfit; do
    [ -f "$o/predictions/$peer/meta.json" ] || EMBEDDING_PEERS_ONLY=$peer PYTHONPATH="$embedding_peers" \
      python3 bench/quality_peers_embedding.py "$o/split" "$o/predictions" "$minilm" reduced >>"$o/peers.txt" 2>>"$o/embedding-peers.log"
  done
  p=$o/predictions
  # Row names as in bench/quality.sh's table, so that bench/split_summary.py can read that run beside these.
  ensemble_row=()
  [ "$llm" != none ] && ensemble_row=("BERT cut from the teacher, distilled from MiniLM + $llm few-shot=$p/cut-kd-ensemble:student")
  python3 bench/quality_table.py "$o/split" "$o/quality.md" "fine-tuned MiniLM" "fine-tuned MiniLM=$p/teacher:teacher" \
    "tiny BERT 2x128, distilled (KD, soft labels only)=$p/tinybert-kd-soft:student" "BERT 2x384 cut from the teacher (layers 2, 5), distilled=$p/cut-kd:student" "${ensemble_row[@]}" \
    "fine-tuned MiniLM, 3 seeds (mean)=$p/teacher-seeds:teacher" \
    "tiny BERT 2x128, distilled from 3 MiniLM seeds (soft labels only)=$p/tinybert-kd-soft-seeds:student:fine-tuned MiniLM, 3 seeds (mean)" \
    "BERT cut from the teacher, distilled from 3 MiniLM seeds=$p/cut-kd-seeds:student:fine-tuned MiniLM, 3 seeds (mean)" \
    "TF-IDF + LR (scikit-learn)=$p/tfidf-lr:peer" "fastText=$p/fasttext:peer" \
    "model2vec (static MiniLM + its classifier)=$p/model2vec:peer" "SetFit (MiniLM)=$p/setfit:peer" >/dev/null
  sed -n '/^- Held-out templates/,/^- It keeps/p' "$o/quality.md" | sed 's/^/  /'
done
folders=()
for seed in "$@"; do folders+=("$out/s$seed"); done
python3 bench/split_summary.py ${SPLIT_SUMMARY_EXTRA:-} "${folders[@]}" | tee "$out/summary.md"
