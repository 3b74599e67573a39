"""Interaction discovery and identifiability (issue 3).

* :func:`discover_relations` -- every linear relation (PDE at a point) among the partial derivatives of a
  gate x expert function or of a user function, found numerically at >= 50 digits and certified exactly.
* :mod:`.identifiability` -- configurable derivative families, the strong-identifiability preset, the
  catalogue table.
* :func:`fisher_information` -- Fisher information of a density-mode mixture and its rank.
* :mod:`.definition_one` -- Definition 1 of arXiv 2505.10860 v1 (strong identifiability) and its density-level
  variant, each set proved independent or dependent; :mod:`.r_systems` -- r-systems of location-scale Gaussians.
* :mod:`.independence` -- proofs of linear independence (non-singular evaluation minors in ball arithmetic),
  rank bounds, and the local-inverse-bound certificate a rate order calls.
"""

from .derivatives import MAX_ORDER, Derivative, function_from_text, generic_point, parse_point
from .discovery import Column, Discovery, Relation, Term, discover_relations
from .fisher import FisherInformation, fisher_information
from .independence import (IndependenceCertificate, RankCertificate, certify_independence,
                           certify_local_inverse_bound)
from .identifiability import DerivativeFamily, IdentifiabilityResult, check_family, identifiability_table, preset

__all__ = [
    "MAX_ORDER",
    "Column",
    "Derivative",
    "DerivativeFamily",
    "Discovery",
    "FisherInformation",
    "IdentifiabilityResult",
    "IndependenceCertificate",
    "RankCertificate",
    "Relation",
    "Term",
    "certify_independence",
    "certify_local_inverse_bound",
    "check_family",
    "discover_relations",
    "fisher_information",
    "function_from_text",
    "generic_point",
    "identifiability_table",
    "parse_point",
    "preset",
]
