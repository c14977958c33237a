#!/usr/bin/env bash
# The real-logs quality benchmark (`make bench-quality`): on the committed Loghub samples (data/loghub), the
# real-logs protocol of `distill loghub` — whole templates held out, at most 2 hand-labelled lines per training
# template, the rest unlabelled — and, in one run, the fine-tuned MiniLM teacher, an LLM teacher zero- and few-shot
# and each averaged with MiniLM, Distill's students (n-gram bag and tiny BERT from scratch, with random or
# teacher-static embeddings, a BERT cut from the teacher's layers; distilled from MiniLM, from MiniLM + the few-shot
# LLM, from the LLM alone (zero labels), and gold-only; F32 and int8; the tiny BERT also as the KD ablation: gold
# only, soft labels, + hidden and attention losses, two teachers) and the peers a user would train instead on the
# same labelled lines (bench/quality_peers*.py). One table (bench/quality_table.py), written to OUT/quality.md;
# bench/split_seeds.sh (`make bench-quality-splits`) repeats the main rows on other splits.
# The reduced run with the LLM takes about 95 minutes on 2 cores: 68 on 2026-12-07 (43 of them the LLM's answers),
# before the transfer answers got a store of their own (7.6 more minutes of LLM answers), the tiny BERT ablation
# rows (4 more minutes of training) and the seeds teacher with its three students (16 more).
#
# Usage: bench/quality.sh DISTILL MINILM_FOLDER PEERS_PYTHONPATH [OUT]   (QUALITY=full for the full run;
#   QUALITY_TEACHER_LR: the teacher's learning rate, 5e-5 by default — a folder holds one)
set -euo pipefail
distill=$1 minilm=$2 peers=$3 out=${4:-runs/quality}
mode=${QUALITY:-reduced}
source bench/quality_recipe.sh
labels=$quality_labels
quality_run_settings "$out" "$mode run"
mkdir -p "$out/models" "$out/predictions" "$out/recipes" "$out/logs"
started=$SECONDS

# Epochs of the reduced run (about 30 minutes on 2 cores without the LLM: 41 on 2026-12-02 on a machine running
# at about 0.6x) and of the full run.
if [ "$mode" = full ]; then teacher_epochs=10 bag_epochs=10 bert_epochs=10 cut_epochs=6; else teacher_epochs=6 bag_epochs=5 bert_epochs=4 cut_epochs=3; fi

"$distill" loghub --data data/loghub --out "$out/split" | tee "$out/logs/loghub.txt"
split=$(cd "$out/split" && pwd)

# Times one command; writes the seconds to $out/logs/NAME.seconds and its output to $out/logs/NAME.log.
timed() {
  local name=$1; shift
  local t0; t0=$(date +%s.%N)
  if ! "$@" >"$out/logs/$name.log" 2>&1; then echo "bench-quality: $name failed:" >&2; tail -20 "$out/logs/$name.log" >&2; exit 1; fi
  awk -v a="$(date +%s.%N)" -v b="$t0" 'BEGIN { printf "%.1f\n", a - b }' >"$out/logs/$name.seconds"
  echo "  $name: $(cat "$out/logs/$name.seconds") s"
}

echo "teacher: all-MiniLM-L6-v2 fine-tuned on $(wc -l <"$split/labelled.jsonl") labelled lines (sqrt class weights, early stopping on dev macro-F1)"
if [ ! -f "$out/models/teacher/model.safetensors" ]; then
  timed teacher quality_teacher "$distill" "$minilm" "$split" "$out/models/teacher" "$teacher_epochs"
fi
# The seeds teacher: the same fine-tuning with the other seeds of $quality_teacher_seeds (seed 1 is models/teacher).
seed_teachers=("$(cd "$out/models/teacher" && pwd)")
for seed in $quality_teacher_seeds; do
  [ "$seed" = 1 ] && continue
  [ -f "$out/models/teacher-seed$seed/model.safetensors" ] || \
    timed "teacher-seed$seed" quality_teacher "$distill" "$minilm" "$split" "$out/models/teacher-seed$seed" "$teacher_epochs" "$seed"
  seed_teachers+=("$(cd "$out/models/teacher-seed$seed" && pwd)")
done

# Students, each from a recipe in the same folder layout.
recipe() {  # NAME TEACHER(yes|no) STUDENT_BLOCK EPOCHS EXTRA_LOSSES
  local teachers=""
  [ "$2" = yes ] && teachers="  - {name: minilm, kind: bert, path: $(cd "$out/models/teacher" && pwd)}"
  quality_recipe "$out/recipes/$1.yaml" "$(pwd)/$out/runs/$1" "$split" "$labels" "$teachers" "$3" "$4" "${5:-}"
}
bag=$quality_bag
bert=$quality_tiny_bert
cut_student=$quality_cut
recipe bag-gold no "$bag" "$bag_epochs"
recipe bag-kd yes "$bag" "$bag_epochs"
recipe tinybert-gold no "$bert" "$bert_epochs"
# The KD ablation of `make experiment-kd` on real logs, with the tiny BERT: (a) gold labels only (tinybert-gold),
# (b) + the teacher's soft labels, (c) + hidden and attention losses, and (d) two teachers (below, with the LLM).
intermediate_losses="  hidden: {weight: 1.0, kind: mse}
  attention: {weight: 1.0, kind: kl}"
recipe tinybert-kd-soft yes "$bert" "$bert_epochs"
recipe tinybert-kd yes "$bert" "$bert_epochs" "$intermediate_losses"
recipe cut-kd yes "$cut_student" "$cut_epochs"
# The same students from the seeds teacher.
seed_teachers_yaml=$(quality_seed_teachers "${seed_teachers[@]}")
for name in bag tinybert-kd-soft cut-kd; do
  case $name in bag) block=$bag epochs=$bag_epochs ;; tinybert-kd-soft) block=$bert epochs=$bert_epochs ;; cut-kd) block=$cut_student epochs=$cut_epochs ;; esac
  quality_recipe "$out/recipes/$name-seeds.yaml" "$(pwd)/$out/runs/$name-seeds" "$split" "$labels" "$seed_teachers_yaml" "$block" "$epochs"
done
# The same students with their embeddings started from the teacher's static embeddings (model2vec's method);
# the tiny BERT one (12 more minutes) in the full run only.
recipe bag-kd-static yes "$bag
  embeddings_from: minilm" "$bag_epochs"
static_students=(bag-kd-static)
if [ "$mode" = full ]; then
  recipe tinybert-kd-static yes "$bert
  embeddings_from: minilm" "$bert_epochs" "$intermediate_losses"
  static_students+=(tinybert-kd-static)
fi
train_student() {  # NAME: trains the recipe (a rerun resumes or skips it) and copies the model the run ships
  local name=$1
  echo "student $name"
  [ -f "$out/runs/$name/final/config.json" ] || timed "$name" "$distill" train --resume --recipe "$out/recipes/$name.yaml"
  # The model the run ships: best/ (best dev epoch, with the decision rule fitted for it) when it exists, else final/.
  local shipped="$out/runs/$name/best"; [ -d "$shipped" ] || shipped="$out/runs/$name/final"
  rm -rf "${out:?}/models/$name" && cp -r "$shipped" "$out/models/$name"
}
quantize_student() {  # NAME: NAME-int8, with NAME's training time
  timed "$1-int8" "$distill" quantize --model "$out/models/$1" --out "$out/models/$1-int8"
  cp "$out/logs/$1.seconds" "$out/logs/$1-int8.seconds"
}
for name in bag-gold bag-kd tinybert-gold tinybert-kd-soft tinybert-kd cut-kd "${static_students[@]}" bag-seeds tinybert-kd-soft-seeds cut-kd-seeds; do
  train_student "$name"
done
for name in bag-kd tinybert-kd cut-kd; do quantize_student "$name"; done

# Predictions of every Distill model on both test files, and its speed on the held-out file (cache off).
predict() {  # NAME
  local name=$1 dir="$out/predictions/$1"
  mkdir -p "$dir"
  for test in test-heldout test-seen; do
    # The most probable label (a temperature never changes it); with the run's decision rule (its bar on normal) too.
    "$distill" classify --model "$out/models/$name" --input "$split/$test.jsonl" --field text --cache-size 0 --stats --ignore-decision \
      >"$dir/$test.jsonl" 2>"$dir/$test.stats"
    if [ -f "$out/models/$name/decision.json" ]; then
      mkdir -p "$dir-rule"
      "$distill" classify --model "$out/models/$name" --input "$split/$test.jsonl" --field text --cache-size 0 >"$dir-rule/$test.jsonl"
    fi
  done
  local rate bytes seconds
  rate=$(sed -n 's/.*(\([0-9.]*\) lines\/s).*/\1/p' "$dir/test-heldout.stats" | tail -1)
  bytes=$(du -cb "$out/models/$name"/*.safetensors | tail -1 | cut -f1)
  seconds=$(cat "$out/logs/$name.seconds" 2>/dev/null || echo null)
  echo "{\"name\": \"$name\", \"train_seconds\": $seconds, \"size_bytes\": $bytes, \"lines_per_second\": ${rate:-null}}" >"$dir/meta.json"
  [ -d "$dir-rule" ] && cp "$dir/meta.json" "$dir-rule/meta.json"
  return 0
}
for name in teacher bag-gold bag-kd bag-kd-int8 tinybert-gold tinybert-kd-soft tinybert-kd tinybert-kd-int8 cut-kd cut-kd-int8 "${static_students[@]}" \
  bag-seeds tinybert-kd-soft-seeds cut-kd-seeds; do
  predict "$name"
done
# The seeds teacher's answers on both test files, and its size (the three teachers).
dir="$out/predictions/teacher-seeds"; mkdir -p "$dir"
for test in test-heldout test-seen; do quality_seed_teacher_answers "$distill" "$split/$test.jsonl" "$dir/$test.jsonl" "${seed_teachers[@]}"; done
echo "{\"name\": \"teacher-seeds\", \"size_bytes\": $(du -cb "${seed_teachers[@]/%//model.safetensors}" | tail -1 | cut -f1)}" >"$dir/meta.json"

# An LLM teacher zero-shot (no labelled line), through `distill label` on llama.cpp: the label descriptions of
# LogTaxonomy in the prompt, logprobs over the label names, one call per template (`--group-by template`). QUALITY_LLM:
# qwen-0.5b (default), qwen-1.5b or none.
llm=${QUALITY_LLM:-qwen-0.5b}
llm_rows=() ensemble_rows=()
if [ "$llm" != none ]; then
  gguf=$(bash scripts/fetch_llm_teachers.sh "$llm" | sed -n "s/^$llm=//p")
  port=18095
  LLAMA_MODEL_OVERRIDE=$gguf bash scripts/llm-server start $port >/dev/null
  trap 'bash scripts/llm-server stop '$port'' EXIT
  # The labels with their descriptions, as the LLM's prompt gives them.
  cp bench/llm_labels.txt "$out/labels.txt"
  # Two prompts: zero-shot, and few-shot with the 4 labelled lines nearest to each line (`--examples`).
  for prompt in zero-shot few-shot; do
    dir="$out/predictions/llm-$llm-$prompt"; mkdir -p "$dir"
    examples=(); [ "$prompt" = few-shot ] && examples=(--examples "$split/labelled.jsonl" --nearest-examples 4)
    seconds=0
    for test in test-heldout test-seen; do
      t0=$(date +%s.%N)
      "$distill" label --teacher "openai:http://127.0.0.1:$port/v1" --labels "$out/labels.txt" --input "$split/$test.jsonl" "${examples[@]}" \
        --out "$dir/$test.labels.jsonl" --store "$out/llm-$llm.sqlite" --concurrency 2 >"$out/logs/llm-$llm-$prompt-$test.log" 2>&1
      seconds=$(awk -v s="$seconds" -v a="$(date +%s.%N)" -v b="$t0" 'BEGIN { printf "%.1f", s + a - b }')
      quality_top_labels "$dir/$test.labels.jsonl" >"$dir/$test.jsonl"
      # Ensemble: the fine-tuned MiniLM and the LLM, equal weights (the LLM's answers come from the store).
      mkdir -p "$dir-ensemble"
      "$distill" label --teacher "bert:$out/models/teacher" --teacher "openai:http://127.0.0.1:$port/v1" --weights 0.5,0.5 --labels "$out/labels.txt" \
        --input "$split/$test.jsonl" "${examples[@]}" --max-length 64 --out "$dir-ensemble/$test.labels.jsonl" --store "$out/llm-$llm.sqlite" \
        --concurrency 2 >"$out/logs/llm-$llm-$prompt-ensemble-$test.log" 2>&1
      quality_top_labels "$dir-ensemble/$test.labels.jsonl" >"$dir-ensemble/$test.jsonl"
    done
    calls=$(grep -ho '"requests":[0-9]*' "$out"/logs/llm-"$llm"-"$prompt"-test-*.log | cut -d: -f2 | paste -sd+ | bc 2>/dev/null || echo null)
    echo "{\"name\": \"llm-$llm-$prompt\", \"label_seconds\": $seconds, \"requests\": ${calls:-null}, \"size_bytes\": $(stat -c %s "$gguf")}" >"$dir/meta.json"
    echo "{\"name\": \"llm-$llm-$prompt-ensemble\", \"size_bytes\": $(( $(stat -c %s "$gguf") + $(du -cb "$out/models/teacher"/*.safetensors | tail -1 | cut -f1) ))}" >"$dir-ensemble/meta.json"
    echo "  llm $llm $prompt: $seconds s"
  done
  dir="$out/predictions/llm-$llm-zero-shot"

  # The training side's answers (unlabelled and dev lines) go to a store of their own: the store asks once per template,
  # with the first line that needs an answer, so sharing the test files' store would let a test line (and its nearest
  # examples) pose a training template's question.
  transfer_store="$out/llm-$llm-transfer.sqlite"
  # The zero-label path: the same LLM labels the unlabelled lines (one call per template) and an n-gram
  # bag learns from its answers alone: no hand-labelled line anywhere, no dev set (fixed epochs).
  t0=$(date +%s.%N)
  "$distill" label --teacher "openai:http://127.0.0.1:$port/v1" --labels "$out/labels.txt" --input "$split/unlabelled.jsonl" \
    --out "$out/llm-$llm-unlabelled.jsonl" --store "$transfer_store" --concurrency 2 >"$out/logs/llm-$llm-unlabelled.log" 2>&1
  awk -v a="$(date +%s.%N)" -v b="$t0" 'BEGIN { printf "%.1f\n", a - b }' >"$out/logs/llm-$llm-unlabelled.seconds"
  # The second teacher of the students below: the LLM few-shot on the unlabelled lines (the transfer set) and the
  # dev lines (the ensemble's dev scores), one call per template.
  answers="$out/llm-$llm-few-shot-answers.jsonl"
  if [ ! -f "$answers" ]; then
    for part in unlabelled dev; do
      timed "llm-$llm-few-shot-$part" quality_few_shot_answers "$distill" $port "$out/labels.txt" "$split" $part \
        "$out/llm-$llm-few-shot-$part.jsonl" "$transfer_store"
    done
    cat "$out/llm-$llm-few-shot-unlabelled.jsonl" "$out/llm-$llm-few-shot-dev.jsonl" >"$answers.partial" && mv "$answers.partial" "$answers"
  fi
  bash scripts/llm-server stop $port; trap - EXIT
  {
    echo "labels: [${labels//,/, }]"
    echo "data: {unlabelled: $split/unlabelled.jsonl, test: $split/test-heldout.jsonl}"
    echo "teachers:"
    echo "  - {name: $llm, kind: soft-labels, path: $(pwd)/$out/llm-$llm-unlabelled.jsonl}"
    echo "student: {kind: ngram-bag}"
    echo "input: logs"
    echo "training: {epochs: $bag_epochs, batch_size: 32}"
    echo "seed: 1"
    echo "output: $(pwd)/$out/runs/bag-zero-label"
  } >"$out/recipes/bag-zero-label.yaml"
  [ -f "$out/runs/bag-zero-label/final/config.json" ] || timed bag-zero-label "$distill" train --resume --recipe "$out/recipes/bag-zero-label.yaml"
  rm -rf "$out/models/bag-zero-label" && cp -r "$out/runs/bag-zero-label/final" "$out/models/bag-zero-label"
  predict bag-zero-label
  # Questions (one call each, `group_by: template`) per distinct gold template of the unlabelled lines (the store
  # answers repeats; a rerun asks nothing).
  keys=$(grep -o '"questions":[0-9]*' "$out/logs/llm-$llm-unlabelled.log" | tail -1 | cut -d: -f2)
  templates=$(python3 -c "import json,sys; print(len({json.loads(l)['template'] for l in open(sys.argv[1])}))" "$split/unlabelled.jsonl")
  echo "{\"keys\": ${keys:-null}, \"templates\": $templates, \"lines\": $(wc -l <"$split/unlabelled.jsonl")}" >"$out/predictions/bag-zero-label/labelling.json"

  # Students from two teachers that fail differently: the fine-tuned MiniLM and the LLM few-shot, equal weights.
  ensemble_teachers=$(quality_ensemble_teachers "$(cd "$out/models/teacher" && pwd)" "$llm" "$(cd "$out" && pwd)/llm-$llm-few-shot-answers.jsonl")
  quality_recipe "$out/recipes/bag-kd-ensemble.yaml" "$(pwd)/$out/runs/bag-kd-ensemble" "$split" "$labels" "$ensemble_teachers" "$bag" "$bag_epochs"
  quality_recipe "$out/recipes/cut-kd-ensemble.yaml" "$(pwd)/$out/runs/cut-kd-ensemble" "$split" "$labels" "$ensemble_teachers" "$cut_student" "$cut_epochs"
  # (d) of the ablation: the tiny BERT of (c) from both teachers (hidden and attention losses from MiniLM, at its weight).
  quality_recipe "$out/recipes/tinybert-kd-ensemble.yaml" "$(pwd)/$out/runs/tinybert-kd-ensemble" "$split" "$labels" "$ensemble_teachers" "$bert" \
    "$bert_epochs" "$intermediate_losses"
  for name in bag-kd-ensemble tinybert-kd-ensemble cut-kd-ensemble; do train_student "$name"; done
  quantize_student cut-kd-ensemble
  for name in bag-kd-ensemble tinybert-kd-ensemble cut-kd-ensemble cut-kd-ensemble-int8; do predict "$name"; done

  llm_rows=("$llm zero-shot (llama.cpp)=$out/predictions/llm-$llm-zero-shot:teacher"
            "$llm few-shot, 4 nearest labelled lines (llama.cpp)=$out/predictions/llm-$llm-few-shot:teacher"
            "ensemble: fine-tuned MiniLM + $llm zero-shot (equal weights)=$out/predictions/llm-$llm-zero-shot-ensemble:teacher"
            "ensemble: fine-tuned MiniLM + $llm few-shot (equal weights)=$out/predictions/llm-$llm-few-shot-ensemble:teacher"
            "bag from the LLM's answers alone (zero labels)=$out/predictions/bag-zero-label:zero-label")
  # Their teacher is the ensemble row (the mean of the two on the test lines).
  ensemble="ensemble: fine-tuned MiniLM + $llm few-shot (equal weights)"
  ensemble_rows=("bag, distilled from MiniLM + $llm few-shot=$out/predictions/bag-kd-ensemble:student:$ensemble"
                 "tiny BERT, distilled from MiniLM + $llm few-shot (KD+hidden+attention)=$out/predictions/tinybert-kd-ensemble:student:$ensemble"
                 "BERT cut from the teacher, distilled from MiniLM + $llm few-shot=$out/predictions/cut-kd-ensemble:student:$ensemble"
                 "BERT cut, distilled from MiniLM + $llm few-shot, int8=$out/predictions/cut-kd-ensemble-int8:student:$ensemble")
fi

echo "peers (same labelled lines, raw text)"
PYTHONPATH="$peers" python3 bench/quality_peers.py "$split" "$out/predictions"
embedding_rows=()
if [ -n "${EMBEDDING_PEERS:-}" ]; then
  PYTHONPATH="$EMBEDDING_PEERS" python3 bench/quality_peers_embedding.py "$split" "$out/predictions" "$minilm" "$mode" 2>"$out/logs/embedding-peers.log" \
    | tee -a "$out/logs/peers.txt"
  embedding_rows=("model2vec (static MiniLM + its classifier)=$out/predictions/model2vec:peer" "SetFit (MiniLM)=$out/predictions/setfit:peer")
fi

p="$out/predictions"
tinybert_static_row=()
[ "$mode" = full ] && tinybert_static_row=("tiny BERT, distilled, embeddings from the teacher's static embeddings=$p/tinybert-kd-static:student")
python3 bench/quality_table.py "$split" "$out/quality.md" "fine-tuned MiniLM" \
  "fine-tuned MiniLM=$p/teacher:teacher" "${llm_rows[@]}" \
  "bag, distilled=$p/bag-kd:student" "bag, distilled, embeddings from the teacher's static embeddings=$p/bag-kd-static:student" "bag, distilled, + bar on normal (dev: 10% missed)=$p/bag-kd-rule:student" "bag, distilled, int8=$p/bag-kd-int8:student" \
  "tiny BERT 2x128, distilled (KD, soft labels only)=$p/tinybert-kd-soft:student" "tiny BERT 2x128, distilled (KD+hidden+attention)=$p/tinybert-kd:student" "${tinybert_static_row[@]}" "tiny BERT, distilled, int8=$p/tinybert-kd-int8:student" \
  "BERT 2x384 cut from the teacher (layers 2, 5), distilled=$p/cut-kd:student" "BERT cut, distilled, + bar on normal (dev: 10% missed)=$p/cut-kd-rule:student" \
  "BERT cut from the teacher, distilled, int8=$p/cut-kd-int8:student" "${ensemble_rows[@]}" \
  "fine-tuned MiniLM, 3 seeds (mean)=$p/teacher-seeds:teacher" "bag, distilled from 3 MiniLM seeds=$p/bag-seeds:student:fine-tuned MiniLM, 3 seeds (mean)" \
  "tiny BERT 2x128, distilled from 3 MiniLM seeds (soft labels only)=$p/tinybert-kd-soft-seeds:student:fine-tuned MiniLM, 3 seeds (mean)" \
  "BERT cut from the teacher, distilled from 3 MiniLM seeds=$p/cut-kd-seeds:student:fine-tuned MiniLM, 3 seeds (mean)" \
  "bag, gold labels only=$p/bag-gold:baseline" "tiny BERT, gold labels only=$p/tinybert-gold:baseline" \
  "TF-IDF + LR (scikit-learn)=$p/tfidf-lr:peer" "fastText=$p/fasttext:peer" "${embedding_rows[@]}"
"$distill" report --comparison "$out/quality-comparison.json" --out "$out/quality.html"
echo "bench-quality ($mode): $((SECONDS - started)) s"
