#!/usr/bin/env bash
# Fine-tuning settings of the MiniLM teacher on several template splits (`make bench-teacher-variants`): for each
# variant and split, the dev macro-F1 the fine-tuning chose its epoch by (the dev lines hold templates of their own)
# and the macro-F1 on the split's held-out test templates; then the mean of the seeds' distributions. Choose settings
# by dev: the test columns are there to see whether dev told the truth. About 2.5 minutes per variant and split on
# 2 cores; every model already trained is reused.
#
# Usage: bench/teacher_variants.sh DISTILL MINILM_FOLDER OUT SPLIT_FOLDER... (SPLIT_FOLDER: `distill loghub` output,
#   e.g. runs/quality/split runs/seeds/s2/split runs/seeds/s3/split; VARIANTS: which of the list below, default all)
set -euo pipefail
distill=$1 minilm=$2 out=$3; shift 3
source bench/quality_recipe.sh
mkdir -p "$out"

# NAME=ARGUMENTS of `distill teacher finetune` beyond quality_finetune's (base, data, labels, input and max length). `seed1` is the
# setting of bench/quality.sh (quality_teacher), `lr1e-4` its QUALITY_TEACHER_LR=1e-4.
all_variants=("seed1=--epochs 6 --learning-rate 5e-5 --seed 1" "seed2=--epochs 6 --learning-rate 5e-5 --seed 2"
              "seed3=--epochs 6 --learning-rate 5e-5 --seed 3" "lr2e-5=--epochs 6 --learning-rate 2e-5"
              "lr1e-4=--epochs 6 --learning-rate 1e-4" "lr1e-4-seed2=--epochs 6 --learning-rate 1e-4 --seed 2"
              "lr1e-4-seed3=--epochs 6 --learning-rate 1e-4 --seed 3" "freeze3=--epochs 6 --learning-rate 5e-5 --freeze-layers 3"
              "balanced=--epochs 6 --learning-rate 5e-5 --class-balance balanced")
wanted=${VARIANTS:-$(printf '%s\n' "${all_variants[@]}" | cut -d= -f1 | tr '\n' ' ')}

results=$out/results.tsv
: >"$results"
for variant in "${all_variants[@]}"; do
  name=${variant%%=*} arguments=${variant#*=}
  [[ " $wanted " == *" $name "* ]] || continue
  for split in "$@"; do
    tag=$(basename "$(dirname "$split")")-$name
    model=$out/$tag
    if [ ! -f "$model/model.safetensors" ]; then
      # shellcheck disable=SC2086
      quality_finetune "$distill" "$minilm" "$split" "$model" $arguments >"$model.log" 2>&1
    fi
    [ -f "$model.test.jsonl" ] || "$distill" classify --model "$model" --input "$split/test-heldout.jsonl" --field text --ignore-decision \
      --top-k 8 >"$model.test.jsonl" 2>/dev/null
    printf '%s\t%s\t%s\n' "$name" "$split" "$model" >>"$results"
  done
done
python3 bench/teacher_variants.py "$results" | tee "$out/variants.md"
