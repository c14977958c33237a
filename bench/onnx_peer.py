"""ONNX Runtime peer for the edge table of `make bench`: the demo's distilled tiny BERT (the same weights) exported
to ONNX through PyTorch, checked against the float64 numpy reference (scripts/bert_numpy.py), then timed in ONNX
Runtime on the same stream files as `distill classify` — tokenized by Hugging Face `tokenizers` (Rust), truncated
to the model's 48 positions, batches of 256 padded to their longest line. Like the fastText peer it reads the raw
stream lines (no log normalization). Scored on the demo's held-out lines. Prints and writes one JSON object.

Usage: python3 bench/onnx_peer.py DEMO_DIR STREAM_REALISTIC STREAM_UNIQUE OUT_JSON [THREADS]
"""
import json
import math
import os
import sys
import tempfile
import time

import numpy as np
import onnxruntime as ort
import torch
from safetensors.numpy import load_file
from tokenizers import BertWordPieceTokenizer

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "scripts"))
from bert_numpy import classifier_logits  # noqa: E402

demo, realistic_path, unique_path, out_path = sys.argv[1:5]
threads = int(sys.argv[5]) if len(sys.argv) > 5 else 2
folder = os.path.join(demo, "models/tiny-bert-kd")
cfg = json.load(open(os.path.join(folder, "config.json")))
w = {k: torch.from_numpy(v.copy()) for k, v in load_file(os.path.join(folder, "model.safetensors")).items()}
assert cfg.get("distill_pooling") == "mean", "the demo's tiny BERT uses mean pooling"


class TinyBert(torch.nn.Module):
    """BertForSequenceClassification with mean pooling, reading Distill's (= Hugging Face's) tensor names."""

    def __init__(self):
        super().__init__()
        self.heads, self.eps = cfg["num_attention_heads"], cfg["layer_norm_eps"]

    def ln(self, x, name):
        return torch.nn.functional.layer_norm(x, (cfg["hidden_size"],), w[name + ".weight"], w[name + ".bias"], self.eps)

    def lin(self, x, name):
        return x @ w[name + ".weight"].T + w[name + ".bias"]

    def forward(self, ids, mask):
        pos = torch.arange(ids.shape[1]).unsqueeze(0)
        h = w["bert.embeddings.word_embeddings.weight"][ids] + w["bert.embeddings.position_embeddings.weight"][pos] \
            + w["bert.embeddings.token_type_embeddings.weight"][torch.zeros_like(ids)]
        h = self.ln(h, "bert.embeddings.LayerNorm")
        d = cfg["hidden_size"] // self.heads
        bias = (1.0 - mask[:, None, None, :].float()) * -1e9
        for i in range(cfg["num_hidden_layers"]):
            p = f"bert.encoder.layer.{i}."
            split = lambda x: x.reshape(x.shape[0], x.shape[1], self.heads, d).transpose(1, 2)
            q, k, v = (split(self.lin(h, p + f"attention.self.{n}")) for n in ("query", "key", "value"))
            probs = torch.softmax(q @ k.transpose(-1, -2) / math.sqrt(d) + bias, dim=-1)
            ctx = (probs @ v).transpose(1, 2).reshape(h.shape[0], h.shape[1], self.heads * d)
            a = self.ln(self.lin(ctx, p + "attention.output.dense") + h, p + "attention.output.LayerNorm")
            ff = self.lin(torch.nn.functional.gelu(self.lin(a, p + "intermediate.dense")), p + "output.dense")
            h = self.ln(ff + a, p + "output.LayerNorm")
        m = mask.unsqueeze(-1).float()
        pooled = (h * m).sum(1) / m.sum(1).clamp(min=1)
        return self.lin(pooled, "classifier")


tokenizer = BertWordPieceTokenizer(os.path.join(folder, "vocab.txt"), lowercase=True)
max_len = cfg["max_position_embeddings"]
tokenizer.enable_truncation(max_len)


def encode(lines):
    encodings = tokenizer.encode_batch(lines)
    s = max(len(e.ids) for e in encodings)
    ids = np.zeros((len(lines), s), dtype=np.int64)
    mask = np.zeros((len(lines), s), dtype=np.int64)
    for i, e in enumerate(encodings):
        ids[i, :len(e.ids)] = e.ids
        mask[i, :len(e.ids)] = 1
    return ids, mask


with tempfile.TemporaryDirectory() as tmp:
    onnx_path = os.path.join(tmp, "tiny-bert.onnx")
    ids, mask = encode(["disk full on /dev/sda1", "connection refused"])
    torch.onnx.export(TinyBert().eval(), (torch.from_numpy(ids), torch.from_numpy(mask)), onnx_path, input_names=["input_ids", "attention_mask"],
                      output_names=["logits"], dynamic_axes={"input_ids": {0: "batch", 1: "seq"}, "attention_mask": {0: "batch", 1: "seq"},
                                                             "logits": {0: "batch"}}, opset_version=17, dynamo=False)
    size = os.path.getsize(onnx_path)
    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    session = ort.InferenceSession(onnx_path, options, providers=["CPUExecutionProvider"])

# The exported graph must compute what Distill's model computes: compare with the float64 numpy reference.
heldout = [json.loads(l) for l in open(os.path.join(demo, "data/heldout.jsonl"), encoding="utf-8")]
wn = load_file(os.path.join(folder, "model.safetensors"))
check = [e["text"] for e in heldout[:16]]
ids, mask = encode(check)
got = session.run(None, {"input_ids": ids, "attention_mask": mask})[0]
worst = max(float(np.abs(got[i] - classifier_logits(wn, cfg, ids[i, :mask[i].sum()].tolist())).max()) for i in range(len(check)))
assert worst < 1e-3, f"ONNX logits differ from the numpy reference by {worst}"

labels = [cfg["id2label"][str(i)] for i in range(len(cfg["id2label"]))]
correct = 0
for s in range(0, len(heldout), 256):
    chunk = heldout[s:s + 256]
    ids, mask = encode([e["text"] for e in chunk])
    logits = session.run(None, {"input_ids": ids, "attention_mask": mask})[0]
    correct += sum(labels[int(np.argmax(l))] == e["label"] for l, e in zip(logits, chunk))
accuracy = correct / len(heldout)

realistic = open(realistic_path, encoding="utf-8").read().split("\n")[:-1]
unique = open(unique_path, encoding="utf-8").read().split("\n")[:-1]
latencies = []
for line in unique[:2000]:
    t = time.perf_counter()
    ids, mask = encode([line])
    session.run(None, {"input_ids": ids, "attention_mask": mask})
    latencies.append((time.perf_counter() - t) * 1e3)
latencies.sort()


def stream(lines):
    t = time.perf_counter()
    for s in range(0, len(lines), 256):
        ids, mask = encode(lines[s:s + 256])
        session.run(None, {"input_ids": ids, "attention_mask": mask})
    return time.perf_counter() - t


result = {"name": "ONNX Runtime", "version": f"onnxruntime {ort.__version__} ({threads} threads)", "accuracy": accuracy, "size_bytes": size,
          "single_p50_ms": latencies[len(latencies) // 2], "single_p99_ms": latencies[len(latencies) * 99 // 100],
          "realistic_seconds": stream(realistic), "unique_seconds": stream(unique), "max_logit_difference_vs_reference": worst}
json.dump(result, open(out_path, "w"), indent=1)
print(json.dumps(result))
