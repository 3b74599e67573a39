"""Sweep-runner benchmark: ``hmoe_theory.experiments.run_sweep`` side by side with bare executors.

Run by hand (never by the tests):

    python benchmarks/bench_rates_sweep.py [--reps 20] [--work-ms 20] [--workers 2] [--no-dask]
    python benchmarks/bench_rates_sweep.py --real [--n 1e3:1e4:2] [--reps 1]

Overhead mode (default), in one run, on the same grid as the default reproduction (4 settings x
sizes 1e3:1e5:8 x ``--reps``) with a synthetic replicate costing about ``--work-ms`` ms of numpy work
per fit (growing like n^0.5 around that mean), measures wall-clock time of

* peer "bare loop": ``[f(s, n, seed) for ...]``  vs  ours serial (``workers=1``);
* peer "bare pool": ``ProcessPoolExecutor(K).map(f, ..., chunksize=1)``  vs  ours ``workers=K``;
* peer "bare Dask": ``client.gather(client.map(f, ...))`` vs ours ``scheduler=<address>`` on the same
  ``LocalCluster`` (K worker processes, 1 thread each, loopback only);
* resume of the finished sweep (every fit already stored, nothing recomputed).

The peers keep results in memory and cannot resume; ours stores and commits each fit in SQLite,
derives the seeds and draws the progress line. Ratio = ours / peer (1.00 = no overhead).

Real mode (``--real``) runs the default settings of :mod:`hmoe_theory.estimation.settings` on a
small grid through ``run_sweep`` and reports the per-fit cost per setting and size, plus an
extrapolation to the full default reproduction (cost ~ n^p fitted per setting between the two
extreme sizes measured, divided by ``--workers``).
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path[:0] = [str(HERE.parent), str(HERE)]
os.environ["PYTHONPATH"] = os.pathsep.join([str(HERE.parent), str(HERE), os.environ.get("PYTHONPATH", "")])

import numpy as np  # noqa: E402

from hmoe_theory.experiments import SweepSpec, load_results, parse_sizes, run_sweep  # noqa: E402

SETTINGS = ("a", "b", "c", "d")
WORK_MS = float(os.environ.get("BENCH_WORK_MS", "20"))  # set by --work-ms; read again by Dask workers


def busy_replicate(setting: str, n: int, seed: int) -> dict[str, float]:
    """About WORK_MS * sqrt(n / 1e4) ms of numpy work; returns |mean| of n normals."""
    rng = np.random.default_rng(seed)
    x = rng.standard_normal(n)
    deadline = time.perf_counter() + WORK_MS / 1000 * np.sqrt(n / 1e4)
    while time.perf_counter() < deadline:
        np.sort(x[:1000])
    return {"error": abs(float(x.mean()))}


def _call(args: tuple[str, int, int]) -> dict[str, float]:
    return busy_replicate(*args)


def _timed(label: str, fn) -> float:
    started = time.perf_counter()
    fn()
    seconds = time.perf_counter() - started
    print(f"  {label:<34} {seconds:8.2f} s", flush=True)
    return seconds


def overhead(reps: int, workers: int, with_dask: bool) -> None:
    spec = SweepSpec(SETTINGS, "1e3:1e5:8", reps, seed=0)
    args = [(t.setting, t.n, t.seed) for t in spec.tasks()]
    print(f"{len(args)} fits, ~{WORK_MS:g} ms each (scaled by sqrt(n/1e4)), {workers} workers")
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        peer = _timed("peer: bare loop", lambda: [busy_replicate(*a) for a in args])
        ours = _timed("ours: run_sweep workers=1", lambda: run_sweep(spec, tmp / "serial", replicate=busy_replicate))
        rows.append(("serial", peer, ours))

        def bare_pool():
            with ProcessPoolExecutor(workers) as pool:
                return list(pool.map(_call, args, chunksize=1))

        peer = _timed(f"peer: ProcessPoolExecutor({workers}).map", bare_pool)
        ours = _timed(f"ours: run_sweep workers={workers}",
                      lambda: run_sweep(spec, tmp / "pool", workers=workers, replicate=busy_replicate))
        rows.append(("process pool", peer, ours))
        assert load_results(tmp / "pool") == load_results(tmp / "serial")
        resume = _timed("ours: resume finished sweep",
                        lambda: run_sweep(spec, tmp / "pool", workers=workers, replicate=busy_replicate))

        if with_dask:
            from distributed import Client, LocalCluster

            with LocalCluster(n_workers=workers, threads_per_worker=1, processes=True, host="127.0.0.1",
                              dashboard_address=None) as cluster, Client(cluster) as client:
                client.run(lambda: __import__("bench_rates_sweep"))  # warm the workers' imports
                peer = _timed("peer: client.map + gather",
                              lambda: client.gather(client.map(_call, args, pure=False)))
                ours = _timed("ours: run_sweep scheduler=tcp://...",
                              lambda: run_sweep(spec, tmp / "dask", scheduler=cluster.scheduler_address,
                                                replicate=busy_replicate))
                rows.append(("dask LocalCluster", peer, ours))
            assert load_results(tmp / "dask") == load_results(tmp / "serial")
    print("\n| backend | peer (s) | ours (s) | ratio ours/peer |\n|---|---:|---:|---:|")
    for name, peer, ours in rows:
        print(f"| {name} | {peer:.2f} | {ours:.2f} | {ours / peer:.2f} |")
    print(f"\nresume of a finished {len(args)}-fit sweep: {resume:.3f} s; stored numbers identical across backends")


def real(sizes_spec: str, reps: int, workers: int) -> None:
    from hmoe_theory.estimation.settings import DEFAULT_SETTINGS

    sizes = parse_sizes(sizes_spec)
    spec = SweepSpec(DEFAULT_SETTINGS, sizes, reps, seed=0)
    with tempfile.TemporaryDirectory() as tmp:
        report = run_sweep(spec, tmp, workers=workers, progress=True)
        records = load_results(tmp)
    print(f"\n{report.computed} real fits in {report.seconds:.1f} s wall on {workers} workers\n")
    full = parse_sizes("1e3:1e5:8")
    total = 0.0
    print("| setting | " + " | ".join(f"s/fit n={n}" for n in sizes) + " | extrapolated CPU s, 8 sizes x 20 reps |")
    print("|---|" + "---:|" * (len(sizes) + 1))
    for setting in DEFAULT_SETTINGS:
        cost = {n: np.mean([r.seconds for r in records if r.setting == setting and r.n == n]) for n in sizes}
        p = np.log(cost[sizes[-1]] / cost[sizes[0]]) / np.log(sizes[-1] / sizes[0]) if len(sizes) > 1 else 1.0
        extrapolated = 20 * sum(cost[sizes[0]] * (n / sizes[0]) ** p for n in full)
        total += extrapolated
        print(f"| {setting} | " + " | ".join(f"{cost[n]:.2f}" for n in sizes) + f" | {extrapolated:.0f} |")
    minutes = total / workers / 60
    print(f"\nextrapolated default reproduction: {total:.0f} CPU s = {minutes:.1f} min on {workers} workers")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reps", type=int, default=None)
    parser.add_argument("--work-ms", type=float, default=20.0, help="synthetic cost per fit in ms (overhead mode)")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--no-dask", action="store_true")
    parser.add_argument("--real", action="store_true")
    parser.add_argument("--n", default="1e3:1e4:2")
    args = parser.parse_args()
    global WORK_MS
    WORK_MS = args.work_ms
    os.environ["BENCH_WORK_MS"] = str(args.work_ms)  # Dask worker processes import this module afresh
    if args.real:
        real(args.n, args.reps or 1, args.workers)
    else:
        overhead(args.reps or 20, args.workers, not args.no_dask)


if __name__ == "__main__":
    main()
