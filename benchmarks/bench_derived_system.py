"""Time per Newton system at n = 1e5: the system derived from the symbolic mixture
(:class:`hmoe_theory.newton_system.DerivedSystem`) beside the hand-written softmax chain rule registered as the fast
path of softmax regression mixtures (:class:`hmoe_theory.estimation.model.SoftmaxMoE`), side by side in one run,
BLAS single-threaded, median of ``--repeats`` calls after one warm-up call (compilation excluded).

Also prints the largest entrywise difference of (r, ||J_a||^2, g, H) relative to max |entry| (the conformance test
asserts <= 1e-12 on small data).

Run: nice -n 5 .venv/bin/python benchmarks/bench_derived_system.py [--n 100000] [--repeats 5]
"""

from __future__ import annotations

import argparse
import statistics
import time

import numpy as np
from threadpoolctl import threadpool_limits

from hmoe_theory.estimation.model import SoftmaxMoE
from hmoe_theory.families import Mixture

#: (gate, expert, k, d): the catalogue settings of the rates study
CASES = [
    ("softmax-linear", "linear", 3, 2),
    ("softmax-linear", "ridge-tanh", 3, 2),
    ("quadratic-monomial", "ridge-tanh", 3, 2),
    ("quadratic-polynomial", "linear", 3, 2),
    ("laplace", "linear", 3, 2),
]


def _seconds(call, repeats: int) -> float:
    call()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        call()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=100_000)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    print(f"{'gate x expert (k, d)':44} {'derived ms':>10} {'fast ms':>8} {'ratio':>6} {'max rel diff':>12}")
    with threadpool_limits(limits=1):
        for gate, expert, k, d in CASES:
            mixture = Mixture.from_names(gate, expert, k, d)
            fast, derived = SoftmaxMoE.from_mixture(mixture), mixture.derived_system()
            rng = np.random.default_rng(0)
            X = rng.uniform(-1, 1, (args.n, d))
            theta = mixture.pin(rng.normal(0, 0.8, len(mixture.params)))
            y = fast.predict(X, theta) + 0.1 * rng.standard_normal(args.n)
            fast_data, derived_data = fast.prepare(X), derived.prepare(X)
            t_derived = _seconds(lambda: derived.system(derived_data, y, theta), args.repeats)
            t_fast = _seconds(lambda: fast.system(fast_data, y, theta), args.repeats)
            diff = max(float(np.abs(a - b).max() / max(np.abs(b).max(), 1e-300))
                       for a, b in zip(derived.system(derived_data, y, theta), fast.system(fast_data, y, theta)))
            label = f"{gate} x {expert} ({k}, {d})"
            print(f"{label:44} {1e3 * t_derived:10.1f} {1e3 * t_fast:8.1f} {t_derived / t_fast:6.2f} {diff:12.1e}")


if __name__ == "__main__":
    main()
