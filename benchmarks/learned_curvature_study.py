"""Learned models: accuracy vs curvature of gated and ungated attention classifiers on 2-d toy tasks.

Run by hand: ``python benchmarks/learned_curvature_study.py [--seeds 0 1 2] [--steps 300]`` (about 5 minutes
on 2 cores). Prints a Markdown table and rank correlations, writes ``docs/figures/learned_curvature.png``.
Model, training and curvature definitions: :mod:`hmoe_theory.geometry.learned`.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402

from hmoe_theory.geometry.learned import TASKS, learned_study, spearman  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description="accuracy vs curvature of learned attention classifiers")
    parser.add_argument("--tasks", nargs="+", default=list(TASKS))
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--steps", type=int, default=300)
    parser.add_argument("--figure", default=str(ROOT / "docs" / "figures" / "learned_curvature.png"))
    args = parser.parse_args()
    runs = learned_study(args.tasks, args.seeds, steps=args.steps)
    print(f"tasks {args.tasks}, seeds {args.seeds}, 200 train / 200 test points, L-BFGS {args.steps} steps\n")
    print("| task | model | test accuracy (mean +- sd) | median abs K tr(g)/2 per seed | median abs K per seed |")
    print("|---|---|---|---|---|")
    for task in args.tasks:
        for gated in (False, True):
            chosen = [r for r in runs if r.task == task and r.gated == gated]
            acc = np.array([r.accuracy for r in chosen])
            print(f"| {task} | {'gated' if gated else 'ungated'} | {acc.mean():.3f} +- {acc.std():.3f} | "
                  f"{', '.join(f'{r.median_abs_scaled_K:.2g}' for r in chosen)} | "
                  f"{', '.join(f'{r.median_abs_K:.2g}' for r in chosen)} |")
    finite = [r for r in runs if np.isfinite(r.median_abs_scaled_K)]
    acc = [r.accuracy for r in finite]
    curv = [r.median_abs_scaled_K for r in finite]
    print(f"\nSpearman(test accuracy, scale-free curvature) over all {len(finite)} runs: {spearman(acc, curv):+.2f}")
    for gated in (False, True):
        sub = [r for r in finite if r.gated == gated]
        print(f"  {'gated' if gated else 'ungated'} only ({len(sub)} runs): "
              f"{spearman([r.accuracy for r in sub], [r.median_abs_scaled_K for r in sub]):+.2f}")
    nonlinear = [r for r in finite if r.task != "blobs"]
    print(f"Spearman(task is non-linear, curvature): "
          f"{spearman([r.task != 'blobs' for r in finite], curv):+.2f}; "
          f"Spearman(gated, curvature): {spearman([r.gated for r in finite], curv):+.2f}; "
          f"non-linear tasks only, Spearman(accuracy, curvature): "
          f"{spearman([r.accuracy for r in nonlinear], [r.median_abs_scaled_K for r in nonlinear]):+.2f}")

    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6, 4))
    for gated, marker in ((False, "o"), (True, "s")):
        for i, task in enumerate(args.tasks):
            chosen = [r for r in finite if r.task == task and r.gated == gated]
            ax.scatter([r.median_abs_scaled_K for r in chosen], [r.accuracy for r in chosen], marker=marker,
                       color=f"C{i}", label=f"{task} ({'gated' if gated else 'ungated'})")
    ax.set(xscale="log", xlabel="median |K| tr(g)/2 at test points", ylabel="test accuracy",
           title="learned attention classifiers")
    ax.legend(fontsize=6, ncol=2)
    fig.tight_layout()
    Path(args.figure).parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(args.figure, dpi=120)
    print(f"\nfigure written to {args.figure}")


if __name__ == "__main__":
    main()
