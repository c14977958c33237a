"""A float64 numpy BERT (Hugging Face layout): the reference Distill's Swift models are tested against."""
import json
import math
import struct

import numpy as np


def load_safetensors(path):
    """A plain reader of the safetensors format (header length, JSON header, raw little-endian data)."""
    with open(path, "rb") as fh:
        n = struct.unpack("<Q", fh.read(8))[0]
        header = json.loads(fh.read(n))
        data = fh.read()
    out = {}
    for name, info in header.items():
        if name == "__metadata__":
            continue
        begin, end = info["data_offsets"]
        dtype = {"F32": np.float32, "F16": np.float16, "I64": np.int64}[info["dtype"]]
        out[name] = np.frombuffer(data[begin:end], dtype=dtype).reshape(info["shape"])
    return out


def load_checkpoint(model_dir):
    """config.json, the weights (load_safetensors) and the Hugging Face `tokenizers` tokenizer of tokenizer.json,
    without padding or truncation, of a BERT folder."""
    import os

    from tokenizers import Tokenizer

    cfg = json.load(open(os.path.join(model_dir, "config.json")))
    weights = load_safetensors(os.path.join(model_dir, "model.safetensors"))
    tok = Tokenizer.from_file(os.path.join(model_dir, "tokenizer.json"))
    tok.no_padding()
    tok.no_truncation()
    return cfg, weights, tok


def layer_norm(x, w, b, eps):
    mu = x.mean(-1, keepdims=True)
    var = ((x - mu) ** 2).mean(-1, keepdims=True)
    return (x - mu) / np.sqrt(var + eps) * w + b


def gelu(x):
    return 0.5 * x * (1 + np.vectorize(math.erf)(x / math.sqrt(2)))


def encoder_states(w, cfg, ids, prefix=""):
    """Hidden states (embeddings + every layer) of one unpadded sequence."""
    f = lambda k: w[prefix + k].astype(np.float64)
    s = len(ids)
    h = f("embeddings.word_embeddings.weight")[ids] + f("embeddings.position_embeddings.weight")[:s] \
        + f("embeddings.token_type_embeddings.weight")[[0] * s]
    eps = cfg["layer_norm_eps"]
    h = layer_norm(h, f("embeddings.LayerNorm.weight"), f("embeddings.LayerNorm.bias"), eps)
    states = [h]
    heads = cfg["num_attention_heads"]
    d = cfg["hidden_size"] // heads
    act = gelu if cfg.get("hidden_act", "gelu") == "gelu" else (lambda x: np.maximum(x, 0))
    for i in range(cfg["num_hidden_layers"]):
        p = f"encoder.layer.{i}."
        lin = lambda x, name: x @ f(p + name + ".weight").T + f(p + name + ".bias")
        q = lin(h, "attention.self.query").reshape(s, heads, d).transpose(1, 0, 2)
        k = lin(h, "attention.self.key").reshape(s, heads, d).transpose(1, 0, 2)
        v = lin(h, "attention.self.value").reshape(s, heads, d).transpose(1, 0, 2)
        scores = q @ k.transpose(0, 2, 1) / math.sqrt(d)
        scores = scores - scores.max(-1, keepdims=True)
        probs = np.exp(scores)
        probs /= probs.sum(-1, keepdims=True)
        ctx = (probs @ v).transpose(1, 0, 2).reshape(s, heads * d)
        a = layer_norm(lin(ctx, "attention.output.dense") + h, f(p + "attention.output.LayerNorm.weight"),
                       f(p + "attention.output.LayerNorm.bias"), eps)
        ff = lin(act(lin(a, "intermediate.dense")), "output.dense")
        h = layer_norm(ff + a, f(p + "output.LayerNorm.weight"), f(p + "output.LayerNorm.bias"), eps)
        states.append(h)
    return states


def classifier_logits(w, cfg, ids):
    """BertForSequenceClassification logits (pooler, cls or mean pooling as the config says)."""
    h = encoder_states(w, cfg, ids, prefix="bert.")[-1]
    pooling = cfg.get("distill_pooling") or "pooler"
    if pooling == "pooler":
        pooled = np.tanh(h[0] @ w["bert.pooler.dense.weight"].astype(np.float64).T + w["bert.pooler.dense.bias"])
    elif pooling == "cls":
        pooled = h[0]
    else:
        pooled = h.mean(0)
    return pooled @ w["classifier.weight"].astype(np.float64).T + w["classifier.bias"]
