"""fastText supervised training shared by the benchmark peers (bench/fasttext_peer.py, bench/quality_peers.py):
writes the `__label__NAME text` training file fastText reads, trains with the given options, and measures the
saved model's size on disk and the training time."""
import os
import tempfile
import time

import fasttext


def clean(text):
    """fastText reads one example per line."""
    return text.replace("\n", " ")


def train(rows, **options):
    """Trains on rows of {"text", "label"}; returns (model, size_bytes, train_seconds)."""
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "train.txt")
        with open(path, "w", encoding="utf-8") as f:
            for r in rows:
                f.write(f"__label__{r['label']} {clean(r['text'])}\n")
        start = time.perf_counter()
        model = fasttext.train_supervised(input=path, verbose=0, **options)
        seconds = time.perf_counter() - start
        model_path = os.path.join(tmp, "model.bin")
        model.save_model(model_path)
        return model, os.path.getsize(model_path), seconds
