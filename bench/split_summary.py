"""The real-logs quality goal over several template splits (issue 14): reads the tables bench/quality_table.py wrote
for each split (bench/quality.sh's run, bench/split_seeds.sh's sN folders) and prints, per split and on average,
each student's held-out macro-F1 minus the best peer's.

Only the student and peer rows present in every folder count, so that each split picks its best among the same
models. The interval of the mean resamples the held-out templates of every split independently (2,000 draws, a
template's lines together) and averages the best student's margin over the splits in each draw.

Usage: python3 bench/split_summary.py RESULT_FOLDER...   (each holding quality.json and split/test-heldout.jsonl)
"""
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from quality_scores import interval, template_bootstrap_draws  # noqa: E402

GOAL = 3.0
folders = sys.argv[1:]
if not folders:
    sys.exit(__doc__)


def read_jsonl(path):
    return [json.loads(line) for line in open(path, encoding="utf-8") if line.strip()]


splits = []
for folder in folders:
    rows = json.load(open(os.path.join(folder, "quality.json"), encoding="utf-8"))
    records = read_jsonl(os.path.join(folder, "split", "test-heldout.jsonl"))
    seed = json.load(open(os.path.join(folder, "split", "split.json"), encoding="utf-8")).get("seed", "?")
    splits.append({"folder": folder, "seed": seed, "rows": {r["name"]: r for r in rows}, "records": records})


def common(kind):
    names = [n for n, r in splits[0]["rows"].items() if r["kind"] == kind]
    return [n for n in names if all(n in s["rows"] and s["rows"][n]["kind"] == kind for s in splits)]


students, peers, teachers = common("student"), common("peer"), common("teacher")
if not students or not peers:
    sys.exit(f"split_summary: no student or no peer row is in every folder ({', '.join(folders)})")


def f1(split, name):
    return split["rows"][name]["test-heldout"]["macro_f1"]


def held_out_labels(split, name):
    path = split["rows"][name].get("predictions")
    if not path:
        sys.exit(f"split_summary: {split['folder']}/quality.json has no predictions folder for {name!r}; rerun bench/quality_table.py")
    return [r.get("label") for r in read_jsonl(os.path.join(path, "test-heldout.jsonl"))]


# Teachers are context: a student rarely beats the teacher it copies, so their margins say where a gap comes from.
compared = teachers + students
header = ["split (seed)", "held-out templates / lines", "best peer"] + compared + ["best student - best peer", "95% interval"]
lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
margins = {name: [] for name in compared}
best_margins, all_draws = [], []
for number, s in enumerate(splits, start=1):
    best_peer = max(peers, key=lambda n: f1(s, n))
    best_student = max(students, key=lambda n: f1(s, n))
    for name in compared:
        margins[name].append(100 * (f1(s, name) - f1(s, best_peer)))
    margin = margins[best_student][-1]
    best_margins.append(margin)
    truth = [r["label"] for r in s["records"]]
    draws = template_bootstrap_draws([r["template"] for r in s["records"]], held_out_labels(s, best_student),
                                     held_out_labels(s, best_peer), truth, seed=number)  # independent draws per split
    all_draws.append(draws)
    low, high, _ = interval(draws, GOAL)
    templates = len({r["template"] for r in s["records"]})
    cells = [str(s["seed"]), f"{templates} / {len(truth):,}", f"{best_peer} {f1(s, best_peer):.3f}"]
    cells += [f"{f1(s, n):.3f} ({margins[n][-1]:+.1f})" for n in compared]
    cells += [f"{margin:+.1f} ({best_student})", f"[{low:+.1f}, {high:+.1f}]"]
    lines.append("| " + " | ".join(cells) + " |")

n = len(splits)
mean_draws = [sum(d[i] for d in all_draws) / n for i in range(len(all_draws[0]))]
low, high, share = interval(mean_draws, GOAL)
lines.append("")
for name in compared:
    m = margins[name]
    lines.append(f"- {'teacher' if name in teachers else 'student'} **{name}** minus the best peer of each split: mean {sum(m) / n:+.1f} points over {n} splits "
                 f"(from {min(m):+.1f} to {max(m):+.1f}).")
lines.append(f"- The best student minus the best peer: mean **{sum(best_margins) / n:+.1f}** points (goal >= +{GOAL:.0f}); "
             f"resampling each split's held-out templates, the mean lies in [{low:+.1f}, {high:+.1f}] (95%) and reaches "
             f"+{GOAL:.0f} in {100 * share:.0f}% of the draws.")
lines.append(f"- Teachers: {', '.join(teachers) or 'none'}. Students: {', '.join(students)}. Peers: {', '.join(peers)} "
             "(the rows every split has; in brackets, each model's macro-F1 minus the best peer's).")
print("\n".join(lines))
