
/// The commented example recipe `distill init` writes.
public let recipeTemplate = """
# Distill recipe: distil one or more teachers into a small student.
# Paths are relative to this file. Unknown keys are errors, so typos are caught.

labels:                       # the label set, in class order
  - name: database
    description: database errors (connection refused, deadlocks, replication)
  - name: network
    description: timeouts, resets, DNS and TLS failures
  - name: auth
    description: failed logins, expired tokens, permission denied
  - name: normal
    description: routine operation

data:
  labelled: data/labelled.jsonl      # {"text": "...", "label": "database"} per line
  unlabelled: data/unlabelled.jsonl  # {"text": "..."} per line: the teachers label these
  dev: data/dev.jsonl                # labelled; evaluation during training, early stopping
  test: data/test.jsonl              # labelled; the final report

teachers:                     # each gives a distribution over the labels for every training text
  - name: big-bert
    kind: bert                # a Hugging Face BertForSequenceClassification folder (white-box)
    path: teachers/big-bert
    weight: 1.0
  # - name: llm
  #   kind: soft-labels       # stored distributions: {"text": ..., "probabilities": {"database": 0.9, ...}}
  #   path: teachers/llm.jsonl
  #   weight: 1.0
aggregation: weighted-mean    # weighted-mean | confidence | class-reliability (needs data.dev)

student:
  kind: bert                  # bert | ngram-bag
  layers: 2
  hidden: 128
  heads: 2
  intermediate: 512
  vocab_size: 8000            # WordPiece vocabulary learned from the training texts
  pooling: mean               # mean | cls | pooler
  max_length: 64              # tokens per line
  # embeddings_from: big-bert  # start the token (or, for ngram-bag, n-gram) embeddings from a bert teacher's static embeddings
  # kind: ngram-bag
  # buckets: 262144
  # embedding_size: 64
  # hidden_size: 0            # 0 = fastText-style linear model
  # word_ngrams: 2
  # char_ngrams: [3, 5]
  # or a BERT cut from a `kind: bert` teacher (its tokenizer, embeddings, head; sizes come from it):
  # kind: bert
  # from_teacher: big-bert
  # layers: 2                 # evenly spaced teacher layers ending with the last; or teacher_layers: [2, 5]
  # max_length: 64

losses:
  alpha: 0.5                  # alpha * soft (KD) + (1 - alpha) * hard (gold label), per example; or {start, end, steps}
  temperature: 2              # or {start: 4, end: 1, steps: 1000}
  label_smoothing: 0.0
  # class_weights: balanced   # or [1, 1, 1, 1]: balanced weighs each class n / (classes x count) of the gold labels
  # With a white-box (bert) teacher and a bert student; the student then uses the teacher's vocabulary:
  # hidden: {weight: 1.0, kind: mse}          # mse | cosine, through learned projections (dropped at export)
  # attention: {weight: 1.0, kind: kl}        # kl | mse; heads matched, grouped or averaged
  # value_relation: {weight: 1.0}             # MiniLM's last-layer value relation (KL)
  # layer_map: uniform                        # or [[1, 3], [2, 6]]: student layer <- teacher layer (0 = embeddings)

augmentation:                 # rule-based copies of the labelled lines (label kept); omit or {} for none
  copies: 2
  resample_variables: true    # new IPs, numbers, paths, durations, ... of the same type
  token_dropout: 0.1
  synonyms: true              # log-domain synonyms: refused/rejected, database/db, ...
  envelopes: true             # re-wrap in another log format (JSON, syslog, klog, plain)
  teacher_filter: 0.5         # with teachers: keep a copy only if they still give its label >= 0.5
  # paraphrases: 2            # LLM rewrites per labelled line by an openai teacher (paraphrase_teacher: NAME),
                              # stored in the label store; filtered like the copies (teacher_filter, default 0.5)

# input: logs                # read lines as logs: envelope parsed, variables masked (level source masked-message);
                              # or {kind: logs, masks: [ip, number, hex, uuid, path, url, email, timestamp, duration, size, pod]}.
                              # Saved with the student, so classify and serve prepare lines the same way. Default: raw.

training:
  epochs: 5
  batch_size: 32
  learning_rate: 0.0005       # default 0.0005 for bert students, 0.0001 cut from a teacher, 0.005 for ngram-bag
  warmup_steps: 100
  weight_decay: 0.01
  clip_norm: 1.0
  evaluate_every: 200         # steps; omit to evaluate at the end of each epoch
  # checkpoint_every: 200      # steps (and at every evaluation); omit to checkpoint every checkpoint_seconds
  checkpoint_seconds: 60      # of training between checkpoints: a kill -9 loses at most this much work
  embedding_updates: sparse   # ngram-bag: sparse (only the rows a batch read, lazy Adam) | dense (AdamW on every row)
  duplicates: merge           # merge: lines that read the same once prepared train once, weighing their count | keep: every line
  duplicate_weight_cap: 64    # the most a merged line weighs, however many lines it stands for
  min_epoch_examples: 20000   # merged: an epoch cycles through the distinct lines until it covers this many (or all the lines)
  early_stopping:
    metric: macro_f1          # macro_f1 | accuracy | agreement
    patience: 3

# decision:                   # fitted on data.dev after training, saved as decision.json beside the weights
#   calibrate: true           # temperature scaling (dev ECE before and after in the report)
#   alert_target: 0.1         # a bar on normal_label: at most 10% of the dev alerts answered normal_label
#   normal_label: normal
#   min_confidence: 0.5       # classify and serve answer 'unknown' below this top probability

seed: 42
output: runs/distill          # checkpoint/, best/, final/, train.jsonl, report.json, report.md

"""
