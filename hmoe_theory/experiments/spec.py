"""Sweep specifications: which (setting, sample size, replicate) fits to run, and with which seed.

A sweep is the grid ``settings x sizes x range(reps)``. Sizes come from a spec string:

* ``"START:STOP:COUNT"`` -- ``COUNT`` sizes log-spaced from ``START`` to ``STOP`` (both included),
  ``n_i = round(START * (STOP/START)^(i/(COUNT-1)))``; duplicates created by rounding are dropped;
* ``"N1,N2,..."`` -- an explicit list (any order; sorted, duplicates dropped).

Numbers may be written ``1e3`` or ``1000`` but must denote integers >= 1.

Seeds: the fit (setting, n, rep) of a sweep with base seed ``s`` uses
``SeedSequence([s, crc32(setting), n, rep]).generate_state(1, uint64)[0] >> 1`` (a 63-bit integer, so
it fits an SQLite INTEGER). It depends only on these four values -- never on the order, the worker or
the process (``crc32`` is stable, unlike Python's salted ``hash``) -- which is what makes serial,
process-pool and Dask runs give identical numbers.
"""

from __future__ import annotations

import re
import zlib
from dataclasses import dataclass

import numpy as np

from ..errors import HmoeError

MAX_SIZE = 10**12
_NUMBER = re.compile(r"^\s*[0-9]+(\.[0-9]*)?([eE][+]?[0-9]+)?\s*$")


class SweepError(HmoeError, ValueError):
    """A sweep cannot run as asked (bad size spec, store mismatch, unreachable scheduler...)."""


def _parse_size(text: str, spec: str) -> int:
    if not _NUMBER.match(text):
        raise SweepError(f"bad sample size {text.strip()!r} in --n {spec!r}: expected a number such as 1000 or 1e3")
    value = float(text)
    if not value.is_integer() or value < 1 or value > MAX_SIZE:
        raise SweepError(f"bad sample size {text.strip()!r} in --n {spec!r}: sizes must be integers in [1, 1e12]")
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
        if not re.fullmatch(r"\s*[0-9]+\s*", parts[2]) or not 1 <= int(parts[2]) <= 1000:
            raise SweepError(f"bad --n spec {spec!r}: COUNT must be an integer between 1 and 1000")
        count = int(parts[2])
        if stop < start:
            raise SweepError(f"bad --n spec {spec!r}: STOP must be >= START")
        if count == 1 and stop != start:
            raise SweepError(f"bad --n spec {spec!r}: COUNT=1 needs START == STOP")
        sizes = {int(round(v)) for v in np.geomspace(start, stop, count)}
        return tuple(sorted(sizes))
    return tuple(sorted({_parse_size(part, spec) for part in spec.split(",")}))


def task_seed(base_seed: int, setting: str, n: int, rep: int) -> int:
    """Seed of fit ``(setting, n, rep)``: a 63-bit hash of ``(base_seed, crc32(setting), n, rep)``."""
    entropy = [int(base_seed), zlib.crc32(setting.encode("utf-8")), int(n), int(rep)]
    return int(np.random.SeedSequence(entropy).generate_state(1, dtype=np.uint64)[0] >> np.uint64(1))


@dataclass(frozen=True, order=True)
class Task:
    """One fit: replicate ``rep`` of ``setting`` at sample size ``n`` with its derived ``seed``."""

    setting: str
    n: int
    rep: int
    seed: int

    @property
    def key(self) -> tuple[str, int, int]:
        return (self.setting, self.n, self.rep)


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
        if isinstance(self.seed, bool) or not isinstance(self.seed, (int, np.integer)) or self.seed < 0:
            raise SweepError(f"--seed must be an integer >= 0, got {self.seed!r}")
        object.__setattr__(self, "settings", settings)
        object.__setattr__(self, "sizes", tuple(sorted({int(n) for n in sizes})))
        object.__setattr__(self, "reps", int(self.reps))
        object.__setattr__(self, "seed", int(self.seed))

    def tasks(self) -> list[Task]:
        """All fits, ordered largest size first (long fits start early, which balances a pool)."""
        return [
            Task(setting, n, rep, task_seed(self.seed, setting, n, rep))
            for n in sorted(self.sizes, reverse=True)
            for setting in self.settings
            for rep in range(self.reps)
        ]

    def __len__(self) -> int:
        return len(self.settings) * len(self.sizes) * self.reps

