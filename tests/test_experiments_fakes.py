"""Importable, picklable fake replicate functions for the experiments tests (and checks of the fakes).

``power_replicate(setting, n, seed)`` draws n standard normals with ``default_rng(seed)`` and returns
``|mean|^(2e)`` for the setting's exponent e, whose log has mean ``-e log n + const``: the OLS slope
of the sweep estimates ``-e`` without bias. Environment hooks used by the resume test:
``HMOE_FAKE_LOG`` (a file: one line ``setting,n,seed`` appended per call) and ``HMOE_FAKE_SLEEP``.

Referenced as ``"test_experiments_fakes:power_replicate"``: pytest puts ``tests/`` on ``sys.path``;
subprocesses get it through ``PYTHONPATH``.
"""

import os
import time
from dataclasses import dataclass

import numpy as np

MODULE = "test_experiments_fakes"


@dataclass(frozen=True)
class FakeSetting:
    name: str
    description: str
    exponent: float


SETTINGS = {
    "root-n": FakeSetting("root-n", "|mean of n normals|: rate n^-1/2", 0.5),
    "quarter": FakeSetting("quarter", "sqrt|mean of n normals|: rate n^-1/4", 0.25),
    "extra": FakeSetting("extra", "not in the default reproduction", 1.0),
}
DEFAULT_SETTINGS = ("root-n", "quarter")


def power_replicate(setting: str, n: int, seed: int) -> dict[str, float]:
    if log := os.environ.get("HMOE_FAKE_LOG"):
        with open(log, "a") as fh:
            fh.write(f"{setting},{n},{seed}\n")
    time.sleep(float(os.environ.get("HMOE_FAKE_SLEEP", "0")))
    x = np.random.default_rng(seed).standard_normal(n)
    error = abs(float(x.mean())) ** (2 * SETTINGS[setting].exponent)
    return {"error": error, "spread": float(x.std())}


def odd_size_fails(setting: str, n: int, seed: int) -> dict[str, float]:
    if n % 2:
        raise ValueError(f"odd n={n}")
    return power_replicate(setting, n, seed)


def always_fails(setting: str, n: int, seed: int) -> dict[str, float]:
    raise RuntimeError("broken replicate")


def worker_dies(setting: str, n: int, seed: int) -> dict[str, float]:
    """Kills the process running it (only ever run in a pool worker)."""
    os._exit(3)


def returns_garbage(setting: str, n: int, seed: int):
    return {"error": "not a number"}


def test_fake_is_deterministic_and_seed_sensitive():
    assert power_replicate("root-n", 50, 7) == power_replicate("root-n", 50, 7)
    assert power_replicate("root-n", 50, 7) != power_replicate("root-n", 50, 8)
    assert power_replicate("quarter", 50, 7)["error"] == power_replicate("root-n", 50, 7)["error"] ** 0.5
