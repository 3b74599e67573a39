"""``hmoe curvature``: Fisher-Rao metric and curvature of a Gaussian mean model at a point.

Example: ``hmoe curvature --map "[R*cos(u)*cos(v), R*cos(u)*sin(v), R*sin(u)]" --coords u,v
--at u=0.1,v=0.2 --set R=2 --json`` (Gaussian curvature 1/4). ``--exact`` adds canonical exact values
(``-22500/58081`` rather than an unsimplified expression), each checked against the 50-digit mpmath
reference; ``--symbolic`` gives them as functions of the coordinates (``6/R**2`` for the 3-sphere);
``--ricci`` adds the Ricci tensor. The command stops after ``--time-limit`` seconds (added by
:mod:`hmoe_theory.cli`, which runs it under a hard deadline), with one line naming the limit.
"""

from __future__ import annotations

import argparse
import json

from hmoe_theory.jsonout import strict_dumps


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "curvature",
        help="Fisher metric and curvature of y ~ N(Y(theta), Sigma) at a point",
        description="Metric g = J^T Sigma^-1 J and its curvature (Gauss equation; the sphere of radius R has +1/R^2).",
    )
    p.add_argument("--map", required=True, metavar="LIST", help='mean map, e.g. "[u, v, u*v]"')
    p.add_argument("--coords", required=True, metavar="NAMES", help="parameters, e.g. u,v")
    p.add_argument("--at", metavar="ASSIGNMENTS", help="the point, e.g. u=0.1,v=0.2 (not needed with --symbolic)")
    p.add_argument("--set", metavar="ASSIGNMENTS", help="values of other symbols in the map, e.g. R=2")
    p.add_argument(
        "--sigma", metavar="LIST", help="covariance: D variances or D*D entries row-major (default identity)"
    )
    p.add_argument("--plane", metavar="X;Y", help='a 2-plane for one more sectional curvature, e.g. "1,0,0;0,1,1"')
    p.add_argument("--ricci", action="store_true", help="also give the Ricci tensor Ric_bd = g^ac R_abcd")
    p.add_argument("--exact", action="store_true", help="also give exact canonical values at the point (checked at 50 digits)")
    p.add_argument(
        "--symbolic", action="store_true", help="exact canonical values as functions of the coordinates (no --at needed)"
    )
    p.add_argument("--digits", type=int, default=0, metavar="N", help="also give an mpmath reference at N digits")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.set_defaults(func=run)


def _plane(text: str, n: int) -> tuple[list[float], list[float]]:
    from hmoe_theory.errors import ModelError
    from hmoe_theory.expr import parse_vector

    parts = text.split(";")
    if len(parts) != 2:
        raise ModelError('--plane needs two vectors separated by ";", e.g. "1,0;0,1"')
    X, Y = ([float(v) for v in parse_vector(f"[{part}]", names=[])] for part in parts)
    if len(X) != n or len(Y) != n:
        raise ModelError(f"--plane vectors need {n} components")
    return X, Y


def _sigma(text: str | None, size: int):
    from hmoe_theory.geometry.text import parse_covariance

    return None if text is None else parse_covariance(text, size, "--sigma")


def _check_options(args: argparse.Namespace) -> None:
    from hmoe_theory.errors import ModelError

    if args.at is None and not args.symbolic:
        raise ModelError("--at is required (or use --symbolic for exact values as functions of the coordinates)")
    if args.at is not None and args.symbolic:
        raise ModelError("--symbolic gives functions of the coordinates; drop --at (or use --exact at the point)")
    if args.digits < 0:
        raise ModelError(f"--digits must be >= 0, got {args.digits}")


def _default_plane(n: int) -> str:
    e1, e2 = ["1"] + ["0"] * (n - 1), ["0", "1"] + ["0"] * (n - 2)
    return f"{','.join(e1)};{','.join(e2)}"


def _seconds(args: argparse.Namespace) -> float:
    from hmoe_theory.timelimit import DEFAULT_TIME_LIMIT_S

    return getattr(args, "time_limit", DEFAULT_TIME_LIMIT_S)


def _planes(coords: list[str]) -> list[tuple[int, int]]:
    return [(a, b) for a in range(len(coords)) for b in range(a + 1, len(coords))]


def _text(expr) -> str:
    """``str(expr)``; large expressions unsorted (sympy's term sorting dominates the time beyond ~10^4 nodes)."""
    import sympy as sp

    large = any(i > 10_000 for i, _ in enumerate(sp.preorder_traversal(expr)))
    return sp.sstr(expr, order="none") if large else str(expr)


def _exact(metric, point, args, coords: list[str]) -> dict:
    """Canonical exact values (strings), at the point or symbolic, each checked at 50 digits."""
    exact = metric.exact_curvature(None if args.symbolic else point, _seconds(args))
    result: dict = {"scalar_curvature": _text(exact.scalar)}
    if len(coords) == 2:
        result["gaussian_curvature"] = _text(exact.gaussian)
    result["sectional_curvatures"] = {f"{coords[a]},{coords[b]}": _text(v) for (a, b), v in exact.sectional.items()}
    if args.ricci:
        result["ricci"] = [[_text(x) for x in row] for row in exact.ricci.tolist()]
    where = "at 2 random rational points" if args.symbolic or metric.constants else "at the point"
    result["check"] = f"every value matches the mpmath reference to 50 digits {where}"
    return result


def _reference(metric, point, args, coords: list[str]) -> dict:
    import mpmath

    ref = metric.reference_curvature(point, args.digits)
    result: dict = {"scalar_curvature": mpmath.nstr(ref["scalar"], args.digits)}
    if len(coords) == 2:
        result["gaussian_curvature"] = mpmath.nstr(ref["sectional"][0, 1], args.digits)
    result["sectional_curvatures"] = {
        f"{coords[a]},{coords[b]}": mpmath.nstr(v, args.digits) for (a, b), v in ref["sectional"].items()
    }
    if args.ricci:
        n = len(coords)
        result["ricci"] = [[mpmath.nstr(ref["ricci"][b, d], args.digits) for d in range(n)] for b in range(n)]
    return result


def run(args: argparse.Namespace) -> int:
    import numpy as np
    import sympy as sp

    from hmoe_theory.errors import ModelError
    from hmoe_theory.expr import parse_assignments
    from hmoe_theory.geometry.metric import PullbackMetric
    from hmoe_theory.geometry.text import parse_coordinates, parse_mean_map
    from hmoe_theory.timelimit import time_limit

    _check_options(args)
    symbols = parse_coordinates(args.coords)
    coords = [s.name for s in symbols]
    constants = parse_assignments(args.set) if args.set else {}
    clash = sorted(set(coords) & set(constants))
    if clash:
        raise ModelError(f"--set assigns coordinate(s) {', '.join(clash)}; give them in --at")
    # at a point every name must be a coordinate or assigned by --set; --symbolic keeps other names as constants
    exprs = parse_mean_map(args.map, symbols, None if args.symbolic and not constants else constants)
    metric = PullbackMetric(exprs, symbols, _sigma(args.sigma, len(exprs)), "--map")
    if constants:
        metric = metric.subs(constants)
    result: dict = {"coords": coords}
    point = None
    if args.at is not None:
        point = parse_assignments(args.at)
        extra = sorted(set(point) - set(coords))
        if extra:
            raise ModelError(f"--at assigns {', '.join(extra)}, which are not coordinates ({args.coords})")
        curvature = metric.curvature(point)
        result["point"] = {k: float(sp.N(v)) for k, v in point.items()}
        result["metric"] = np.asarray(curvature.metric).tolist()
        result["scalar_curvature"] = float(curvature.scalar)
        if len(coords) == 2:
            result["gaussian_curvature"] = float(curvature.gaussian)
        result["sectional_curvatures"] = {}
        for a, b in _planes(coords):
            X, Y = np.eye(len(coords))[a], np.eye(len(coords))[b]
            result["sectional_curvatures"][f"{coords[a]},{coords[b]}"] = float(curvature.sectional(X, Y))
        if len(coords) >= 2:  # one chosen plane (default e1, e2), as before --ricci/all planes existed
            X, Y = _plane(args.plane or _default_plane(len(coords)), len(coords))
            result["sectional_curvature"] = float(curvature.sectional(X, Y))
            result["plane"] = [X, Y]
        if args.ricci:
            result["ricci"] = np.asarray(curvature.ricci).tolist()
    with time_limit(_seconds(args), "hmoe curvature (exact and reference values)"):
        if args.exact or args.symbolic:
            result["symbolic" if args.symbolic else "exact"] = _exact(metric, point, args, coords)
        if args.digits and point is not None:
            result["reference"] = _reference(metric, point, args, coords)
            if len(coords) == 2:
                result["reference_gaussian_curvature"] = result["reference"]["gaussian_curvature"]
            elif len(coords) > 2:
                import mpmath

                X, Y = _plane(args.plane or _default_plane(len(coords)), len(coords))
                value = metric.reference_sectional_curvature(point, X, Y, digits=args.digits)
                result["reference_sectional_curvature"] = mpmath.nstr(value, args.digits)
    if args.json:
        print(strict_dumps(result, indent=2))
        return 0
    _print_text(result, args)
    return 0


def _print_text(result: dict, args: argparse.Namespace) -> None:
    import numpy as np

    if "metric" in result:
        print(f"metric g = {np.array2string(np.asarray(result['metric']), precision=10)}")
        for key in ("gaussian_curvature", "sectional_curvature", "scalar_curvature"):
            if key in result:
                print(f"{key.replace('_', ' ')}: {result[key]:.15g}")
        for plane, value in result["sectional_curvatures"].items():
            print(f"sectional curvature K({plane}): {value:.15g}")
        if "ricci" in result:
            print(f"Ricci tensor = {np.array2string(np.asarray(result['ricci']), precision=10)}")
    for label in ("exact", "symbolic", "reference"):
        block = result.get(label)
        if not block:
            continue
        suffix = f" ({args.digits} digits)" if label == "reference" else ""
        for key, value in block.items():
            if key == "sectional_curvatures":
                for plane, v in value.items():
                    print(f"{label} sectional curvature K({plane}){suffix}: {v}")
            elif key == "ricci":
                for b, row in enumerate(value):
                    print(f"{label} Ricci row {b + 1}{suffix}: [{', '.join(row)}]")
            elif key == "check":
                print(f"{label} check: {value}")
            else:
                print(f"{label} {key.replace('_', ' ')}{suffix}: {value}")
