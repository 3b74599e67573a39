"""Small empirical check: active-attention vs standard attention on synthetic regression tasks.

NOT the benchmark of arXiv 2410.11222 (v3), which reports image classification, language modelling and
time-series forecasting with full transformers. This is a seeded toy check that runs on 2 cores in minutes.

Tasks (one query token, N tokens in R^d, targets in R^{d_out}, Gaussian noise sigma):

* ``relu-values`` / ``tanh-values``: the teacher is active-attention with that activation,
  y = softmax(x_0^T W_Q W_K^T X^T / sqrt(d_k)) phi(X W_V) W_O + noise (the value non-linearity matters);
* ``linear-values`` (control): the teacher is standard attention, y = softmax(.) X W_V W_O + noise
  (a value non-linearity should not help).

Students: standard attention and active-attention (the task's activation; tanh for the control), both
with the teacher's widths, so the same number of parameters. Fit: least squares by L-BFGS-B (scipy) with
the analytic gradient, best of ``inits`` random starts. Metric: test MSE on fresh inputs; per replicate the
paired difference MSE(standard) - MSE(active) (> 0: active better); its mean with a percentile bootstrap
95 % CI (10 000 resamples, seeded). Every replicate draws a new teacher and new data from its own seed.

The batched forward below exists for the analytic gradient; it is checked against the reference layer
:func:`hmoe_theory.attention.active_single_head_attention` / :func:`single_head_attention` before the runs
(max error recorded in the summary).

Run:  python benchmarks/active_attention_check.py [--replicates 40] [--out docs/active_attention]
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import time

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")  # threaded BLAS on small matrices is ~50x slower on 2 cores
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from scipy.optimize import minimize
from scipy.special import erf

from hmoe_theory.attention import activate, active_single_head_attention, single_head_attention

N_TOKENS, DIM, KEY_DIM, VALUE_DIM, OUT_DIM = 6, 4, 2, 2, 1
NOISE = 0.1
TASKS = {"relu-values": "relu", "tanh-values": "tanh", "linear-values": None}
CONTROL_STUDENT = "tanh"


def derivative(v: np.ndarray, activation: str | None) -> np.ndarray:
    """phi'(v) (relu: Heaviside, 0 at the kink)."""
    if activation is None:
        return np.ones_like(v)
    if activation == "relu":
        return (v > 0).astype(float)
    if activation == "tanh":
        return 1.0 - np.tanh(v) ** 2
    if activation == "sigmoid":
        s = activate(v, "sigmoid")
        return s * (1 - s)
    if activation == "silu":
        s = activate(v, "sigmoid")
        return s * (1 + v * (1 - s))
    return 0.5 * (1 + erf(v / np.sqrt(2))) + v * np.exp(-(v**2) / 2) / np.sqrt(2 * np.pi)  # gelu


@dataclass(frozen=True)
class Shapes:
    """Parameter layout: W_Q, W_K (d x d_k), W_V (d x d_v), W_O (d_v x d_out), flattened in this order."""

    d: int = DIM
    dk: int = KEY_DIM
    dv: int = VALUE_DIM
    dout: int = OUT_DIM

    @property
    def size(self) -> int:
        return 2 * self.d * self.dk + self.d * self.dv + self.dv * self.dout

    def split(self, theta: np.ndarray):
        d, dk, dv, dout = self.d, self.dk, self.dv, self.dout
        cuts = np.cumsum([d * dk, d * dk, d * dv])
        q, k, v, o = np.split(theta, cuts)
        return q.reshape(d, dk), k.reshape(d, dk), v.reshape(d, dv), o.reshape(dv, dout)


def forward(theta: np.ndarray, X: np.ndarray, activation: str | None, shapes: Shapes):
    """Outputs of the query token 0 for a batch X (n, N, d), with the intermediates of the gradient."""
    W_Q, W_K, W_V, W_O = shapes.split(theta)
    q = X[:, 0, :] @ W_Q  # (n, dk)
    K = X @ W_K  # (n, N, dk)
    s = np.einsum("nk,njk->nj", q, K) / np.sqrt(shapes.dk)
    p = np.exp(s - s.max(axis=1, keepdims=True))
    p /= p.sum(axis=1, keepdims=True)
    V = X @ W_V  # (n, N, dv)
    U = V if activation is None else activate(V, activation)
    o = np.einsum("nj,njl->nl", p, U)
    return o @ W_O, (W_Q, W_K, W_V, W_O, q, K, p, V, U, o)


def loss_and_gradient(theta, X, y, activation, shapes):
    """mean_n ||yhat_n - y_n||^2 and its gradient (chain rule through softmax and phi)."""
    yhat, (W_Q, W_K, W_V, W_O, q, K, p, V, U, o) = forward(theta, X, activation, shapes)
    n = len(X)
    residual = yhat - y
    loss = float(np.sum(residual**2) / n)
    g = 2 * residual / n  # (n, dout)
    dW_O = o.T @ g
    do = g @ W_O.T  # (n, dv)
    dU = p[:, :, None] * do[:, None, :]
    dp = np.einsum("njl,nl->nj", U, do)
    ds = p * (dp - np.sum(p * dp, axis=1, keepdims=True)) / np.sqrt(shapes.dk)
    dV = dU * derivative(V, activation)
    dW_V = np.einsum("njd,njl->dl", X, dV)
    dq = np.einsum("nj,njk->nk", ds, K)
    dK = ds[:, :, None] * q[:, None, :]
    dW_Q = X[:, 0, :].T @ dq
    dW_K = np.einsum("njd,njk->dk", X, dK)
    return loss, np.concatenate([dW_Q.ravel(), dW_K.ravel(), dW_V.ravel(), dW_O.ravel()])


def reference_error(rng: np.random.Generator, shapes: Shapes) -> float:
    """max |batched forward - reference layer (row 0, times W_O)| over 5 random inputs and both value maps."""
    theta = rng.standard_normal(shapes.size)
    X = rng.standard_normal((5, N_TOKENS, shapes.d))
    W_Q, W_K, W_V, W_O = shapes.split(theta)
    worst = 0.0
    for activation in (None, "relu", "tanh"):
        batched, _ = forward(theta, X, activation, shapes)
        for n in range(len(X)):
            layer = (
                single_head_attention(X[n], W_Q, W_K, W_V)
                if activation is None
                else active_single_head_attention(X[n], W_Q, W_K, W_V, activation)
            )
            worst = max(worst, float(np.max(np.abs(layer[0] @ W_O - batched[n]))))
    return worst


def teacher(rng: np.random.Generator, shapes: Shapes) -> np.ndarray:
    """Teacher weights: W_Q, W_K scaled so that the scores are O(1-3); values and output O(1)."""
    theta = rng.standard_normal(shapes.size)
    W_Q, W_K, W_V, W_O = shapes.split(theta)
    return np.concatenate([(1.5 * W_Q).ravel(), W_K.ravel(), (1.5 * W_V).ravel(), W_O.ravel()])


def fit(X, y, activation, shapes, rng, inits: int) -> np.ndarray:
    """Best of ``inits`` L-BFGS-B fits (analytic gradient) from N(0, 0.5^2) starts."""
    best = None
    for _ in range(inits):
        start = 0.5 * rng.standard_normal(shapes.size)
        result = minimize(loss_and_gradient, start, args=(X, y, activation, shapes), jac=True, method="L-BFGS-B",
                          options={"maxiter": 400, "gtol": 1e-7})
        if best is None or result.fun < best.fun:
            best = result
    return best.x


def replicate(task: str, seed: int, n_train: int, n_test: int, inits: int) -> dict:
    """One replicate of ``task``: new teacher and data from ``seed``; test MSE of both students."""
    shapes = Shapes()
    rng = np.random.default_rng([seed, list(TASKS).index(task)])
    truth_activation = TASKS[task]
    theta = teacher(rng, shapes)
    X = rng.standard_normal((n_train + n_test, N_TOKENS, shapes.d))
    clean, _ = forward(theta, X, truth_activation, shapes)
    y = clean + NOISE * rng.standard_normal(clean.shape)
    row = {"task": task, "seed": seed, "n_train": n_train, "signal_variance": float(np.var(clean[n_train:]))}
    student_activation = truth_activation or CONTROL_STUDENT
    for name, activation in (("standard", None), ("active", student_activation)):
        fitted = fit(X[:n_train], y[:n_train], activation, shapes, rng, inits)
        prediction, _ = forward(fitted, X[n_train:], activation, shapes)
        row[f"mse_{name}"] = float(np.mean(np.sum((prediction - clean[n_train:]) ** 2, axis=1)))
    row["active_student"] = student_activation
    row["difference"] = row["mse_standard"] - row["mse_active"]
    return row


def bootstrap_ci(values: np.ndarray, seed: int, resamples: int = 10_000) -> tuple[float, float]:
    """Percentile bootstrap 95 % CI of the mean."""
    rng = np.random.default_rng(seed)
    means = values[rng.integers(0, len(values), size=(resamples, len(values)))].mean(axis=1)
    return float(np.quantile(means, 0.025)), float(np.quantile(means, 0.975))


def summarise(rows: list[dict], seed: int) -> list[dict]:
    out = []
    for k, task in enumerate(TASKS):
        diff = np.array([r["difference"] for r in rows if r["task"] == task])
        std = np.array([r["mse_standard"] for r in rows if r["task"] == task])
        act = np.array([r["mse_active"] for r in rows if r["task"] == task])
        signal = np.array([r["signal_variance"] for r in rows if r["task"] == task])
        low, high = bootstrap_ci(diff, seed + k)
        out.append(
            {
                "task": task,
                "active_student": TASKS[task] or CONTROL_STUDENT,
                "replicates": len(diff),
                "mean_mse_standard": float(std.mean()),
                "mean_mse_active": float(act.mean()),
                "median_relative_mse_standard": float(np.median(std / signal)),
                "median_relative_mse_active": float(np.median(act / signal)),
                "mean_difference": float(diff.mean()),
                "ci95": [low, high],
                "active_better_in": int((diff > 0).sum()),
            }
        )
    return out


def figure(summary: list[dict], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6, 3))
    for y, row in enumerate(summary):
        low, high = row["ci95"]
        ax.errorbar(row["mean_difference"], y, xerr=[[row["mean_difference"] - low], [high - row["mean_difference"]]],
                    fmt="o", capsize=4, color="C0" if row["task"] != "linear-values" else "C1")
    ax.axvline(0, color="k", lw=0.8)
    ax.set_xscale("symlog", linthresh=1e-3)
    ax.set_yticks(range(len(summary)), [f"{r['task']}\n(active: {r['active_student']})" for r in summary])
    ax.set_xlabel("test MSE(standard) - MSE(active), mean and bootstrap 95% CI\n> 0: active-attention better")
    ax.set_title("Synthetic check (not the paper's benchmark)", fontsize=10)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--replicates", type=int, default=40)
    parser.add_argument("--n-train", type=int, default=200)
    parser.add_argument("--n-test", type=int, default=2000)
    parser.add_argument("--inits", type=int, default=3)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", type=Path, default=Path("docs/active_attention"))
    args = parser.parse_args(argv)
    started = time.perf_counter()
    check = reference_error(np.random.default_rng(args.seed), Shapes())
    if check > 1e-12:
        raise SystemExit(f"batched forward differs from the reference layer by {check:.3g}")
    rows = [
        replicate(task, args.seed + r, args.n_train, args.n_test, args.inits)
        for task in TASKS
        for r in range(args.replicates)
    ]
    summary = summarise(rows, args.seed)
    args.out.mkdir(parents=True, exist_ok=True)
    with (args.out / "replicates.csv").open("w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows({k: (f"{v:.6g}" if isinstance(v, float) else v) for k, v in r.items()} for r in rows)
    seconds = time.perf_counter() - started
    payload = {
        "what": "synthetic regression check of active vs standard attention; NOT the benchmark of arXiv 2410.11222v3",
        "seed": args.seed,
        "replicates": args.replicates,
        "n_train": args.n_train,
        "n_test": args.n_test,
        "inits": args.inits,
        "sizes": {"N": N_TOKENS, "d": DIM, "d_k": KEY_DIM, "d_v": VALUE_DIM, "d_out": OUT_DIM, "noise_sd": NOISE},
        "reference_layer_max_error": check,
        "comparisons": summary,
        "seconds": round(seconds, 1),
    }
    (args.out / "summary.json").write_text(json.dumps(payload, indent=2) + "\n")
    figure(summary, args.out / "differences.png")
    for row in summary:
        low, high = row["ci95"]
        print(
            f"{row['task']:14s} active={row['active_student']:5s} MSE standard {row['mean_mse_standard']:.4f} "
            f"active {row['mean_mse_active']:.4f} diff {row['mean_difference']:+.4f} [{low:+.4f}, {high:+.4f}] "
            f"active better in {row['active_better_in']}/{row['replicates']}; median MSE/Var(signal) "
            f"{row['median_relative_mse_standard']:.4f} vs {row['median_relative_mse_active']:.4f}"
        )
    print(f"{seconds:.1f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
