"""Interaction discovery and identifiability (issue 3).

* :func:`discover_relations` -- every linear relation (PDE at a point) among the partial derivatives of a
  gate x expert function or of a user function, found numerically at >= 50 digits and certified exactly.
* :mod:`.identifiability` -- configurable derivative families, the strong-identifiability preset, the
  catalogue table.
* :func:`fisher_information` -- Fisher information of a density-mode mixture and its rank.
"""

from .derivatives import MAX_ORDER, Derivative, function_from_text, generic_point, parse_point
from .discovery import Column, Discovery, Relation, Term, discover_relations
from .fisher import FisherInformation, fisher_information
from .identifiability import DerivativeFamily, IdentifiabilityResult, check_family, identifiability_table, preset

__all__ = [
    "MAX_ORDER",
    "Column",
    "Derivative",
    "DerivativeFamily",
    "Discovery",
    "FisherInformation",
    "IdentifiabilityResult",
    "Relation",
    "Term",
    "check_family",
    "discover_relations",
    "fisher_information",
    "function_from_text",
    "generic_point",
    "identifiability_table",
    "parse_point",
    "preset",
]
