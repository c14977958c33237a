#!/usr/bin/env python3
"""Reference forward values for DistillCore ops, computed with numpy in float64.

Writes Tests/DistillCoreTests/Fixtures/ops.json. Re-run after changing a case:
    python3 scripts/make_op_fixtures.py
Inputs are drawn from a fixed numpy seed, rounded to float32, and stored with the expected outputs.
"""
import json
import math
import os

import numpy as np

rng = np.random.default_rng(20261129)


def f32(a):
    return np.asarray(a, dtype=np.float32).astype(np.float64)


def randn(*shape):
    return f32(rng.standard_normal(shape))


def softmax(z, axis=-1):
    z = z - z.max(axis=axis, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=axis, keepdims=True)


def log_softmax(z, axis=-1):
    m = z.max(axis=axis, keepdims=True)
    return z - m - np.log(np.exp(z - m).sum(axis=axis, keepdims=True))


cases = []


def case(name, inputs, expected, **attrs):
    cases.append({
        "name": name,
        "inputs": [{"shape": list(np.shape(x)), "data": np.ravel(x).tolist()} for x in inputs],
        "expected": {"shape": list(np.shape(expected)), "data": np.ravel(expected).tolist()},
        "attrs": attrs,
    })


a, b = randn(7, 5), randn(5, 3)
case("matmul", [a, b], a @ b)
a, b = randn(2, 3, 4, 5), randn(2, 3, 6, 5)
case("matmul_batched_transposeB", [a, b], a @ np.swapaxes(b, -1, -2))
a, b = randn(3, 1, 5), randn(4, 1)
case("add_broadcast", [a, b], a + b)
a, b = randn(4, 5), f32(rng.uniform(0.5, 2, (5,)))
case("divide_broadcast", [a, b], a / b)
x = randn(3, 4, 5)
case("sum_axes_0_2_keepdims", [x], x.sum(axis=(0, 2), keepdims=True))
case("max_axis_1", [x], x.max(axis=1))
case("permute_2_0_1", [x], np.transpose(x, (2, 0, 1)))
x = randn(4, 6) * 2
case("gelu_erf", [x], 0.5 * x * (1 + np.vectorize(math.erf)(x / math.sqrt(2))))
case("tanh", [x], np.tanh(x))
case("sigmoid", [x], 1 / (1 + np.exp(-x)))
x = randn(3, 7) * 3
case("softmax", [x], softmax(x))
case("log_softmax", [x], log_softmax(x))
x, g, be = randn(5, 8) * 3 + 1, randn(8), randn(8)
mu, var = x.mean(-1, keepdims=True), x.var(-1, keepdims=True)
case("layer_norm", [x, g, be], (x - mu) / np.sqrt(var + 1e-12) * g + be, epsilon=1e-12)

# Attention: softmax(q k^T / sqrt(d) + mask) v with a padding mask on the keys.
q, k, v = randn(2, 3, 4, 5), randn(2, 3, 4, 5), randn(2, 3, 4, 6)
pad = np.array([[1, 1, 1, 0], [1, 1, 1, 1]], dtype=np.float64)
add_mask = np.where(pad == 0, np.finfo(np.float32).min, 0.0)[:, None, None, :]
p = softmax(q @ np.swapaxes(k, -1, -2) / math.sqrt(5) + add_mask)
case("attention_probabilities", [q, k, pad], p)
case("attention_output", [q, k, v, pad], p @ v)

# Cross-entropy as torch.nn.functional.cross_entropy(weight=w, label_smoothing=eps, ignore_index=-100).
z = randn(6, 4)
t = np.array([0, 3, -100, 1, 2, 2])
w = np.array([0.5, 2.0, 1.0, 1.5])
eps = 0.1
lp = log_softmax(z)
keep = t != -100
nll = np.array([-lp[i, t[i]] * w[t[i]] if keep[i] else 0.0 for i in range(6)])
smooth = np.array([-(lp[i] * w).sum() if keep[i] else 0.0 for i in range(6)])
per = (1 - eps) * nll + eps / 4 * smooth
case("cross_entropy_weighted_smoothed_mean", [z], per.sum() / w[t[keep]].sum(),
     targets=t.tolist(), classWeights=w.tolist(), labelSmoothing=eps)
case("cross_entropy_weighted_smoothed_none", [z], per,
     targets=t.tolist(), classWeights=w.tolist(), labelSmoothing=eps)

# Hinton KD: T^2 * KL(softmax(t/T) || softmax(s/T)), batchmean.
s, tl, T = randn(5, 6), randn(5, 6) * 2, 2.5
pt, ls = softmax(tl / T), log_softmax(s / T)
case("kl_teacher_logits", [s, tl], T * T * (pt * (np.log(pt) - ls)).sum(-1).mean(), temperature=T)
probs = f32(np.array([[0.7, 0.0, 0.3, 0.0], [0.25, 0.25, 0.25, 0.25], [0.0, 0.0, 1.0, 0.0]]))
s = randn(3, 4)
T = 2.0
q_ = np.where(probs > 0, probs ** (1 / T), 0.0)
q_ = q_ / q_.sum(-1, keepdims=True)
ls = log_softmax(s / T)
kl = np.array([sum(q_[i, j] * (math.log(q_[i, j]) - ls[i, j]) for j in range(4) if q_[i, j] > 0) for i in range(3)])
case("kl_teacher_probabilities_none", [s, probs], T * T * kl, temperature=T)

a, b = randn(4, 6), randn(4, 6)
case("cosine_similarity", [a, b], (a * b).sum(-1) / (np.linalg.norm(a, axis=-1) * np.linalg.norm(b, axis=-1)))
case("mse", [a, b], ((a - b) ** 2).mean())
z, tt = randn(3, 4) * 3, f32(rng.uniform(0, 1, (3, 4)))
case("bce_with_logits", [z, tt], (np.maximum(z, 0) - z * tt + np.log1p(np.exp(-np.abs(z)))).mean())

out = os.path.join(os.path.dirname(__file__), "..", "Tests", "DistillCoreTests", "Fixtures", "ops.json")
with open(out, "w") as fh:
    json.dump({"generator": "scripts/make_op_fixtures.py", "numpy": np.__version__, "cases": cases}, fh)
print(f"wrote {len(cases)} cases to {os.path.normpath(out)}")
