#!/usr/bin/env python3
"""Runs `distill export` output in the real libraries and compares with `distill classify` (the export tests).

  check_export.py --prepared P.jsonl --classified C.jsonl [--hf DIR] [--onnx DIR] [--temperature T]

P: `distill prepare --model SRC` output (the text, input_ids or feature_ids Distill feeds the model) for the lines;
C: `distill classify --model SRC --top-k <labels>` output for the same lines (probabilities of every label).
hf: AutoTokenizer + AutoModelForSequenceClassification (trust_remote_code=True) on the prepared texts, the token ids
compared with Distill's, the probabilities with classify's; pipeline("text-classification") on the first lines; a
plain load without trust_remote_code must refuse a distill_bert folder. onnx: onnx.checker (full check), then
onnxruntime on the prepared ids. Prints one JSON object.
"""
import argparse
import json
import os

import numpy as np

parser = argparse.ArgumentParser()
parser.add_argument("--prepared", required=True)
parser.add_argument("--classified", required=True)
parser.add_argument("--hf")
parser.add_argument("--onnx")
parser.add_argument("--temperature", type=float, default=1.0)
args = parser.parse_args()

prepared = [json.loads(l) for l in open(args.prepared, encoding="utf-8")]
classified = [json.loads(l) for l in open(args.classified, encoding="utf-8")]
assert len(prepared) == len(classified), (len(prepared), len(classified))


def compare(probabilities, labels):
    """Max |p - p_distill| and how many lines have the same top label."""
    expected = np.array([[next(t["probability"] for t in row["top"] if t["label"] == label) for label in labels] for row in classified])
    diff = np.abs(probabilities - expected).max(axis=1)
    same = int((probabilities.argmax(axis=1) == expected.argmax(axis=1)).sum())
    worst = int(diff.argmax())
    return {"lines": len(classified), "max_probability_difference": float(diff.max()), "same_top_label": same,
            "worst_line": worst + 1, "labels": labels}


result = {}
if args.hf:
    import torch
    import transformers
    from transformers import AutoModelForSequenceClassification, AutoTokenizer, pipeline

    config = json.load(open(os.path.join(args.hf, "config.json")))
    labels = [config["id2label"][str(i)] for i in range(len(config["id2label"]))]
    remote = config.get("model_type") == "distill_bert"
    tokenizer = AutoTokenizer.from_pretrained(args.hf, trust_remote_code=remote)  # its config class is the folder's code
    model = AutoModelForSequenceClassification.from_pretrained(args.hf, trust_remote_code=True).eval()
    texts = [r["text"] for r in prepared]
    same_ids = sum(tokenizer(t, truncation=True)["input_ids"] == r["input_ids"] for t, r in zip(texts, prepared))
    probabilities = []
    with torch.no_grad():
        for s in range(0, len(texts), 32):
            batch = tokenizer(texts[s:s + 32], padding=True, truncation=True, return_tensors="pt")
            probabilities.append((model(**batch).logits / args.temperature).softmax(-1).numpy())
    r = compare(np.concatenate(probabilities), labels)
    r.update({"transformers": transformers.__version__, "same_token_ids": int(same_ids), "model_class": type(model).__name__,
              "model_max_length": tokenizer.model_max_length})
    head = min(len(texts), 40)
    answers = pipeline("text-classification", model=model, tokenizer=tokenizer, top_k=1, truncation=True)(texts[:head])
    expected_top = [max(row["top"], key=lambda t: t["probability"])["label"] for row in classified[:head]]
    r["pipeline_same_top_label"] = sum(a[0]["label"] == e for a, e in zip(answers, expected_top))
    r["pipeline_lines"] = head
    if config.get("model_type") == "distill_bert":
        try:
            AutoModelForSequenceClassification.from_pretrained(args.hf, trust_remote_code=False)  # interactive sessions are asked instead
            r["plain_load"] = "loaded"
        except Exception as e:  # noqa: BLE001 - the point is that it refuses, whatever the exception type
            r["plain_load"] = "refused: " + str(e).split("\n")[0][:200]
    result["hf"] = r

if args.onnx:
    import onnx
    import onnxruntime

    path = os.path.join(args.onnx, "model.onnx")
    graph = onnx.load(path)
    onnx.checker.check_model(graph, full_check=True)
    meta = {p.key: p.value for p in graph.metadata_props}
    labels = json.loads(meta["distill.labels"])
    session = onnxruntime.InferenceSession(path, providers=["CPUExecutionProvider"])
    names = [i.name for i in session.get_inputs()]
    probabilities = []
    for s in range(0, len(prepared), 32):
        rows = prepared[s:s + 32]
        if "feature_ids" in rows[0]:
            width = max(1, max(len(r["feature_ids"]) for r in rows))
            ids = np.full((len(rows), width), -1, dtype=np.int64)
            for i, r in enumerate(rows):
                ids[i, :len(r["feature_ids"])] = r["feature_ids"]
            feeds = {"feature_ids": ids}
        else:
            width = max(len(r["input_ids"]) for r in rows)
            ids = np.zeros((len(rows), width), dtype=np.int64)
            mask = np.zeros((len(rows), width), dtype=np.int64)
            for i, r in enumerate(rows):
                ids[i, :len(r["input_ids"])] = r["input_ids"]
                mask[i, :len(r["input_ids"])] = 1
            feeds = {"input_ids": ids, "attention_mask": mask}
        probabilities.append(session.run(["probabilities"], feeds)[0])
    r = compare(np.concatenate(probabilities), labels)
    r.update({"onnxruntime": onnxruntime.__version__, "onnx": onnx.__version__, "opset": graph.opset_import[0].version, "inputs": names,
              "bytes": os.path.getsize(path), "metadata": sorted(meta)})
    result["onnx"] = r

print(json.dumps(result))
