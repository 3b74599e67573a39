"""``hmoe curvature``: Fisher-Rao metric and curvature of a Gaussian mean model at a point.

Example: ``hmoe curvature --map "[R*cos(u)*cos(v), R*cos(u)*sin(v), R*sin(u)]" --coords u,v
--at u=0.1,v=0.2 --set R=2 --json`` (Gaussian curvature 1/4).
"""

from __future__ import annotations

import argparse
import json


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "curvature",
        help="Fisher metric and curvature of y ~ N(Y(theta), Sigma) at a point",
        description="Metric g = J^T Sigma^-1 J and its curvature (Gauss equation; the sphere of radius R has +1/R^2).",
    )
    p.add_argument("--map", required=True, metavar="LIST", help='mean map, e.g. "[u, v, u*v]"')
    p.add_argument("--coords", required=True, metavar="NAMES", help="parameters, e.g. u,v")
    p.add_argument("--at", required=True, metavar="ASSIGNMENTS", help="the point, e.g. u=0.1,v=0.2")
    p.add_argument("--set", metavar="ASSIGNMENTS", help="values of other symbols in the map, e.g. R=2")
    p.add_argument(
        "--sigma", metavar="LIST", help="covariance: D variances or D*D entries row-major (default identity)"
    )
    p.add_argument("--plane", metavar="X;Y", help='2-plane for the sectional curvature, e.g. "1,0,0;0,1,1" (default e1, e2)')
    p.add_argument("--exact", action="store_true", help="also give exact (sympy) values at the point")
    p.add_argument("--digits", type=int, default=0, metavar="N", help="also give an mpmath reference at N digits")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.set_defaults(func=run)


def _plane(text: str | None, n: int) -> tuple[list[float], list[float]]:
    from hmoe_theory.errors import ModelError
    from hmoe_theory.expr import parse_vector

    if text is None:
        return [1.0] + [0.0] * (n - 1), [0.0, 1.0] + [0.0] * (n - 2)
    parts = text.split(";")
    if len(parts) != 2:
        raise ModelError('--plane needs two vectors separated by ";", e.g. "1,0;0,1"')
    X, Y = ([float(v) for v in parse_vector(f"[{part}]", names=[])] for part in parts)
    if len(X) != n or len(Y) != n:
        raise ModelError(f"--plane vectors need {n} components")
    return X, Y


def _sigma(text: str | None, size: int):
    from hmoe_theory.errors import ModelError
    from hmoe_theory.expr import parse_vector

    if text is None:
        return None
    entries = parse_vector(text if text.strip().startswith("[") else f"[{text}]", names=[])
    if len(entries) == size:
        return entries
    if len(entries) == size * size:
        return [entries[i * size : (i + 1) * size] for i in range(size)]
    raise ModelError(f"--sigma: expected {size} variances or {size * size} entries, got {len(entries)}")


def run(args: argparse.Namespace) -> int:
    import mpmath
    import numpy as np
    import sympy as sp

    from hmoe_theory.errors import ModelError
    from hmoe_theory.expr import parse_assignments, parse_names, parse_vector
    from hmoe_theory.geometry.metric import PullbackMetric

    coords = parse_names(args.coords)
    constants = parse_assignments(args.set) if args.set else {}
    clash = sorted(set(coords) & set(constants))
    if clash:
        raise ModelError(f"--set assigns coordinate(s) {', '.join(clash)}; give them in --at")
    exprs = parse_vector(args.map, names=[*coords, *constants])
    point = parse_assignments(args.at)
    unknown = sorted(set(point) - set(coords))
    if unknown:
        raise ModelError(f"--at assigns {', '.join(unknown)}, which are not coordinates ({args.coords})")
    metric = PullbackMetric(exprs, coords, _sigma(args.sigma, len(exprs)), "--map")
    if constants:
        metric = metric.subs(constants)
    curvature = metric.curvature(point)
    n = metric.dimension
    result: dict = {
        "coords": coords,
        "point": {k: float(sp.N(v)) for k, v in point.items()},
        "metric": np.asarray(curvature.metric).tolist(),
        "scalar_curvature": float(curvature.scalar),
    }
    if n == 2:
        result["gaussian_curvature"] = float(curvature.gaussian)
    if n >= 2:
        X, Y = _plane(args.plane, n)
        result["sectional_curvature"] = float(curvature.sectional(X, Y))
        result["plane"] = [X, Y]
    if args.exact:
        result["exact"] = {"scalar_curvature": str(metric.exact_scalar_curvature(point))}
        if n == 2:
            result["exact"]["gaussian_curvature"] = str(metric.exact_gaussian_curvature(point))
    if args.digits:
        if n == 2:
            value = metric.reference_gaussian_curvature(point, args.digits)
            result["reference_gaussian_curvature"] = mpmath.nstr(value, args.digits)
        elif n > 2:
            value = metric.reference_sectional_curvature(point, *_plane(args.plane, n), digits=args.digits)
            result["reference_sectional_curvature"] = mpmath.nstr(value, args.digits)
    if args.json:
        print(json.dumps(result, indent=2))
        return 0
    print(f"metric g = {np.array2string(np.asarray(curvature.metric), precision=10)}")
    for key in ("gaussian_curvature", "sectional_curvature", "scalar_curvature"):
        if key in result:
            print(f"{key.replace('_', ' ')}: {result[key]:.15g}")
    for key, value in result.get("exact", {}).items():
        print(f"exact {key.replace('_', ' ')}: {value}")
    for key in ("reference_gaussian_curvature", "reference_sectional_curvature"):
        if key in result:
            print(f"{key.replace('_', ' ')} ({args.digits} digits): {result[key]}")
    return 0
