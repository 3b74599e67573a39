"""Benchmark of the interaction-discovery engine (run by hand: ``python benchmarks/bench_interactions.py``).

Targets: issue 3 -- a family with 12 parameters at order 2 (91 functions with F itself) discovered in
< 5 s and certified in < 20 s on 2 cores; issue 11 -- a 48-parameter family at order 2 (1225 functions)
discovered and certified in < 60 s on 2 cores, with the same guarantee (every relation found, each
proved or certified).

Side by side in one run: the float-first engine (float64 SVD gives rank and pivots, coefficients solved
at 50 digits on the dependent subspace, every relation confirmed at 24 fresh inputs) against the
previous engine (``first_pass=False``: 50-digit fixed-point QR of the full evaluation matrix), on

* the 32-parameter catalogue family quadratic-polynomial-symmetric x gated-linear, d = 5 (561 functions);
* the 48-parameter attention family: entry (1, 1) of G2-gated attention, hmoe free atoms, N = 2, d = 3,
  H = 1 (1225 functions). The previous engine takes many minutes there: it runs only with ``--old-48``.

Both engines must return the same rank and the same relations (checked). Certification: exact proofs
within ``--proof-budget`` seconds, the remaining relations certified at 50 digits.

``--speed --against TREE`` (discovery speed), side by side in one run: ``discover_relations(F, order=2,
certify=False)`` (float pass, coefficients, confirmation and the rank certificate) in a fresh interpreter per run, CPU
seconds (``time.process_time``, all threads) and wall seconds, with the package of this checkout and with the package
of ``TREE`` (e.g. ``git worktree add /tmp/disc_old <commit>``), alternating, ``--repeat`` times each, on the
48-parameter attention family above and the 30-parameter attention family (entry (1, 1) of G1-gated attention, hmoe
free atoms, N = 3, d = 2, H = 1). Printed: the median CPU and wall seconds per tree, their ratio, and whether both
trees found the same rank and the same relations (the relation texts; statuses are not compared). Without
``--against`` only this checkout is timed.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path


import mpmath
from sympy.core.cache import clear_cache

import hmoe_theory
from hmoe_theory.attention.families import attention_entry_function
from hmoe_theory.families import gate_expert
from hmoe_theory.interactions import discover_relations
from hmoe_theory.interactions.derivatives import at_point, derivative_table, parse_point, resolve_function
from hmoe_theory.interactions.discovery import evaluation_rows, sample_count
from hmoe_theory.interactions.linalg import null_space

FAMILIES = (
    (("quadratic-polynomial", "gated-linear"), 2, "regression", 2),  # 12 parameters, 91 functions
    (("quadratic-polynomial", "linear"), 2, "density", 2),  # 10 parameters, 66 functions
    (("softmax-linear", "linear"), 3, "regression", 3),  # 7 parameters at order 3, 120 functions
)


def bench_discovery() -> None:
    print("family                                       params  size  rank  relations  discover_s  certify_s  proved")
    for family, d, mode, order in FAMILIES:
        started = time.perf_counter()
        result = discover_relations(family, order=order, mode=mode, d=d)
        total = time.perf_counter() - started
        discover = result.seconds["derivatives"] + result.seconds["null_space"]
        proved = sum(r.status.value == "proved" for r in result.relations)
        name = f"{result.function} d={d} r={order}"
        print(
            f"{name:<44} {len(result.params):>6}  {result.size:>4}  {result.rank:>4}  {len(result.relations):>9}  "
            f"{discover:>10.2f}  {result.seconds['certify']:>9.2f}  {proved}/{len(result.relations)}   (total {total:.2f} s)"
        )


def _run(F, first_pass: bool, budget: float):
    clear_cache()  # sympy's cache would otherwise favour the second engine's derivatives and proofs
    started = time.perf_counter()
    result = discover_relations(F, order=2, first_pass=first_pass, proof_budget_s=budget)
    return result, time.perf_counter() - started


def _line(label: str, result, seconds: float) -> str:
    proved = sum(r.status.value == "proved" for r in result.relations)
    s = result.seconds
    return (
        f"  {label:<22} {seconds:7.1f} s  (derivatives {s['derivatives']:.1f}, null space {s['null_space']:.1f}, "
        f"certify {s['certify']:.1f})  rank {result.rank}, {len(result.relations)} relations, {proved} proved"
    )


def bench_engines(old_48: bool, budget: float) -> None:
    """Float-first vs previous engine on the 32- and 48-parameter families (see module docstring)."""
    cases = [
        ("catalogue, 32 parameters", gate_expert("quadratic-polynomial-symmetric", "gated-linear", 5), True),
        ("attention G2 hmoe N=2 d=3 H=1, 48 parameters", attention_entry_function("G2", 2, 3, 1), old_48),
    ]
    for title, F, with_old in cases:
        print(f"{title}: {F.name}, {len(F.params)} parameters")
        new, new_s = _run(F, True, budget)
        print(_line("float-first engine", new, new_s))
        if not with_old:
            print("  previous engine         skipped (use --old-48)")
            continue
        old, old_s = _run(F, False, budget)
        print(_line("previous engine", old, old_s))
        same = old.rank == new.rank and [r.terms for r in old.relations] == [r.terms for r in new.relations]
        print(f"  same rank and relations: {same}; speed-up {old_s / new_s:.1f}x")


def bench_null_space_vs_mpmath_svd(family=("quadratic-polynomial", "gated-linear"), d=2, order=2, repeat=1) -> None:
    F = resolve_function(family, d)
    values = at_point(derivative_table(F, order), parse_point(F, None))
    exprs = list(values.values())
    rows = evaluation_rows(exprs, F.inputs, sample_count(len(exprs)), 50)
    started = time.perf_counter()
    for _ in range(repeat):
        ours = null_space(rows, 50)
    ours_s = (time.perf_counter() - started) / repeat
    started = time.perf_counter()
    with mpmath.workdps(50):
        singular = mpmath.svd_r(mpmath.matrix(rows), compute_uv=False)
    peer_s = time.perf_counter() - started
    with mpmath.workdps(50):
        peer_rank = sum(1 for s in singular if s > mpmath.mpf(10) ** -30 * max(singular))
    print(
        f"null space of a {len(rows)} x {len(exprs)} matrix at 50 digits: fixed-point pivoted QR {ours_s:.2f} s "
        f"(rank {ours.rank}) vs mpmath.svd_r {peer_s:.2f} s (rank {peer_rank}, singular values only): "
        f"ratio {peer_s / ours_s:.1f}x"
    )


SPEED_FAMILIES = {
    "48": ("attention G2 hmoe N=2 d=3 H=1 (48 parameters)", ("G2", 2, 3, 1)),
    "30": ("attention G1 hmoe N=3 d=2 H=1 (30 parameters)", ("G1", 3, 2, 1)),
}


def engine_run(key: str) -> dict:
    """One timed discovery of a speed family in this interpreter (whatever hmoe_theory it imports)."""
    F = attention_entry_function(*SPEED_FAMILIES[key][1])
    cpu, wall = time.process_time(), time.perf_counter()
    result = discover_relations(F, order=2, certify=False)
    cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
    certificate = result.rank_certificate
    return {"cpu": cpu, "wall": wall, "rank": result.rank, "relations": [r.text for r in result.relations],
            "rank_proof": certificate.describe() if certificate is not None else "-",
            "package": str(Path(hmoe_theory.__file__).parent)}


def _in_tree(tree: Path, key: str) -> dict:
    env = {**os.environ, "PYTHONPATH": str(tree)}
    done = subprocess.run([sys.executable, __file__, "--engine-run", key], env=env, check=True, capture_output=True,
                          text=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


def bench_speed(against: Path | None, repeat: int) -> None:
    """This checkout against ``against`` (see the module docstring)."""
    here = Path(__file__).resolve().parents[1]
    trees = {"new": here} if against is None else {"old": against.resolve(), "new": here}
    print("family                                         tree   CPU s   wall s  rank  relations  rank proof")
    for key, (title, _) in SPEED_FAMILIES.items():
        runs: dict[str, list[dict]] = {name: [] for name in trees}
        for _ in range(repeat):
            for name, tree in trees.items():
                done = _in_tree(tree, key)
                if done["package"] != str(tree / "hmoe_theory"):
                    raise SystemExit(f"the run meant for {tree} imported {done['package']}")
                runs[name].append(done)
        medians = {}
        for name, done in runs.items():
            cpu, wall = statistics.median(r["cpu"] for r in done), statistics.median(r["wall"] for r in done)
            medians[name] = (cpu, wall)
            last = done[-1]
            print(f"{title:<46} {name:<5} {cpu:6.2f}  {wall:7.2f}  {last['rank']:>4}  {len(last['relations']):>9}  "
                  f"{last['rank_proof']}")
        if against is not None:
            (old_cpu, old_wall), (new_cpu, new_wall) = medians["old"], medians["new"]
            same = all(r["rank"] == runs["new"][0]["rank"] and r["relations"] == runs["new"][0]["relations"]
                       for done in runs.values() for r in done)
            print(f"{'':<46} ratio old/new: CPU {old_cpu / new_cpu:.2f}x, wall {old_wall / new_wall:.2f}x; "
                  f"same rank and relations: {same}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--skip-peer", action="store_true", help="do not run the (slow) mpmath SVD comparison")
    parser.add_argument("--old-48", action="store_true", help="also run the previous engine on 48 parameters (slow)")
    parser.add_argument("--proof-budget", type=float, default=10.0, help="seconds of exact proofs per family")
    parser.add_argument("--speed", action="store_true", help="only the discovery-speed comparison (see --against)")
    parser.add_argument("--against", type=Path, help="with --speed: a checkout of the previous engine to compare with")
    parser.add_argument("--repeat", type=int, default=1, help="with --speed: runs per tree and family (median)")
    parser.add_argument("--engine-run", choices=sorted(SPEED_FAMILIES), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.engine_run:
        print(json.dumps(engine_run(args.engine_run)))
        raise SystemExit(0)
    if args.speed:
        bench_speed(args.against, args.repeat)
        raise SystemExit(0)
    bench_discovery()
    bench_engines(args.old_48, args.proof_budget)
    if not args.skip_peer:
        bench_null_space_vs_mpmath_svd()
