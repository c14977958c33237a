"""Scores of the real-logs quality benchmark, shared by bench/quality_table.py (one split) and
bench/split_summary.py (several): line-level scores and the template-resampling bootstrap of a macro-F1 difference.

Macro-F1 is over the labels present in the gold labels; a missed alert is a gold non-normal line answered `normal`,
a false alarm a gold normal line answered anything else; agreement is the share of lines given the teacher's answer.
"""
import random


def scores(pred, truth, teacher=None, weights=None):
    """Line-level scores; with `weights` (one per line) each line counts that much, e.g. 1 / its template's lines."""
    assert len(pred) == len(truth), f"{len(pred)} predictions for {len(truth)} lines"
    w = weights or [1.0] * len(truth)
    total = sum(w)
    present = sorted(set(truth))
    f1s = []
    for label in present:
        tp = sum(x for p, t, x in zip(pred, truth, w) if p == label and t == label)
        fp = sum(x for p, t, x in zip(pred, truth, w) if p == label and t != label)
        fn = sum(x for p, t, x in zip(pred, truth, w) if p != label and t == label)
        f1s.append(0.0 if tp == 0 else 2 * tp / (2 * tp + fp + fn))
    alerts = [(p, x) for p, t, x in zip(pred, truth, w) if t != "normal"]
    normals = [(p, x) for p, t, x in zip(pred, truth, w) if t == "normal"]
    return {
        "accuracy": sum(x for p, t, x in zip(pred, truth, w) if p == t) / total,
        "macro_f1": sum(f1s) / len(f1s),
        "missed_alerts": sum(x for p, x in alerts if p == "normal") / max(1e-9, sum(x for _, x in alerts)),
        "false_alarms": sum(x for p, x in normals if p != "normal") / max(1e-9, sum(x for _, x in normals)),
        "agreement": None if teacher is None else sum(x for p, q, x in zip(pred, teacher, w) if p == q) / total,
    }


def template_bootstrap_draws(templates, pred_a, pred_b, truth, draws=2000, seed=1):
    """Macro-F1 of a minus b, in points, on `draws` resamples of the test *templates* (with replacement; a template's
    lines go together, since they are not independent), in draw order. `templates` names each line's template.
    Macro-F1 over the labels present in each draw. (Counts tp/fp/fn per template once, so that a draw only sums.)"""
    labels = sorted(set(truth) | set(pred_a) | set(pred_b))
    index = {label: i for i, label in enumerate(labels)}
    per_template = {}  # template -> per model: [tp, fp, fn] per label
    for template, a, b, t in zip(templates, pred_a, pred_b, truth):
        counts = per_template.setdefault(template, [[[0, 0, 0] for _ in labels] for _ in range(2)])
        for m, p in enumerate((a, b)):
            if p == t:
                counts[m][index[t]][0] += 1
            else:
                counts[m][index[t]][2] += 1
                if p in index:
                    counts[m][index[p]][1] += 1
    groups = list(per_template.values())
    rng = random.Random(seed)
    diffs = []
    for _ in range(draws):
        sums = [[[0, 0, 0] for _ in labels] for _ in range(2)]
        for counts in (groups[rng.randrange(len(groups))] for _ in groups):
            for m in range(2):
                for c in range(len(labels)):
                    for k in range(3):
                        sums[m][c][k] += counts[m][c][k]
        f = []
        for m in range(2):
            present = [c for c in range(len(labels)) if sums[m][c][0] + sums[m][c][2] > 0]
            f.append(sum(2 * tp / (2 * tp + fp + fn) if tp else 0.0 for tp, fp, fn in (sums[m][c] for c in present)) / len(present))
        diffs.append(100 * (f[0] - f[1]))
    return diffs


def interval(diffs, goal=3.0):
    """The 2.5th and 97.5th percentiles of bootstrap differences and the share of them at least `goal`."""
    ordered = sorted(diffs)
    n = len(ordered)
    return ordered[int(0.025 * n)], ordered[int(0.975 * n) - 1], sum(d >= goal for d in ordered) / n
