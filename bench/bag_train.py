"""The bag-training benchmark of `make bench` (run by bench/bag_train.sh): fastText trained on the same prepared
lines, epochs and n-gram options as the `distill train` runs, and the table of training throughput and accuracy.

Usage: bag_train.py fasttext WORK EPOCHS TRIAL     one fastText training (WORK/fasttext-TRIAL.json)
       bag_train.py table WORK EPOCHS TRIALS OUT_JSON
WORK holds train.jsonl, test-*.jsonl and their prepared texts (`distill prepare` output, *-prepared.jsonl), and
for each Distill run NAME and trial N: NAME-N.log (the `distill train` output) and NAME-N.seconds, and the first
trial's NAME-test-*.json (`distill eval`). Sparse and SGD runs have TRIALS trials, dense one.
"""
import json
import pathlib
import re
import statistics
import sys

tests = ["seen", "heldout"]


def prepared(work, name):
    return [json.loads(l)["text"] for l in (work / f"{name}-prepared.jsonl").read_text().splitlines()]


def training_rows(work):
    train = [json.loads(l) for l in (work / "train.jsonl").read_text().splitlines()]
    texts = prepared(work, "train")
    assert len(texts) == len(train), "one prepared text per training line"
    return [{"text": t, "label": r["label"]} for t, r in zip(texts, train)]


def fasttext_trial(work, epochs, trial):
    import fasttext_train
    rows = training_rows(work)
    # fastText with Distill's featurizer options (2^18 buckets, word 1-2 grams, char 3-5 grams, width 64), lr 0.5 as
    # the quality benchmark's fastText peer, both threads.
    model, size, seconds = fasttext_train.train(rows, dim=64, bucket=262144, wordNgrams=2, minn=3, maxn=5, epoch=epochs,
                                                lr=0.5, thread=2, seed=1)
    accuracy = {}
    for name in tests:
        gold = [json.loads(l)["label"] for l in (work / f"test-{name}.jsonl").read_text().splitlines()]
        hits = sum(model.predict(fasttext_train.clean(t))[0][0] == "__label__" + g for t, g in zip(prepared(work, f"test-{name}"), gold))
        accuracy[name] = hits / len(gold)
    (work / f"fasttext-{trial}.json").write_text(json.dumps({"seconds": seconds, **accuracy}))


def distill_trial(work, name, trial, examples):
    log = (work / f"{name}-{trial}.log").read_text()
    steps = re.findall(r"^step (\d+)/\d+ .* ([\d.]+) steps/s", log, re.M)
    if not steps:
        sys.exit(f"bag_train: no progress line in {work / f'{name}-{trial}.log'}")
    done, rate = int(steps[-1][0]), float(steps[-1][1])
    loop = done / rate
    return {"seconds": float((work / f"{name}-{trial}.seconds").read_text()), "loopSeconds": loop, "steps": done,
            "examplesPerSecond": examples / loop}


def table(work, epochs, trials, out):
    examples = len(training_rows(work)) * epochs
    fasttext = [json.loads((work / f"fasttext-{t}.json").read_text()) for t in range(1, trials + 1)]
    for f in fasttext:
        f["loopSeconds"] = f["seconds"]
        f["examplesPerSecond"] = examples / f["seconds"]
    runs = {"fasttext": {"trials": fasttext, **{t: fasttext[0][t] for t in tests}}}
    for name, count in [("sparse", trials), ("dense", 1), ("sgd", trials)]:
        runs[name] = {"trials": [distill_trial(work, name, t, examples) for t in range(1, count + 1)],
                      **{t: json.loads((work / f"{name}-test-{t}.json").read_text())["accuracy"] for t in tests}}
    for name, run in runs.items():
        for key in ["loopSeconds", "seconds", "examplesPerSecond"]:
            run[key] = statistics.median(r[key] for r in run["trials"])
        # Each trial against the fastText trial beside it (dense: against the first).
        run["vsFastText"] = [r["examplesPerSecond"] / f["examplesPerSecond"] for r, f in zip(run["trials"], fasttext)]
    print(f"\nBag training: {examples // epochs} real Loghub lines (labelled + unlabelled of `distill loghub`, gold labels), "
          f"{epochs} epochs, the same prepared text and n-gram options for all, 2 cores; medians of {trials} interleaved trials "
          "(dense AdamW: one)\n")
    print("| trainer | loop s | command s | examples/s | vs fastText: median (each trial) | acc. seen templates | acc. held-out templates |")
    print("|---|---|---|---|---|---|---|")
    titles = {"fasttext": "fastText 0.9.2 (SGD, 2 threads)", "sparse": "distill train, bag, embedding_updates: sparse (lazy Adam)",
              "dense": "distill train, bag, embedding_updates: dense (AdamW on every row)",
              "sgd": "distill train, bag, optimizer: sgd (fastText's SGD, lr 0.1)"}
    for name, title in titles.items():
        r = runs[name]
        ratios = r["vsFastText"]
        print(f"| {title} | {r['loopSeconds']:.2f} | {r['seconds']:.1f} | {r['examplesPerSecond']:,.0f} | "
              f"{statistics.median(ratios):.2f}x ({', '.join(f'{x:.2f}' for x in ratios)}) | {r['seen']:.4f} | {r['heldout']:.4f} |")
    gap = max(abs(runs["sparse"][t] - runs["dense"][t]) for t in tests)
    sparse_ratio, sgd_ratio = statistics.median(runs["sparse"]["vsFastText"]), statistics.median(runs["sgd"]["vsFastText"])
    print(f"\nsparse vs dense accuracy: largest gap {100 * gap:.2f} points (goal: within 1); lazy Adam is {sparse_ratio:.2f}x "
          f"fastText's examples/s (goal: 1.0x) and {runs['sparse']['examplesPerSecond'] / runs['dense']['examplesPerSecond']:.1f}x dense's; "
          f"sgd vs dense accuracy: largest gap {100 * max(abs(runs['sgd'][t] - runs['dense'][t]) for t in tests):.2f} points, "
          f"sgd is {sgd_ratio:.2f}x fastText's examples/s. "
          "Loop s: the training loop with its dev evaluations and checkpoints (steps / the last progress line's steps/s); "
          "command s: the whole `distill train` (loading, featurizing, test report, saving).")
    pathlib.Path(out).write_text(json.dumps({"lines": examples // epochs, "epochs": epochs, "trials": trials, "runs": runs,
                                             "sparseVsFastText": sparse_ratio, "sgdVsFastText": sgd_ratio,
                                             "sparseDenseAccuracyGap": gap}, indent=1))


if __name__ == "__main__":
    mode, work, epochs = sys.argv[1], pathlib.Path(sys.argv[2]), int(sys.argv[3])
    if mode == "fasttext":
        fasttext_trial(work, epochs, int(sys.argv[4]))
    elif mode == "table":
        table(work, epochs, int(sys.argv[4]), sys.argv[5])
    else:
        sys.exit(f"bag_train.py: unknown mode {mode!r} (fasttext or table)")
