"""Peers of the real-logs quality benchmark (`make bench-quality`): what a user would train instead of Distill on
the same hand-labelled lines (labelled.jsonl of `distill loghub`), reading the raw lines as they are.

- TF-IDF (word 1-2-grams + character 3-5-grams) + logistic regression (scikit-learn), class-balanced.
- fastText (fasttext-wheel 0.9.2), supervised, word bigrams and character 3-5-grams.

For each peer and each test file, writes PREDICTIONS_DIR/<peer>/<test>.jsonl ({"label": ...} per input line, in
order) and PREDICTIONS_DIR/<peer>/meta.json (training seconds, size on disk, lines/s on the held-out file).

Usage: python3 bench/quality_peers.py SPLIT_DIR PREDICTIONS_DIR
"""
import os
import pickle
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from peer_predictions import Predictions, read  # noqa: E402

split, out = sys.argv[1:3]
train = read(split, "labelled")
write = Predictions(split, out).write


# TF-IDF + logistic regression: the "ten lines of scikit-learn".
import sklearn
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline, make_union

start = time.perf_counter()
pipeline = make_pipeline(
    make_union(TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True),
               TfidfVectorizer(analyzer="char_wb", ngram_range=(3, 5), sublinear_tf=True)),
    LogisticRegression(max_iter=2000, C=10, class_weight="balanced"))
pipeline.fit([r["text"] for r in train], [r["label"] for r in train])
seconds = time.perf_counter() - start
size = len(pickle.dumps(pipeline))
write("tfidf-lr", lambda texts: list(pipeline.predict(texts)), seconds, size, f"scikit-learn {sklearn.__version__}")

# fastText.
import fasttext_train

model, size, seconds = fasttext_train.train(train, dim=32, bucket=262144, wordNgrams=2, minn=3, maxn=5, epoch=25, lr=0.5,
                                            thread=2, seed=1)
clean = fasttext_train.clean
write("fasttext", lambda texts: [p[0][len("__label__"):] for p in model.predict([clean(t) for t in texts], k=1)[0]],
      seconds, size, "fasttext-wheel 0.9.2")
