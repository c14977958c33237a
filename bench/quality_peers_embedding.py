"""Embedding peers of the real-logs quality benchmark (`make bench-quality`), trained on the same hand-labelled
lines (labelled.jsonl of `distill loghub`) as the other peers, reading the raw lines, from the local
all-MiniLM-L6-v2 folder (no hub download):

- model2vec: static embeddings distilled from MiniLM (`model2vec.distill`, PCA 256, its defaults) and its
  classifier (`StaticModelForClassification`, class-balanced, its default early stopping on 10% of the lines).
- SetFit: contrastive fine-tuning of MiniLM on pairs of the labelled lines (at most 64 tokens, as the fine-tuned
  teacher), then a logistic-regression head (`num_iterations` pairs per line: 2 in the reduced run, 20 — SetFit's
  usual value — in the full run; on 2 CPU cores a step of 16 pairs takes seconds).

Writes PREDICTIONS_DIR/<peer>/<test>.jsonl and meta.json like bench/quality_peers.py. These need numpy 2 and
PyTorch, so they run from their own folder (fetch_assets.sh embedding-peers), apart from fastText's numpy 1.

Usage: python3 bench/quality_peers_embedding.py SPLIT_DIR PREDICTIONS_DIR MINILM_FOLDER [reduced|full]
"""
import os
import shutil
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from peer_predictions import Predictions, read  # noqa: E402

split, out, minilm = sys.argv[1:4]
mode = sys.argv[4] if len(sys.argv) > 4 else "reduced"
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

import torch  # noqa: E402

torch.set_num_threads(2)
torch.manual_seed(1)

train = read(split, "labelled")
texts, labels = [r["text"] for r in train], [r["label"] for r in train]
write = Predictions(split, out).write


def saved_size(save):
    """Bytes of the weight files `save(folder)` writes."""
    folder = tempfile.mkdtemp()
    save(folder)
    size = sum(os.path.getsize(os.path.join(d, f)) for d, _, files in os.walk(folder) for f in files
               if f.endswith((".safetensors", ".bin", ".pkl", ".joblib", ".skops")))
    shutil.rmtree(folder)
    return size


def model2vec_peer():
    """Distil MiniLM into static embeddings, then train model2vec's classifier on the labelled lines."""
    import model2vec
    from model2vec.distill import distill
    from model2vec.train import StaticModelForClassification

    start = time.perf_counter()
    static = distill(model_name=minilm, pca_dims=256)
    classifier = StaticModelForClassification.from_static_model(model=static)
    classifier.fit(texts, labels, class_weight="balanced")
    pipeline = classifier.to_pipeline()
    seconds = time.perf_counter() - start
    write("model2vec", lambda lines: list(pipeline.predict(lines)), seconds, saved_size(pipeline.save_pretrained),
          f"model2vec {model2vec.__version__}")


def setfit_peer():
    """Contrastive fine-tuning of MiniLM on pairs of the labelled lines, then SetFit's logistic-regression head."""
    import itertools

    import datasets.arrow_dataset
    import setfit
    from datasets import Dataset
    from setfit import SetFitModel, Trainer, TrainingArguments

    # datasets 5.2 fingerprints a new dataset by pickling its state with dill, which fails here on pyarrow's
    # MonthDayNano type ("not found as builtins.MonthDayNano"); the fingerprint only names cache files: number them.
    numbers = itertools.count()
    datasets.arrow_dataset.generate_fingerprint = lambda dataset: f"distill-peer-{next(numbers):08d}"
    start = time.perf_counter()
    model = SetFitModel.from_pretrained(minilm)
    model.model_body.max_seq_length = 64  # the fine-tuned teacher's --max-length
    arguments = TrainingArguments(batch_size=16, num_epochs=1, num_iterations=20 if mode == "full" else 2, seed=1,
                                  report_to="none", save_strategy="no")
    trainer = Trainer(model=model, args=arguments, train_dataset=Dataset.from_dict({"text": texts, "label": labels}))
    trainer.train()
    seconds = time.perf_counter() - start
    write("setfit", lambda lines: list(model.predict(lines)), seconds, saved_size(model.save_pretrained), f"setfit {setfit.__version__}")


# EMBEDDING_PEERS_ONLY=model2vec|setfit runs one of them.
only = os.environ.get("EMBEDDING_PEERS_ONLY")
if only in (None, "model2vec"):
    model2vec_peer()
if only in (None, "setfit"):
    setfit_peer()
