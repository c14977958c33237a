"""The bag-training benchmark of `make bench` (run by bench/bag_train.sh): fastText trained on the same prepared
lines, epochs and n-gram options as the `distill train` runs, and the table of training throughput and accuracy.

Usage: bag_train.py WORK OUT_JSON EPOCHS
WORK holds train.jsonl, test-*.jsonl and their prepared texts (`distill prepare` output, *-prepared.jsonl), and
for each Distill run NAME: NAME.log (the `distill train` output), NAME.seconds and NAME-test-*.json (`distill eval`).
"""
import json
import pathlib
import re
import sys

import fasttext_train

work, out, epochs = pathlib.Path(sys.argv[1]), sys.argv[2], int(sys.argv[3])
train = [json.loads(l) for l in (work / "train.jsonl").read_text().splitlines()]
def prepared(name):
    return [json.loads(l)["text"] for l in (work / f"{name}-prepared.jsonl").read_text().splitlines()]


texts = prepared("train")
assert len(texts) == len(train), "one prepared text per training line"
rows = [{"text": t, "label": r["label"]} for t, r in zip(texts, train)]
tests = ["seen", "heldout"]


def accuracy_fasttext(model, name):
    gold = [json.loads(l)["label"] for l in (work / f"test-{name}.jsonl").read_text().splitlines()]
    texts = prepared(f"test-{name}")
    hits = sum(model.predict(fasttext_train.clean(t))[0][0] == "__label__" + g for t, g in zip(texts, gold))
    return hits / len(gold)


# fastText with Distill's featurizer options (2^18 buckets, word 1-2 grams, char 3-5 grams, width 64), lr 0.5 as
# the quality benchmark's fastText peer, both threads.
model, size, seconds = fasttext_train.train(rows, dim=64, bucket=262144, wordNgrams=2, minn=3, maxn=5, epoch=epochs,
                                            lr=0.5, thread=2, seed=1)
runs = {"fasttext": {"seconds": seconds, "loopSeconds": seconds, "examplesPerSecond": len(rows) * epochs / seconds,
                     **{t: accuracy_fasttext(model, t) for t in tests}}}

for name in ["sparse", "dense", "sgd"]:
    log = (work / f"{name}.log").read_text()
    steps = re.findall(r"^step (\d+)/\d+ .* ([\d.]+) steps/s", log, re.M)
    if not steps:
        sys.exit(f"bag_train: no progress line in {work / name}.log")
    done, rate = int(steps[-1][0]), float(steps[-1][1])
    loop = done / rate
    runs[name] = {"seconds": float((work / f"{name}.seconds").read_text()), "loopSeconds": loop, "steps": done,
                  "examplesPerSecond": len(rows) * epochs / loop,
                  **{t: json.loads((work / f"{name}-test-{t}.json").read_text())["accuracy"] for t in tests}}

ft = runs["fasttext"]["examplesPerSecond"]
print(f"\nBag training: {len(rows)} real Loghub lines (labelled + unlabelled of `distill loghub`, gold labels), {epochs} epochs, "
      "the same prepared text and n-gram options for all, 2 cores\n")
print("| trainer | loop s | command s | examples/s | vs fastText | acc. seen templates | acc. held-out templates |")
print("|---|---|---|---|---|---|---|")
titles = {"fasttext": "fastText 0.9.2 (SGD, 2 threads)", "sparse": "distill train, bag, embedding_updates: sparse (lazy Adam)",
          "dense": "distill train, bag, embedding_updates: dense (AdamW on every row)",
          "sgd": "distill train, bag, optimizer: sgd (fastText's SGD, lr 0.1)"}
for name, title in titles.items():
    r = runs[name]
    print(f"| {title} | {r['loopSeconds']:.2f} | {r['seconds']:.1f} | {r['examplesPerSecond']:,.0f} | "
          f"{r['examplesPerSecond'] / ft:.2f}x | {r['seen']:.4f} | {r['heldout']:.4f} |")
gap = max(abs(runs["sparse"][t] - runs["dense"][t]) for t in tests)
print(f"\nsparse vs dense accuracy: largest gap {100 * gap:.2f} points (goal: within 1); "
      f"sparse is {runs['sparse']['examplesPerSecond'] / runs['dense']['examplesPerSecond']:.1f}x dense's examples/s; "
      f"sgd vs dense accuracy: largest gap {100 * max(abs(runs['sgd'][t] - runs['dense'][t]) for t in tests):.2f} points, "
      f"sgd is {runs['sgd']['examplesPerSecond'] / ft:.2f}x fastText's examples/s. "
      "Loop s: the training loop with its dev evaluations and checkpoints (steps / the last progress line's steps/s); "
      "command s: the whole `distill train` (loading, featurizing, test report, saving).")
pathlib.Path(out).write_text(json.dumps({"lines": len(rows), "epochs": epochs, "runs": runs,
                                         "sparseVsFastText": runs["sparse"]["examplesPerSecond"] / ft,
                                         "sgdVsFastText": runs["sgd"]["examplesPerSecond"] / ft,
                                         "sparseDenseAccuracyGap": gap}, indent=1))
