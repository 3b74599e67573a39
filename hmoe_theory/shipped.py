"""Data shipped inside the package: the fits of the reproductions that claims and notebooks re-analyse.

The files live in ``hmoe_theory/data/`` and are package data, so they are found the same way in an editable
install, a wheel install (``pip install .``) and a source checkout; nothing is looked up relative to a
repository that an installed package does not have. A missing file raises :class:`MissingShippedData` (one
line naming the file and the install mode to fix it); a claim that needs it then fails, it never passes.

========================  ==========================================================================
name                      what it is
========================  ==========================================================================
``rates_v2/fits.csv``     the decisive rates reproduction (issue "Rates v2"): 9600 verified fits
``rates_v3/fits.csv``     the decisive rates-v3 rerun (identifiable settings, negative controls)
``rates_v3/predicted...`` the rate orders of its settings (hmoe_theory.experiments.predicted)
``gated_attention/...``   the gated-attention estimation experiment: 8000 verified fits
========================  ==========================================================================
"""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path

from .errors import HmoeError

RATES_V2_FITS = "rates_v2/fits.csv"
RATES_V3_FITS = "rates_v3/fits.csv"
RATES_V3_PREDICTED = "rates_v3/predicted_orders.csv"
GATED_ATTENTION_FITS = "gated_attention/fits.csv"


class MissingShippedData(HmoeError, FileNotFoundError):
    """A data file the package ships is not where the installed package says it is."""


def shipped_file(name: str) -> Path:
    """Path of the shipped data file ``name`` (relative to ``hmoe_theory/data``); raises
    :class:`MissingShippedData` if the installed package does not carry it."""
    path = Path(str(files("hmoe_theory").joinpath("data", *name.split("/"))))
    if not path.is_file():
        raise MissingShippedData(
            f"shipped data file hmoe_theory/data/{name} is missing from this install ({path.parent}); "
            "reinstall the package (pip install .) so its package data is included"
        )
    return path
