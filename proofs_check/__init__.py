"""The claims ledger: every statement of hmoe-theory with its hypotheses, source and checked status."""

from .claim import Claim, Verdict
from .registry import all_claims, claim, select

__all__ = ["Claim", "Verdict", "all_claims", "claim", "select"]
