"""The identity of a setting: a digest of its full definition and of the replicate function that fits it.

A result store keys its fits by setting name, but a name alone does not say what was fitted: a ``--spec``
file may reuse a catalogue name with other truths, and a catalogue entry may be redefined between two
releases. :func:`setting_identity` is the SHA-256 of a canonical JSON text of

* the replicate function's ``"module:function"`` name, and
* the setting's definition: every public field of the setting object (a dataclass such as
  :class:`~hmoe_theory.estimation.setting.Setting`), recursively; a gate or expert is written as its
  name, formula and the ``str`` of its symbolic term on the setting's inputs with its parameters sorted by
  name; floats as ``repr`` (exact), mappings with sorted keys. A user definition (a mapping from a TOML
  file) is first validated into the same object by the replicate module's ``setting_from_mapping`` when it
  has one, so a ``--spec`` file equal to a catalogue entry has the entry's identity.

The text never depends on ``PYTHONHASHSEED`` (sympy prints sums and products in its canonical order, and
every mapping is sorted), so the same definition gives the same identity in every process.
"""

from __future__ import annotations

import dataclasses
import hashlib
import importlib
import json
import math
from collections.abc import Mapping
from typing import Any


def _callable_name(function: Any) -> str:
    return f"{getattr(function, '__module__', '?')}:{getattr(function, '__qualname__', type(function).__name__)}"


def _term(obj: Any, d: int) -> dict[str, Any]:
    """A gate or expert (an object with a ``builder``): its symbolic term on ``d`` inputs, parameters sorted."""
    from ..symbols import input_symbols

    built = obj.builder(tuple(input_symbols(max(d, 1))), None)
    expr, params = built[0], built[1]
    return {"term": str(expr), "params": sorted(str(p) for p in params)}


def canonical(value: Any, d: int = 1) -> Any:
    """``value`` as plain JSON data with a stable order (see the module docstring); ``d``: input dimension
    used to print gate and expert terms."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        inputs = getattr(value, "inputs", None)
        d = len(inputs) if isinstance(inputs, (tuple, list)) else d
        out: dict[str, Any] = {"type": type(value).__qualname__}
        for f in dataclasses.fields(value):
            if not f.name.startswith("_"):
                out[f.name] = canonical(getattr(value, f.name), d)
        if callable(getattr(value, "builder", None)):
            out["builder"] = _term(value, d)
        return out
    if isinstance(value, Mapping):
        return {str(k): canonical(v, d) for k, v in sorted(value.items(), key=lambda kv: str(kv[0]))}
    if isinstance(value, (list, tuple)):
        return [canonical(v, d) for v in value]
    if isinstance(value, bool) or value is None or isinstance(value, str):
        return value
    if isinstance(value, int):
        return str(value)  # any size, no float rounding
    if isinstance(value, float):
        return repr(value) if math.isfinite(value) else str(value)
    if hasattr(value, "tolist"):  # numpy arrays and scalars
        return canonical(value.tolist(), d)
    if callable(value):
        return _callable_name(value)
    return f"{type(value).__qualname__}:{value}"


def _setting_object(reference: str, name: str, definition: Mapping | None) -> Any:
    module = importlib.import_module(reference.partition(":")[0])
    if definition is not None:
        validate = getattr(module, "setting_from_mapping", None)
        return validate(definition) if callable(validate) else definition
    settings = getattr(module, "SETTINGS", None)
    if isinstance(settings, Mapping) and name in settings:
        return settings[name]
    return {"name": name}  # a replicate module without a catalogue: the name is all it receives


def setting_identity(reference: str, name: str, definition: Mapping | None = None) -> str:
    """SHA-256 (hex) of the canonical definition of setting ``name`` as fitted by replicate ``reference``
    (``definition``: a user setting's mapping, else the replicate module's ``SETTINGS[name]``)."""
    text = json.dumps(
        {"replicate": reference, "setting": canonical(_setting_object(reference, name, definition))},
        sort_keys=True, separators=(",", ":"), ensure_ascii=True,
    )
    return hashlib.sha256(text.encode()).hexdigest()
