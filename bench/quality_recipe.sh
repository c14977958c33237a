# What the real-logs quality benchmarks (bench/quality.sh, bench/split_seeds.sh) share,
# sourced, so that their rows compare: the labels, the teacher's fine-tuning, the student blocks, and the student
# recipe (split, decision rule, class weights, epochs and early stopping).

# The labels of the real-logs split, in the order every model of the benchmarks answers in.
quality_labels=normal,database,network,auth,storage,memory,application,configuration

# Student blocks: the n-gram bag, the 2x128 tiny BERT from scratch, and the BERT cut from the `minilm` teacher's layers.
quality_bag="  kind: ngram-bag"
quality_tiny_bert="  kind: bert
  layers: 2
  hidden: 128
  heads: 2
  intermediate: 512
  max_length: 64"
quality_cut="  kind: bert
  from_teacher: minilm
  layers: 2
  max_length: 64"

# quality_teacher DISTILL MINILM_FOLDER SPLIT_FOLDER OUT EPOCHS [SEED]: all-MiniLM-L6-v2 fine-tuned on the split's
# labelled lines, early stopping on its dev lines; SEED (default 1) draws the new head, the data order and dropout.
# QUALITY_TEACHER_LR: its learning rate, 5e-5 by default (`teacher finetune`'s). At 1e-4 the teacher is better (dev
# macro-F1 higher for each of 3 seeds on each of 3 splits, bench/teacher_variants.sh), but its students are not: over
# the 3 splits of bench-quality-splits, 2026-12-07, no student's mean margin over the best peer rose (README, Real logs).
quality_teacher_learning_rate=${QUALITY_TEACHER_LR:-5e-5}
quality_teacher() {
  quality_finetune "$1" "$2" "$3" "$4" --epochs "$5" --learning-rate "$quality_teacher_learning_rate" --seed "${6:-1}"
}

# quality_run_settings FOLDER [SETTING...]: refuses a result folder whose models were trained with other settings
#   (every step of the benchmarks reuses what exists), else records this run's: the teacher's learning rate and
#   SETTING... (e.g. the run's mode, whose epochs differ).
quality_run_settings() {
  local folder=$1; shift
  local record="$folder/run-settings.txt" settings="teacher learning rate $quality_teacher_learning_rate" setting
  for setting in "$@"; do settings+=", $setting"; done
  if [ -f "$record" ] && [ "$(cat "$record")" != "$settings" ]; then
    echo "bench: $folder holds models trained with $(cat "$record"), not $settings: give this run another folder" >&2
    return 1
  fi
  mkdir -p "$folder" && echo "$settings" >"$record"
}

# quality_finetune DISTILL MINILM_FOLDER SPLIT_FOLDER OUT SETTING...: the fine-tuning every benchmark teacher shares
#   (the split's labelled lines, early stopping on its dev lines, `input: logs`, 64 tokens), with SETTING... (the
#   arguments of `distill teacher finetune` that differ: epochs, learning rate, seed, ...).
quality_finetune() {
  local distill=$1 minilm=$2 split=$3 out=$4; shift 4
  "$distill" teacher finetune --base "$minilm" --train "$split/labelled.jsonl" --dev "$split/dev.jsonl" --labels "$quality_labels" \
    --out "$out" --input logs --max-length 64 "$@"
}

# The seeds teacher: the same fine-tuning with seeds 1, 2 and 3, their distributions averaged. On the held-out
# templates of three splits one seed's macro-F1 moved by up to 21 points (0.379-0.592 on split 3); the mean of the
# three beat seed 1 on every split (+2.2, +1.2, +1.3).
quality_teacher_seeds="1 2 3"

# quality_seed_teachers FOLDER...: the `teachers:` lines of the students of the seeds teacher, equal weights; the first
#   is named minilm (a cut student cuts from it).
quality_seed_teachers() {
  local i=0 folder
  for folder in "$@"; do
    i=$((i + 1))
    [ $i -gt 1 ] && echo
    printf '  - {name: %s, kind: bert, path: %s}' "$([ $i = 1 ] && echo minilm || echo "minilm-$i")" "$folder"
  done
}

# quality_seed_teacher_answers DISTILL TEST_JSONL OUT_JSONL FOLDER...: the seeds teacher's answer (the most probable
#   label of the mean distribution, as the students' recipes aggregate) for each line of TEST_JSONL.
quality_seed_teacher_answers() {
  local distill=$1 test=$2 answers=$3; shift 3
  local teachers=() folder
  for folder in "$@"; do teachers+=(--teacher "bert:$folder"); done
  "$distill" label "${teachers[@]}" --labels "$quality_labels" --input "$test" --max-length 64 --out "$answers.labels.jsonl" \
    --store "$answers.sqlite" >"$answers.log" 2>&1
  quality_top_labels "$answers.labels.jsonl" >"$answers"
}

# quality_top_labels LABELS_JSONL: the most probable label of each `distill label` output line (normal for a failed one).
quality_top_labels() {
  python3 -c "
import json, sys
for line in open(sys.argv[1], encoding='utf-8'):
    p = json.loads(line).get('probabilities')
    print(json.dumps({'label': max(p, key=p.get) if p else 'normal'}))" "$1"
}

# quality_recipe FILE OUTPUT_FOLDER SPLIT_FOLDER LABELS TEACHERS STUDENT_BLOCK EPOCHS [EXTRA_LOSSES] [AGGREGATION]
#   LABELS: comma-separated; TEACHERS: the YAML lines under `teachers:`, empty for none (then no unlabelled data);
#   AGGREGATION: the recipe's `aggregation` (several teachers), empty for the default.
quality_recipe() {
  local file=$1 output=$2 split=$3 labels=$4 teachers=$5 student=$6 epochs=$7 extra=${8:-} aggregation=${9:-}
  {
    echo "labels: [${labels//,/, }]"
    echo "data:"
    echo "  labelled: $split/labelled.jsonl"
    [ -n "$teachers" ] && echo "  unlabelled: $split/unlabelled.jsonl"
    echo "  dev: $split/dev.jsonl"
    echo "  test: $split/test-heldout.jsonl"
    if [ -n "$teachers" ]; then
      echo "teachers:"
      echo "$teachers"
    fi
    [ -n "$aggregation" ] && echo "aggregation: $aggregation"
    echo "student:"
    echo "$student"
    echo "input: logs"
    echo "decision: {calibrate: true, alert_target: 0.1, normal_label: normal}"
    echo "losses:"
    echo "  class_weights: sqrt"
    [ -n "$extra" ] && echo "$extra"
    echo "training:"
    echo "  epochs: $epochs"
    echo "  batch_size: 32"
    echo "  early_stopping: {metric: macro_f1, patience: 3}"
    echo "seed: 1"
    echo "output: $output"
  } >"$file"
}

# quality_few_shot_answers DISTILL PORT LABELS_FILE SPLIT_FOLDER PART OUT_JSONL STORE: the LLM on 127.0.0.1:PORT
#   answers the split's PART lines (unlabelled or dev) few-shot, the 4 labelled lines nearest each question in its
#   prompt, one call per template, into STORE (keep it apart from the test files' store).
quality_few_shot_answers() {
  "$1" label --teacher "openai:http://127.0.0.1:$2/v1" --labels "$3" --input "$4/$5.jsonl" --examples "$4/labelled.jsonl" \
    --nearest-examples 4 --out "$6" --store "$7" --concurrency 2
}

# quality_ensemble_teachers TEACHER_FOLDER LLM ANSWERS: the `teachers:` lines of the students from two teachers — the
#   fine-tuned MiniLM and the LLM's answers (ANSWERS, from quality_few_shot_answers), equal weights; lines the LLM has
#   no answer for (the labelled lines, a rejected question) get MiniLM's alone.
quality_ensemble_teachers() {
  printf '  - {name: minilm, kind: bert, path: %s, weight: 0.5}\n  - {name: %s, kind: soft-labels, path: %s, weight: 0.5}' "$1" "$2" "$3"
}
