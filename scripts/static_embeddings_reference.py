#!/usr/bin/env python3
"""Reference static embeddings of a BERT checkpoint (all-MiniLM-L6-v2), by model2vec's method, in float64 numpy.

Each entry goes through the encoder alone: an entry that is a token of the vocabulary as `[CLS] token [SEP]`,
any other word as `[CLS] its word pieces [SEP]` (the Hugging Face `tokenizers` library); the last layer's states
are averaged over all positions. Then a PCA of the entries' vectors: centered, eigendecomposition of the
covariance (numpy.linalg.eigh), the leading components, each component's sign flipped so that its
largest-magnitude score is positive — model2vec's reduction (`_pca_fit_transform`).

Usage: static_embeddings_reference.py MODEL_DIR OUT_DIR  ->  OUT_DIR/static_embeddings_reference.json
"""
import json
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from bert_numpy import encoder_states, load_checkpoint  # noqa: E402

# Vocabulary tokens (whole words, continuation pieces, punctuation) and words the vocabulary does not hold
# (split into pieces): log words of several systems.
ENTRIES = ["connection", "refused", "timeout", "disk", "memory", "denied", "password", "exception", "null",
           "##ing", "##ed", ".", ":", "error", "warning", "started", "block", "replica", "heartbeat", "kernel",
           "namenode", "datanode", "blk", "zookeeper", "sshd", "oom", "nullpointerexception", "wal", "fsync",
           "segfault", "jvm", "kubelet", "authentication", "throttled", "quorum", "socket", "tls", "handshake",
           "unreachable", "corrupted"]
COMPONENTS = 8


def main():
    model_dir, out_dir = sys.argv[1], sys.argv[2]
    os.makedirs(out_dir, exist_ok=True)
    cfg, weights, tok = load_checkpoint(model_dir)
    vocab = tok.get_vocab()
    cls, sep = vocab["[CLS]"], vocab["[SEP]"]
    cases, rows = [], []
    for entry in ENTRIES:
        ids = [cls, vocab[entry], sep] if entry in vocab else tok.encode(entry).ids
        vector = encoder_states(weights, cfg, ids)[-1].mean(0)
        rows.append(vector)
        cases.append({"entry": entry, "ids": ids, "vector": vector.tolist()})
    x = np.stack(rows)
    xc = x - x.mean(0)
    values, vectors = np.linalg.eigh(xc.T @ xc / (len(x) - 1))
    order = np.argsort(values)[::-1][:COMPONENTS]
    scores = xc @ vectors[:, order]
    signs = np.sign(scores[np.argmax(np.abs(scores), axis=0), range(COMPONENTS)])
    scores = scores * signs
    ratio = values[order] / np.clip(values, 0, None).sum()
    with open(os.path.join(out_dir, "static_embeddings_reference.json"), "w") as fh:
        json.dump({"generator": "scripts/static_embeddings_reference.py", "components": COMPONENTS, "cases": cases,
                   "scores": scores.tolist(), "explained_variance_ratio": ratio.tolist()}, fh)
    print(f"static_embeddings_reference: {len(cases)} entries -> {out_dir}")


if __name__ == "__main__":
    main()
