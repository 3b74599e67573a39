""""Copy as code": the Python call that reproduces what the explorer shows.

Each function returns a short, runnable script (imports, the call, a ``print``); arguments equal to
the function's defaults are left out, strings and numbers are written with ``repr``, so the script
contains only literals (nothing typed by the user is executed when the script is built).
"""

from __future__ import annotations

from collections.abc import Mapping


def _arguments(values: Mapping[str, object], defaults: Mapping[str, object]) -> str:
    return ", ".join(f"{k}={v!r}" for k, v in values.items() if k not in defaults or defaults[k] != v)


def family_call(
    *,
    gate: str | None = None,
    expert: str | None = None,
    function: str | None = None,
    inputs: str | None = None,
    params: str | None = None,
    positive: str | None = None,
    d: int = 1,
    order: int = 2,
    mode: str = "regression",
    seed: int = 0,
    point: str | None = None,
) -> str:
    """Script calling :func:`hmoe_theory.explorer.explore_family` with these arguments."""
    if function:
        head = repr(function)
        keywords = _arguments(
            {"inputs": inputs, "params": params, "positive": positive or None, "order": order, "seed": seed, "point": point or None},
            {"positive": None, "order": 2, "seed": 0, "point": None},
        )
        call = f"explore_family(function={head}, {keywords})"
    else:
        keywords = _arguments(
            {"d": d, "order": order, "mode": mode, "seed": seed, "point": point or None},
            {"d": 1, "order": 2, "mode": "regression", "seed": 0, "point": None},
        )
        call = f"explore_family({gate!r}, {expert!r}{', ' + keywords if keywords else ''})"
    return f"from hmoe_theory.explorer import explore_family\n\nreport = {call}\nprint(report)\n"


def curvature_call(
    map_text: str,
    coords: str,
    ranges: str | Mapping[str, tuple[float, float]],
    sets: str | Mapping[str, float] | None = None,
    sigma: str | None = None,
    resolution: int = 61,
) -> str:
    """Script calling :func:`hmoe_theory.explorer.explore_curvature` with these arguments (``ranges`` and
    ``sets`` as the text the widget shows, or as mappings of numbers)."""
    bounds = ranges if isinstance(ranges, str) else {k: (float(lo), float(hi)) for k, (lo, hi) in ranges.items()}
    values = sets if isinstance(sets, str) else {k: float(v) for k, v in (sets or {}).items()}
    keywords = _arguments(
        {"sets": values or None, "sigma": sigma or None, "resolution": resolution},
        {"sets": None, "sigma": None, "resolution": 61},
    )
    call = f"explore_curvature({map_text!r}, {coords!r}, {bounds!r}{', ' + keywords if keywords else ''})"
    return (
        "from hmoe_theory.explorer import explore_curvature\n\n"
        f"field = {call}\nprint(field)\nfield.figure().savefig('curvature.png')\n"
    )


def attention_call(
    position: str = "plain",
    tokens: int = 2,
    dim: int = 1,
    heads: int = 1,
    *,
    param: str = "hmoe",
    temperature: bool = False,
    order: int = 2,
    seed: int = 0,
) -> str:
    """Script calling :func:`hmoe_theory.explorer.explore_attention` with these arguments."""
    keywords = _arguments(
        {"tokens": tokens, "dim": dim, "heads": heads, "param": param, "temperature": temperature, "order": order, "seed": seed},
        {"tokens": 2, "dim": 1, "heads": 1, "param": "hmoe", "temperature": False, "order": 2, "seed": 0},
    )
    call = f"explore_attention({position!r}{', ' + keywords if keywords else ''})"
    return f"from hmoe_theory.explorer import explore_attention\n\nreport = {call}\nprint(report)\n"
