"""Sweep specifications: which replicate paths to run, and with which seed.

A sweep is the grid ``settings x sizes x range(reps)``. Its unit of work is a *replicate path*
(:class:`Task`): one setting, one replicate, all sizes, fitted on one nested sample (prefixes of a sample of
the largest size). Sizes come from a spec string:

* ``"START:STOP:COUNT"`` -- ``COUNT`` sizes log-spaced from ``START`` to ``STOP`` (both included),
  ``n_i = round(START * (STOP/START)^(i/(COUNT-1)))``; duplicates created by rounding are dropped;
* ``"N1,N2,..."`` -- an explicit list (any order; sorted, duplicates dropped).

Numbers may be written ``1e3`` or ``1000`` but must denote integers >= 1.

Seeds: replicate ``rep`` of a sweep with base seed ``s`` uses
``SeedSequence([s, rep]).generate_state(1, uint64)[0] >> 1`` (a 63-bit integer, so it fits an SQLite
INTEGER) for EVERY setting: settings are compared on the same draws (a paired design). It depends only on
these values -- never on the order, the worker or the process -- which is what makes serial, process-pool
and Dask runs give identical numbers. Setting-specific randomness (start perturbations) is derived inside
the replicate from (seed, crc32(setting)) (``crc32`` is stable, unlike Python's salted ``hash``).
"""

from __future__ import annotations

import math
import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from .. import bounds
from ..errors import HmoeError

_NUMBER = re.compile(r"^\s*[0-9]+(\.[0-9]*)?([eE][+]?[0-9]+)?\s*$")


class SweepError(HmoeError, ValueError):
    """A sweep cannot run as asked (bad size spec, store mismatch, unreachable scheduler...)."""


def _parse_size(text: str, spec: str) -> int:
    if not _NUMBER.match(text):
        raise SweepError(f"bad sample size {text.strip()!r} in --n {spec!r}: expected a number such as 1000 or 1e3")
    value = float(text)
    if value > bounds.limit("sample_size"):  # before the integer test: 1e400 is inf, not a "non-integer"
        raise bounds.refusal("sample_size", value, f"sample size {text.strip()} in --n")
    if not value.is_integer() or value < 1:
        raise SweepError(f"bad sample size {text.strip()!r} in --n {spec!r}: sizes must be positive integers")
    return int(value)


def parse_sizes(spec: str) -> tuple[int, ...]:
    """Sample sizes from ``"START:STOP:COUNT"`` (log-spaced, rounded) or ``"N1,N2,..."`` (sorted, unique)."""
    if not isinstance(spec, str) or not spec.strip():
        raise SweepError("empty --n spec: expected START:STOP:COUNT (e.g. 1e3:1e5:8) or a list N1,N2,...")
    if ":" in spec:
        parts = spec.split(":")
        if len(parts) != 3:
            raise SweepError(f"bad --n spec {spec!r}: expected START:STOP:COUNT, e.g. 1e3:1e5:8")
        start, stop = _parse_size(parts[0], spec), _parse_size(parts[1], spec)
        if not re.fullmatch(r"\s*[0-9]+\s*", parts[2]) or int(parts[2]) < 1:
            raise SweepError(f"bad --n spec {spec!r}: COUNT must be a positive integer")
        count = int(parts[2])
        bounds.check("sizes", count, "COUNT in --n")
        if stop < start:
            raise SweepError(f"bad --n spec {spec!r}: STOP must be >= START")
        if count == 1 and stop != start:
            raise SweepError(f"bad --n spec {spec!r}: COUNT=1 needs START == STOP")
        sizes = {int(round(v)) for v in np.geomspace(start, stop, count)}
        return tuple(sorted(sizes))
    return tuple(sorted({_parse_size(part, spec) for part in spec.split(",")}))


def _number_fields(value: Any, field: str) -> None:
    if isinstance(value, Mapping):
        for key, item in value.items():
            _number_fields(item, f"{field}.{key}" if field else str(key))
    elif isinstance(value, list):
        for i, item in enumerate(value, start=1):
            _number_fields(item, f"{field}[{i}]")
    elif isinstance(value, int) and not isinstance(value, bool) and value.bit_length() > 1023:
        digits = len(str(abs(value)))  # below Python's parse limit: tomllib read it
        raise SweepError(f"{field}: an integer of {digits} digits is outside double range (|x| < 1.8e308)")
    elif isinstance(value, float) and not math.isfinite(value):
        raise SweepError(f"{field}: expected a finite number, got {value!r}")


def check_spec_numbers(path: str | Path) -> None:
    """Refuse a TOML setting file whose numbers cannot be doubles (one line naming the field): integers
    beyond double range (``math.isfinite`` and ``float`` would overflow on them) or longer than Python's
    integer-parsing limit, and ``nan``/``inf``. Other checks stay with the setting's own validation."""
    path = Path(path)
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError):
        return  # reported by the setting reader with its own message
    except ValueError as exc:  # int() of a literal above sys.get_int_max_str_digits()
        raise SweepError(f"{path}: a number has too many digits to be read ({str(exc).split(';')[0]})") from None
    try:
        _number_fields(raw, "")
    except SweepError as exc:
        raise SweepError(f"{path}: {exc}") from None


def task_seed(base_seed: int, rep: int) -> int:
    """Seed of replicate ``rep``: a 63-bit hash of ``(base_seed, rep)``, shared by all settings (paired)."""
    entropy = [int(base_seed), int(rep)]
    return int(np.random.SeedSequence(entropy).generate_state(1, dtype=np.uint64)[0] >> np.uint64(1))


@dataclass(frozen=True, order=True)
class Task:
    """One replicate path: replicate ``rep`` of ``setting`` at every size of ``sizes``, drawn from ``seed``."""

    setting: str
    rep: int
    seed: int
    sizes: tuple[int, ...]

    @property
    def key(self) -> tuple[str, int]:
        return (self.setting, self.rep)


@dataclass(frozen=True)
class SweepSpec:
    """The grid ``settings x sizes x range(reps)`` with base seed ``seed``.

    ``sizes`` may be given as a spec string (see :func:`parse_sizes`) or a sequence of integers.
    """

    settings: tuple[str, ...]
    sizes: tuple[int, ...]
    reps: int
    seed: int = 0

    def __post_init__(self) -> None:
        settings = (self.settings,) if isinstance(self.settings, str) else tuple(self.settings)
        if not settings or any(not isinstance(s, str) or not s.strip() for s in settings):
            raise SweepError("a sweep needs at least one non-empty setting name")
        if len(set(settings)) != len(settings):
            raise SweepError(f"setting listed twice in {list(settings)}")
        sizes = parse_sizes(self.sizes) if isinstance(self.sizes, str) else tuple(self.sizes)
        if not sizes or any(isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 1 for n in sizes):
            raise SweepError(f"sample sizes must be integers >= 1, got {list(sizes)}")
        if isinstance(self.reps, bool) or not isinstance(self.reps, (int, np.integer)) or self.reps < 1:
            raise SweepError(f"--reps must be an integer >= 1, got {self.reps!r}")
        bounds.check("reps", int(self.reps), "--reps")
        bounds.check("sizes", len(sizes), "number of sample sizes in --n")
        if isinstance(self.seed, bool) or not isinstance(self.seed, (int, np.integer)) or self.seed < 0:
            raise SweepError(f"--seed must be an integer >= 0, got {self.seed!r}")
        object.__setattr__(self, "settings", settings)
        object.__setattr__(self, "sizes", tuple(sorted({int(n) for n in sizes})))
        object.__setattr__(self, "reps", int(self.reps))
        object.__setattr__(self, "seed", int(self.seed))

    def tasks(self) -> list[Task]:
        """All replicate paths, replicate by replicate (so an interrupted sweep has whole paired replicates)."""
        return [
            Task(setting, rep, task_seed(self.seed, rep), self.sizes)
            for rep in range(self.reps)
            for setting in self.settings
        ]

    @property
    def fits(self) -> int:
        """Number of fits (paths x sizes)."""
        return len(self) * len(self.sizes)

    def __len__(self) -> int:
        return len(self.settings) * self.reps

