"""Claim modules; every module here is imported by :func:`proofs_check.registry.all_claims`."""
