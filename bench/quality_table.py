"""The table of the real-logs quality benchmark (`make bench-quality`): every model's predictions on the held-out
templates and on unseen lines of the training templates, scored against the gold labels of `distill loghub`'s
split, with the goals of the real-logs issue checked from the same run.

Metrics: accuracy; macro-F1 over the labels present in the test file's gold labels; missed alerts = share of gold
non-normal lines answered `normal`; false alarms = share of gold normal lines answered anything else; agreement =
share of lines where the model gives the teacher's answer.

Usage: python3 bench/quality_table.py SPLIT_DIR OUT_MD TEACHER_NAME NAME=PRED_DIR[:kind[:TEACHER_ROW]] ...
  kind: teacher, student, peer, baseline or zero-label (default peer); TEACHER_ROW: the name of the row of the
  teacher a student learned from, when it is not TEACHER_NAME (its share of that teacher's macro-F1); PRED_DIR holds test-heldout.jsonl, test-seen.jsonl
  (one JSON object with "label" per gold line, in order) and meta.json (train_seconds, size_bytes, lines_per_second).
"""
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from quality_scores import interval, scores, template_bootstrap_draws  # noqa: E402

split, out_md, teacher_name = sys.argv[1:4]
entries = []
own_teacher = {}  # student name -> the name of the row of the teacher it learned from, when not TEACHER_NAME
for arg in sys.argv[4:]:
    name, rest = arg.split("=", 1)
    path, _, kind = rest.partition(":")
    kind, _, teacher_of = kind.partition(":")
    entries.append((name, path, kind or "peer"))
    if teacher_of:
        own_teacher[name] = teacher_of

TESTS = ["test-heldout", "test-seen"]
records = {t: [json.loads(l) for l in open(os.path.join(split, t + ".jsonl"), encoding="utf-8")] for t in TESTS}
gold = {t: [r["label"] for r in records[t]] for t in TESTS}
# Each held-out template counts once in the template-weighted scores: a line weighs 1 / its template's lines, so
# one template of 300 lines cannot decide a column alone.
template_lines = {}
for r in records["test-heldout"]:
    template_lines[r["template"]] = template_lines.get(r["template"], 0) + 1
template_weights = [1.0 / template_lines[r["template"]] for r in records["test-heldout"]]


def predictions(path, test):
    rows = [json.loads(l) for l in open(os.path.join(path, test + ".jsonl"), encoding="utf-8") if l.strip()]
    return [r.get("label") for r in rows]


teacher_path = next((p for n, p, _ in entries if n == teacher_name), None)
teacher_pred = {t: predictions(teacher_path, t) for t in TESTS} if teacher_path else {t: None for t in TESTS}
rows = []
for name, path, kind in entries:
    meta = json.load(open(os.path.join(path, "meta.json"))) if os.path.exists(os.path.join(path, "meta.json")) else {}
    r = {"name": name, "kind": kind, "meta": meta, "predictions": os.path.abspath(path)}
    for t in TESTS:
        r[t] = scores(predictions(path, t), gold[t], None if name == teacher_name else teacher_pred[t])
    r["test-heldout-templates"] = scores(predictions(path, "test-heldout"), gold["test-heldout"],
                                         None if name == teacher_name else teacher_pred["test-heldout"], template_weights)
    rows.append(r)


def pct(x):
    return "" if x is None else f"{100 * x:.1f}%"


def num(x):
    return "" if x is None else f"{x:.3f}"


def size(b):
    return "" if not b else (f"{b / 1e6:.2f} MB" if b >= 1e5 else f"{b / 1e3:.1f} kB")


lines = [
    "| model | kind | held-out acc | held-out macro-F1 | missed alerts | false alarms | agreement w/ teacher | seen acc | seen macro-F1 | train time | size | lines/s |",
    "|---|---|---|---|---|---|---|---|---|---|---|---|",
]
for r in rows:
    h, s, m = r["test-heldout"], r["test-seen"], r["meta"]
    train = m.get("train_seconds")
    train_text = "" if train is None else f"{train:.0f} s"
    rate = m.get("lines_per_second")
    rate_text = "" if not rate else f"{rate:,.0f}"
    lines.append(f"| {r['name']} | {r['kind']} | {num(h['accuracy'])} | {num(h['macro_f1'])} | {pct(h['missed_alerts'])} | "
                 f"{pct(h['false_alarms'])} | {num(h['agreement'])} | {num(s['accuracy'])} | {num(s['macro_f1'])} | "
                 f"{train_text} | {size(m.get('size_bytes'))} | {rate_text} |")

lines += [
    "",
    f"Held-out templates, each template counted once ({len(template_lines)} templates; a line weighs 1 / its template's lines):",
    "",
    "| model | kind | acc | macro-F1 | missed alerts | false alarms | agreement w/ teacher |",
    "|---|---|---|---|---|---|---|",
]
for r in rows:
    h = r["test-heldout-templates"]
    lines.append(f"| {r['name']} | {r['kind']} | {num(h['accuracy'])} | {num(h['macro_f1'])} | {pct(h['missed_alerts'])} | "
                 f"{pct(h['false_alarms'])} | {num(h['agreement'])} |")


students = [r for r in rows if r["kind"] == "student"]
peers = [r for r in rows if r["kind"] == "peer"]
teacher = next((r for r in rows if r["name"] == teacher_name), None)
summary = []
if students and peers:
    best_s = max(students, key=lambda r: r["test-heldout"]["macro_f1"])
    best_p = max(peers, key=lambda r: r["test-heldout"]["macro_f1"])
    d = 100 * (best_s["test-heldout"]["macro_f1"] - best_p["test-heldout"]["macro_f1"])
    summary.append(f"- Held-out templates: best student **{best_s['name']}** macro-F1 {num(best_s['test-heldout']['macro_f1'])} vs best peer "
                   f"**{best_p['name']}** {num(best_p['test-heldout']['macro_f1'])}: {d:+.1f} points (goal >= +3).")
    path_of = {n: p for n, p, _ in entries}
    low, high, share = interval(template_bootstrap_draws([r["template"] for r in records["test-heldout"]],
                                                         predictions(path_of[best_s["name"]], "test-heldout"),
                                                         predictions(path_of[best_p["name"]], "test-heldout"), gold["test-heldout"]))
    templates_of = {}
    for r in records["test-heldout"]:
        templates_of.setdefault(r["label"], set()).add(r["template"])
    single = sorted(label for label, ts in templates_of.items() if len(ts) == 1)
    summary.append(f"  Resampling the {len(template_lines)} held-out templates (2,000 draws, a template's lines together), the difference "
                   f"lies in [{low:+.1f}, {high:+.1f}] points (95%) and reaches +3 in {100 * share:.0f}% of the draws"
                   + (f"; {len(single)} of the {len(templates_of)} labels present ({', '.join(single)}) "
                      f"{'rests on one template' if len(single) == 1 else 'rest on one template each'}, "
                      f"so a single template moves macro-F1 by up to {100 / len(templates_of):.0f} points." if single else "."))
    its_teacher = next((r for r in rows if r["name"] == own_teacher.get(best_s["name"])), teacher)
    if its_teacher:
        keep = best_s["test-heldout"]["macro_f1"] / max(1e-9, its_teacher["test-heldout"]["macro_f1"])
        summary.append(f"- It keeps {100 * keep:.1f}% of its teacher's held-out macro-F1 ({its_teacher['name']}, "
                       f"{num(its_teacher['test-heldout']['macro_f1'])}; goal >= 97%); missed alerts "
                       f"{pct(best_s['test-heldout']['missed_alerts'])} (goal <= 10%) at {pct(best_s['test-heldout']['false_alarms'])} "
                       f"false alarms (goal <= 2%).")
    best_st = max(students, key=lambda r: r["test-heldout-templates"]["macro_f1"])
    best_pt = max(peers, key=lambda r: r["test-heldout-templates"]["macro_f1"])
    summary.append(f"- Each template counted once: best student **{best_st['name']}** macro-F1 {num(best_st['test-heldout-templates']['macro_f1'])}, "
                   f"missed alerts {pct(best_st['test-heldout-templates']['missed_alerts'])}, false alarms "
                   f"{pct(best_st['test-heldout-templates']['false_alarms'])}; best peer **{best_pt['name']}** "
                   f"{num(best_pt['test-heldout-templates']['macro_f1'])}.")
    zero = next((r for r in rows if r["kind"] == "zero-label"), None)
    llm = next((r for r in rows if r["kind"] == "teacher" and r["name"] != teacher_name), None)
    if zero and llm:
        d = 100 * (zero["test-heldout"]["macro_f1"] - llm["test-heldout"]["macro_f1"])
        cost = ""
        info = os.path.join(next(p for n, p, _ in entries if n == zero["name"]), "labelling.json")
        if os.path.exists(info):
            c = json.load(open(info))
            cost = (f"; labelling its {c['lines']:,} unlabelled lines asked {c['keys']} questions (one per mined template) for {c['templates']} gold templates "
                    f"({c['keys'] / max(1, c['templates']):.2f} calls per template at most; goal <= 1)")
        summary.append(f"- Zero-label path: **{zero['name']}** held-out macro-F1 {num(zero['test-heldout']['macro_f1'])} vs its LLM teacher "
                       f"{num(llm['test-heldout']['macro_f1'])}: {d:+.1f} points (goal >= -2){cost}.")
    best_seen = max(students, key=lambda r: r["test-seen"]["macro_f1"])
    summary.append(f"- Seen templates: best student macro-F1 {num(best_seen['test-seen']['macro_f1'])} ({best_seen['name']}; goal >= 0.97).")
counts = {t: len(gold[t]) for t in TESTS}
text = "\n".join(lines) + "\n\n" + "\n".join(summary) + (
    f"\n\nHeld-out: {counts['test-heldout']} lines of templates no model trained or tuned on; seen: {counts['test-seen']} unseen lines "
    f"of the training templates. Macro-F1 over the labels present in each test file.\n")
open(out_md, "w").write(text)
json.dump(rows, open(os.path.splitext(out_md)[0] + ".json", "w"), indent=1)
# The comparison `distill report` renders as quality.html (table + size/speed/quality Pareto charts), held-out templates.
comparison = {
    "title": "Real logs: quality on held-out templates, size and speed",
    "subtitle": f"{len(gold['test-heldout'])} lines of {len(template_lines)} templates no model was trained on; macro-F1 over the labels present.",
    "latency": "batch time per line (1000 / lines per second)",
    "rows": [{"name": r["name"], "accuracy": r["test-heldout"]["accuracy"], "macro_f1": r["test-heldout"]["macro_f1"],
              "agreement_with_teacher": r["test-heldout"]["agreement"], "size_bytes": r["meta"].get("size_bytes") or None,
              "ms_per_line": 1000 / r["meta"]["lines_per_second"] if r["meta"].get("lines_per_second") else None,
              "lines_per_second": r["meta"].get("lines_per_second") or None} for r in rows],
}
json.dump(comparison, open(os.path.splitext(out_md)[0] + "-comparison.json", "w"), indent=1)
print(text)
