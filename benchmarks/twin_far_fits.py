"""Are the merged-D1 twins' far fits the least-squares estimator, or local minima carried along the warm path?

For a twin and replicates of the decisive design (:data:`hmoe_theory.experiments.decisive.SIZES`, seed
``task_seed(0, rep)`` as ``hmoe rates`` draws it), the replicate path is run as shipped
(:func:`hmoe_theory.estimation.replicate.run_path`); at every size whose stored fit has merged D1 above ``--far``, the
same sample is fitted from ``--tries`` fresh near-truth starts (``replicate._fresh_start``, tries 0..m-1, each with the
refit rule's polish where it did not converge). The stored fit is classified against the best converged fresh fit:

* ``same``: the same loss to ``SAME`` = 1e-6 relative (fresh starts reach that minimum too; the twins' early stop on
  the quotient KKT test leaves a fit up to a few 1e-7 relative above the minimum of its basin, estimation/quotient);
* ``lower``: the far fit has a lower loss than every converged fresh fit (the global least-squares minimiser is at
  least as far from the truth as a minimum of that loss: the far fit is the estimator's, not the path's);
* ``higher``: a fresh fit found a lower minimum (the warm path carried an inferior local minimum).

Run by hand:  nice -n 5 python benchmarks/twin_far_fits.py [--twin softmax-linear/linear/over/merged] [--reps 7,8,10]
"""

from __future__ import annotations

import argparse

import numpy as np

from hmoe_theory.estimation import replicate
from hmoe_theory.experiments import decisive
from hmoe_theory.experiments.spec import task_seed

SAME = 1e-6  # relative loss gap below which two fits count as the same minimum


def stored_fits(name: str, rep: int, seed: int) -> list[tuple[int, dict, np.ndarray]]:
    """(n, row, theta) of the replicate path's stored fit at each size (theta caught where the losses are taken)."""
    thetas: list[np.ndarray] = []
    losses = replicate.losses

    def catch(setting, theta, spec=None):
        thetas.append(np.array(theta))
        return losses(setting, theta, spec)

    replicate.losses = catch
    try:
        rows = replicate.run_path(name, decisive.SIZES, rep, seed)
    finally:
        replicate.losses = losses
    chosen = replicate.get_setting(name)
    out = []
    for n, row in zip(decisive.SIZES, rows):
        value = row["metrics"]["d1_merged"]
        theta = next(t for t in thetas if losses(chosen.at(n), t)["d1_merged"] == value)
        out.append((n, row, theta))
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--twin", default="softmax-linear/linear/over/merged")
    parser.add_argument("--reps", default="7,8,10")
    parser.add_argument("--far", type=float, default=10.0)
    parser.add_argument("--tries", type=int, default=3)
    args = parser.parse_args()
    counts = {"same": 0, "lower": 0, "higher": 0, "none converged": 0}
    chosen = replicate.get_setting(args.twin)
    for rep in (int(r) for r in args.reps.split(",")):
        seed = task_seed(decisive.SEED, rep)
        data = replicate._Data(chosen, seed, decisive.SIZES[-1])
        for n, row, _ in stored_fits(args.twin, rep, seed):
            far = row["metrics"]["d1_merged"]
            if far <= args.far:
                continue
            at = chosen.at(n)
            X, y = data.at(at, n)
            fresh = []
            for attempt in range(args.tries):
                start = replicate._fresh_start(at, seed, args.twin, n, at.protocol.start_perturbation.at(n), attempt)
                fit = replicate._fit(at, X, y, start)
                fit = fit if fit.status == "converged" else replicate._polished(at, X, y, fit)
                if fit.status == "converged":
                    fresh.append((fit.loss, replicate.losses(at, fit.theta)["d1_merged"]))
            loss = row["metrics"]["loss"]
            if not fresh:
                verdict, best = "none converged", (np.nan, np.nan)
            else:
                best = min(fresh)
                gap = (loss - best[0]) / best[0]
                verdict = "same" if abs(gap) <= SAME else ("lower" if gap < 0 else "higher")
            counts[verdict] += 1
            print(f"rep {rep:2d} n {n:6d}: stored {row['status']} merged D1 {far:8.3g} loss {loss:.9f} | best of "
                  f"{len(fresh)} converged fresh: merged D1 {best[1]:8.3g} loss {best[0]:.9f} -> {verdict}", flush=True)
    print(f"{args.twin}, far = merged D1 > {args.far:g}: " + ", ".join(f"{k} {v}" for k, v in counts.items()))


if __name__ == "__main__":
    main()
