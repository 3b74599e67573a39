"""The gated-attention study as a replicate module: the one replicate function
:func:`hmoe_theory.estimation.replicate.run_path` paired with the attention catalogue of :mod:`.attention_catalogue`
(its ``SETTINGS``, ``DEFAULT_SETTINGS`` and ``CONTRASTS``, what the sweep runner reads from a replicate module), so

    hmoe rates --replicate hmoe_theory.estimation.attention_replicate:run_path --setting default ...

runs the attention design (the reference the shipped gated-attention store was made with). Nothing in the library
imports this module: it only names the pair for the command line, so the import graph has no circle.
"""

from __future__ import annotations

from .attention_catalogue import CONTRASTS, DEFAULT_SETTINGS, SETTINGS
from .replicate import run_path

__all__ = ["CONTRASTS", "DEFAULT_SETTINGS", "SETTINGS", "run_path"]
