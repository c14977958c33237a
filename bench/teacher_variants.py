"""The table of bench/teacher_variants.sh: per variant, dev and held-out test macro-F1 on each split and their means;
then the mean distribution of the variants named seedN (and of those named lr1e-4, lr1e-4-seedN), which is what a
recipe with those teachers at equal weights learns from.

Usage: teacher_variants.py RESULTS_TSV (rows: variant, split folder, model folder; the model's log beside it holds the
fine-tuning's "saved … macro-F1 X" line, its .test.jsonl the `distill classify --top-k 8` answers on the held-out file)
"""
import json
import os
import re
import sys

from quality_scores import scores

rows = [line.rstrip("\n").split("\t") for line in open(sys.argv[1], encoding="utf-8") if line.strip()]
splits = list(dict.fromkeys(split for _, split, _ in rows))
truth = {s: [json.loads(line)["label"] for line in open(os.path.join(s, "test-heldout.jsonl"), encoding="utf-8")] for s in splits}


def distributions(model):
    return [{t["label"]: t["probability"] for t in json.loads(line)["top"]} for line in open(model + ".test.jsonl", encoding="utf-8")]


def macro_f1(split, dists):
    """Held-out macro-F1 of the most probable label of the mean of `dists` (one list of distributions per model)."""
    pred = []
    for per_line in zip(*dists):
        mean = {}
        for d in per_line:
            for label, p in d.items():
                mean[label] = mean.get(label, 0) + p / len(per_line)
        pred.append(max(mean, key=mean.get))
    return scores(pred, truth[split])["macro_f1"]


def dev_f1(model):
    saved = re.findall(r"^saved .*macro-F1 ([0-9.]+)", open(model + ".log", encoding="utf-8").read(), re.M)
    return float(saved[-1]) if saved else float("nan")


table = {}  # variant -> split -> (dev, test, model)
for variant, split, model in rows:
    table.setdefault(variant, {})[split] = (dev_f1(model), macro_f1(split, [distributions(model)]), model)

names = [os.path.basename(os.path.dirname(s.rstrip("/"))) or s for s in splits]
print("| variant | " + " | ".join(f"{n}: dev / test" for n in names) + " | mean dev | mean test |")
print("|---|" + "---|" * (len(splits) + 2))
for variant, per_split in table.items():
    if len(per_split) != len(splits):
        continue
    cells = [f"{per_split[s][0]:.3f} / {per_split[s][1]:.3f}" for s in splits]
    dev = sum(per_split[s][0] for s in splits) / len(splits)
    test = sum(per_split[s][1] for s in splits) / len(splits)
    print(f"| {variant} | " + " | ".join(cells) + f" | {dev:.3f} | {test:.3f} |")

# Ensembles: the mean distribution of a family's seeds, on each split.
for family, members in [("mean of seed1-3", ["seed1", "seed2", "seed3"]), ("mean of lr1e-4, seeds 1-3", ["lr1e-4", "lr1e-4-seed2", "lr1e-4-seed3"])]:
    if not all(m in table and len(table[m]) == len(splits) for m in members):
        continue
    tests = [macro_f1(s, [distributions(table[m][s][2]) for m in members]) for s in splits]
    print(f"| {family} | " + " | ".join(f"- / {t:.3f}" for t in tests) + f" | - | {sum(tests) / len(tests):.3f} |")
