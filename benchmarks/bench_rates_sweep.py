"""Sweep benchmark: the runner's overhead against bare executors, and the cost of the decisive reproduction.

Run by hand (never by the tests):

    python benchmarks/bench_rates_sweep.py [--reps 5] [--work-ms 20] [--workers 2] [--no-dask]
    python benchmarks/bench_rates_sweep.py --real [--n 1e3:1e5:20] [--settings default] [--cap 180]
                                          [--rep 2] [--design-reps 40] [--workers 2] [--jobs 1]

Overhead mode (default). The unit of work is a replicate path (``f(setting, sizes, rep, seed) -> rows``,
the contract of :mod:`hmoe_theory.experiments.runner`). A synthetic path function does a FIXED amount of
numpy work per size (``--work-ms`` ms of sorting at n = 1e4, calibrated once in the parent, growing like
sqrt(n / 1e4)) on the grid 4 settings x sizes 1e3:1e5:20 x ``--reps``. In one run it measures

* peer "bare loop": ``[f(task) for task in tasks]``  vs  ours serial (``run_sweep(workers=1)``);
* peer "bare pool": ``ProcessPoolExecutor(K).map(f, tasks, chunksize=1)``  vs  ours ``workers=K``;
* peer "bare Dask": ``client.gather(client.map(f, tasks))`` vs ours ``scheduler=<address>`` on the same
  ``LocalCluster`` (K worker processes, 1 thread each, loopback only);
* resume of the finished sweep (every path already stored, nothing recomputed).

Wall seconds for every backend, and CPU seconds (this process + its reaped children) for the loop and the
pool. The peers keep results in memory and cannot resume; ours derives the seeds, claims the paths,
commits each path in SQLite and checks its rows. Ratio = ours / peer (1.00 = no overhead).

Real mode (``--real``). One replicate path (``hmoe_theory.estimation.replicate.run_path``, replicate
``--rep``, the sweep's seed for it) of each setting at the sizes ``--n``, each in a fresh process (BLAS
single-threaded, CPU time limited to ``--cap`` seconds by ``RLIMIT_CPU``). Reports the CPU seconds and the
fit statuses per setting, and projects the decisive design: sum over settings of (CPU s per path) x
``--design-reps`` paths, divided by ``--workers`` (paths are independent; 12 x 40 = 480 paths keep 2
workers busy). Replicates 0 and 1 also refit every 5th size from a cold near-truth start
(``replicate.COLD_CHECK_REPS``), so the default ``--rep 2`` is a typical path.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path[:0] = [str(ROOT), str(HERE)]
os.environ["PYTHONPATH"] = os.pathsep.join([str(ROOT), str(HERE), os.environ.get("PYTHONPATH", "")])

import numpy as np  # noqa: E402

from hmoe_theory.experiments import SweepSpec, Task, load_results, parse_sizes, run_sweep, task_seed  # noqa: E402

SETTINGS = ("a", "b", "c", "d")
REFERENCE = "bench_rates_sweep:busy_path"  # workers import it by name (also under Dask)
BLOCK = 1000  # elements sorted per unit of work


def _units_per_ms() -> float:
    """Units of synthetic work (one sort of BLOCK normals) per CPU millisecond on this machine."""
    x = np.random.default_rng(0).standard_normal(BLOCK)
    units, start = 0, time.process_time()
    while time.process_time() - start < 0.5:
        for _ in range(100):
            np.sort(x)
        units += 100
    return units / ((time.process_time() - start) * 1000)


def busy_path(setting: str, sizes: list[int], rep: int, seed: int) -> list[dict]:
    """Synthetic replicate path: per size, a fixed WORK_MS * sqrt(n / 1e4) ms of sorting; metric |mean z|."""
    units_per_ms = float(os.environ["BENCH_UNITS_PER_MS"])
    work_ms = float(os.environ["BENCH_WORK_MS"])
    z = np.random.default_rng(seed).standard_normal(max(sizes))
    rows = []
    for n in sizes:
        block = z[:BLOCK]
        for _ in range(int(round(work_ms * np.sqrt(n / 1e4) * units_per_ms))):
            np.sort(block)
        rows.append({"n": int(n), "status": "converged", "metrics": {"error": abs(float(z[:n].mean()))}})
    return rows


def _call(task: Task) -> list[dict]:
    return busy_path(task.setting, list(task.sizes), task.rep, task.seed)


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def _timed(label: str, fn) -> tuple[float, float]:
    """(wall s, CPU s of this process and the children it reaped) of fn()."""
    wall, cpu = time.perf_counter(), time.process_time() + _children_cpu()
    fn()
    wall, cpu = time.perf_counter() - wall, time.process_time() + _children_cpu() - cpu
    print(f"  {label:<38} {wall:8.2f} s wall {cpu:8.2f} s CPU", flush=True)
    return wall, cpu


def overhead(reps: int, workers: int, with_dask: bool) -> None:
    import bench_rates_sweep as module  # the same function the workers import by name

    spec = SweepSpec(SETTINGS, "1e3:1e5:20", reps, seed=0)
    tasks = spec.tasks()
    print(f"{len(tasks)} replicate paths x {len(spec.sizes)} sizes = {spec.fits} fits, "
          f"{os.environ['BENCH_WORK_MS']} ms of work per fit at n = 1e4 (x sqrt(n/1e4)), {workers} workers")
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        peer = _timed("peer: bare loop", lambda: [module._call(t) for t in tasks])
        ours = _timed("ours: run_sweep workers=1", lambda: run_sweep(spec, tmp / "serial", replicate=REFERENCE))
        rows.append(("serial", peer, ours))

        def bare_pool():
            with ProcessPoolExecutor(workers) as pool:
                return list(pool.map(module._call, tasks, chunksize=1))

        peer = _timed(f"peer: ProcessPoolExecutor({workers}).map", bare_pool)
        ours = _timed(f"ours: run_sweep workers={workers}",
                      lambda: run_sweep(spec, tmp / "pool", workers=workers, replicate=REFERENCE))
        rows.append(("process pool", peer, ours))
        assert load_results(tmp / "pool") == load_results(tmp / "serial")
        resume, _ = _timed("ours: resume finished sweep",
                           lambda: run_sweep(spec, tmp / "pool", workers=workers, replicate=REFERENCE))

        if with_dask:
            from distributed import Client, LocalCluster

            with LocalCluster(n_workers=workers, threads_per_worker=1, processes=True, host="127.0.0.1",
                              dashboard_address=None) as cluster, Client(cluster) as client:
                client.run(lambda: __import__("bench_rates_sweep"))  # warm the workers' imports
                peer = _timed("peer: client.map + gather",
                              lambda: client.gather(client.map(module._call, tasks, pure=False)))
                ours = _timed("ours: run_sweep scheduler=tcp://...",
                              lambda: run_sweep(spec, tmp / "dask", scheduler=cluster.scheduler_address,
                                                replicate=REFERENCE))
                rows.append(("dask LocalCluster", (peer[0], float("nan")), (ours[0], float("nan"))))
            assert load_results(tmp / "dask") == load_results(tmp / "serial")
    print("\n| backend | peer wall s | ours wall s | ratio wall | peer CPU s | ours CPU s | ratio CPU |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    for name, (pw, pc), (ow, oc) in rows:
        cpu = f"{pc:.2f} | {oc:.2f} | {oc / pc:.2f}" if np.isfinite(pc) else "- | - | -"
        print(f"| {name} | {pw:.2f} | {ow:.2f} | {ow / pw:.2f} | {cpu} |")
    print(f"\nresume of a finished {len(tasks)}-path sweep: {resume:.3f} s wall; stored numbers identical across backends")


_REAL_CHILD = """
import json, resource, sys, time
cap = int(sys.argv[5])
resource.setrlimit(resource.RLIMIT_CPU, (cap, cap + 5))
from hmoe_theory.estimation.replicate import run_path
setting, sizes, rep, seed = sys.argv[1], json.loads(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
start = time.process_time()
statuses = [row["status"] for row in run_path(setting, sizes, rep, seed)]
print(json.dumps({"cpu": time.process_time() - start, "statuses": statuses}))
"""


def _one_path(setting: str, sizes: list[int], rep: int, cap: int) -> dict | None:
    """CPU seconds and statuses of one path in a fresh process, or None when it hit the CPU cap."""
    env = {**os.environ, "OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}
    args = [sys.executable, "-c", _REAL_CHILD, setting, json.dumps(sizes), str(rep), str(task_seed(0, rep)), str(cap)]
    try:
        out = subprocess.run(args, env=env, cwd=ROOT, capture_output=True, text=True, timeout=30 * cap)
    except subprocess.TimeoutExpired:
        return None
    if out.returncode != 0:
        if out.returncode in (-24, -9):  # SIGXCPU / SIGKILL: the CPU cap
            return None
        raise RuntimeError(f"{setting}: {out.stderr.strip().splitlines()[-1] if out.stderr.strip() else out.returncode}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def real(sizes_spec: str, names: str, rep: int, cap: int, design_reps: int, workers: int, jobs: int) -> None:
    from hmoe_theory.estimation.catalogue import DEFAULT_SETTINGS

    sizes = list(parse_sizes(sizes_spec))
    settings = list(DEFAULT_SETTINGS) if names == "default" else names.split(",")
    print(f"one path (rep {rep}) per setting, sizes {sizes[0]}..{sizes[-1]} ({len(sizes)}), CPU cap {cap} s, "
          f"{jobs} paths at a time; load {os.getloadavg()[0]:.1f}", flush=True)
    with ThreadPoolExecutor(jobs) as pool:  # each path in its own process: CPU seconds are per process
        results = dict(zip(settings, pool.map(lambda s: _one_path(s, sizes, rep, cap), settings)))
    print("\n| setting | CPU s per path | converged | iteration-cap | other |\n|---|---:|---:|---:|---:|")
    total, missing = 0.0, []
    for setting, result in results.items():
        if result is None:
            missing.append(setting)
            print(f"| {setting} | > {cap} (not finished) | | | |")
            continue
        st = result["statuses"]
        other = len(st) - st.count("converged") - st.count("iteration-cap")
        total += result["cpu"]
        print(f"| {setting} | {result['cpu']:.1f} | {st.count('converged')} | {st.count('iteration-cap')} | {other} |")
    cpu = total * design_reps
    print(f"\nprojection, {len(settings) - len(missing)} finished settings x {design_reps} reps x {len(sizes)} sizes: "
          f"{cpu:.0f} CPU s = {cpu / 3600:.2f} CPU h = {cpu / workers / 60:.1f} min on {workers} cores"
          + (f"; NOT included (over the cap): {', '.join(missing)}, each > {cap * design_reps / 3600:.1f} CPU h"
             if missing else "") + f"; load {os.getloadavg()[0]:.1f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--reps", type=int, default=5, help="overhead mode: replicates per synthetic setting")
    parser.add_argument("--work-ms", type=float, default=20.0, help="overhead mode: ms of work per fit at n = 1e4")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--no-dask", action="store_true")
    parser.add_argument("--real", action="store_true", help="time real replicate paths and project the design")
    parser.add_argument("--n", default="1e3:1e5:20", help="real mode: sizes of the path")
    parser.add_argument("--settings", default="default", help="real mode: comma-separated names, or 'default'")
    parser.add_argument("--rep", type=int, default=2, help="real mode: replicate index of the timed path")
    parser.add_argument("--cap", type=int, default=180, help="real mode: CPU seconds allowed per path")
    parser.add_argument("--design-reps", type=int, default=40, help="real mode: replicates in the projection")
    parser.add_argument("--jobs", type=int, default=1, help="real mode: paths timed side by side (CPU s are per process)")
    args = parser.parse_args()
    if args.real:
        real(args.n, args.settings, args.rep, args.cap, args.design_reps, args.workers, args.jobs)
        return
    os.environ["BENCH_WORK_MS"] = str(args.work_ms)  # read by busy_path in every worker (Dask imports afresh)
    os.environ["BENCH_UNITS_PER_MS"] = repr(_units_per_ms())
    overhead(args.reps, args.workers, not args.no_dask)


if __name__ == "__main__":
    main()
