# The student recipe of the real-logs quality benchmarks (bench/quality.sh, bench/ensemble_students.sh), sourced:
# their split, labels, decision rule, class weights, epochs and early stopping, so their rows compare.
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
