"""Depth study: curvature of stacks of L = 1..6 gated / ungated attention layers, with and without residuals.

Run by hand: ``python benchmarks/depth_study.py [--planes 500] [--seeds 0 1 2]``. Prints a Markdown table and
the fitted growth rate of log10(median |K|) per layer, and writes ``docs/figures/depth_curvature.png``.
Definitions (layers, random 2-planes, the scale-free curvature K tr(g)/2) are in
:mod:`hmoe_theory.geometry.depth`.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from hmoe_theory.geometry.depth import depth_study, growth_slope  # noqa: E402


def per_seed_slopes(kind, residual, seeds, planes, width, tokens, scale):
    """Growth slope of the scale-free curvature for each seed separately (the spread is the error bar)."""
    return [
        growth_slope(depth_study(kinds=(kind,), residuals=(residual,), seeds=(s,), planes=planes, width=width,
                                 tokens=tokens, scale=scale), kind, residual)
        for s in seeds
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description="curvature vs depth of attention stacks")
    parser.add_argument("--planes", type=int, default=500)
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--width", type=int, default=4)
    parser.add_argument("--tokens", type=int, default=4)
    parser.add_argument("--scale", type=float, default=2.0)
    parser.add_argument("--figure", default=str(ROOT / "docs" / "figures" / "depth_curvature.png"))
    args = parser.parse_args()
    rows = depth_study(kinds=("ungated", "gated", "linear"), seeds=args.seeds, planes=args.planes,
                       width=args.width, tokens=args.tokens, scale=args.scale)
    print(f"width {args.width}, {args.tokens} value tokens, weight scale {args.scale}, seeds {args.seeds}, "
          f"{args.planes} random 2-planes per seed\n")
    print("| layers | residual | L | median abs K | median abs K tr(g)/2 | fraction K > 0 | planes |")
    print("|---|---|---|---|---|---|---|")
    for r in rows:
        print(f"| {r.kind} | {'yes' if r.residual else 'no'} | {r.depth} | {r.median_abs_K:.3g} | "
              f"{r.median_abs_scaled_K:.3g} | {r.fraction_positive:.2f} | {r.samples} |")
    print("\nGrowth of log10(median |K|) per layer (least squares over L = 1..6); per-seed slopes of the scale-free one:")
    for kind in ("ungated", "gated"):
        for residual in (False, True):
            raw = growth_slope(rows, kind, residual, scaled=False)
            scaled = growth_slope(rows, kind, residual, scaled=True)
            per_seed = per_seed_slopes(kind, residual, args.seeds, args.planes, args.width, args.tokens, args.scale)
            verdict = "GROWS" if min(per_seed) > 0 else ("shrinks" if max(per_seed) < 0 else "no consistent trend")
            print(f"- {kind:8s} residual={'yes' if residual else 'no ':3s}: raw {raw:+.2f}/layer, scale-free "
                  f"{scaled:+.2f}/layer (seeds: {', '.join(f'{s:+.2f}' for s in per_seed)}) -> scale-free curvature {verdict}")

    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 2, figsize=(10, 4))
    for kind, marker in (("ungated", "o"), ("gated", "s")):
        for residual, style in ((False, "--"), (True, "-")):
            chosen = [r for r in rows if r.kind == kind and r.residual == residual]
            L = [r.depth for r in chosen]
            label = f"{kind}{' + residual' if residual else ''}"
            axes[0].semilogy(L, [r.median_abs_K for r in chosen], style, marker=marker, label=label)
            axes[1].semilogy(L, [r.median_abs_scaled_K for r in chosen], style, marker=marker, label=label)
    axes[0].set(xlabel="depth L", ylabel="median |K|", title="Gaussian curvature on random 2-planes")
    axes[1].set(xlabel="depth L", ylabel="median |K| tr(g)/2", title="scale-free curvature")
    axes[1].legend()
    fig.tight_layout()
    Path(args.figure).parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(args.figure, dpi=120)
    print(f"\nfigure written to {args.figure}")


if __name__ == "__main__":
    main()
