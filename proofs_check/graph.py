"""The dependency graph of claims (``depends_on``): validation, reverse edges, failure propagation, layers.

An edge A -> B means "A rests on B". The graph must be acyclic and every id must name a known claim.
A claim *rests on a failed claim* when some claim reachable from it along ``depends_on`` ran and did
not pass; claims that were not run (e.g. outside ``--only``) are neither passed nor failed.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence

from .claim import Claim, ClaimError


def check_dependencies(claims: Iterable[Claim]) -> None:
    """Every ``depends_on`` id names one of ``claims``, and the graph has no cycle (else :class:`ClaimError`)."""
    by_id = {c.id: c for c in claims}
    for c in by_id.values():
        for d in c.depends_on:
            if d not in by_id:
                raise ClaimError(f"claim {c.id!r} depends on unknown claim {d!r}")
    state: dict[str, int] = {}  # 1 = on the current path, 2 = done

    def visit(node: str, path: list[str]) -> None:
        state[node] = 1
        for d in by_id[node].depends_on:
            if state.get(d) == 1:
                cycle = path[path.index(d) :] + [d]
                raise ClaimError(f"claims depend on each other in a cycle: {' -> '.join(cycle)}")
            if d not in state:
                visit(d, [*path, d])
        state[node] = 2

    for claim_id in sorted(by_id):
        if claim_id not in state:
            visit(claim_id, [claim_id])


def used_by(claims: Iterable[Claim]) -> dict[str, tuple[str, ...]]:
    """Reverse edges: for each claim id, the ids of the claims that list it in ``depends_on`` (sorted)."""
    claims = list(claims)
    users: dict[str, list[str]] = {c.id: [] for c in claims}
    for c in claims:
        for d in c.depends_on:
            users.setdefault(d, []).append(c.id)
    return {k: tuple(sorted(v)) for k, v in users.items()}


def failed_upstream(claims: Sequence[Claim], passed: Mapping[str, bool]) -> dict[str, tuple[str, ...]]:
    """For each claim, the sorted ids of the claims it rests on (transitively) that ran and failed.

    ``passed[id]`` is present for claims that ran. Dependencies outside ``claims`` are ignored.
    """
    by_id = {c.id: c for c in claims}
    memo: dict[str, frozenset[str]] = {}

    def failing(node: str) -> frozenset[str]:
        if node not in memo:
            found: set[str] = set()
            for d in by_id[node].depends_on:
                if d not in by_id:
                    continue
                if passed.get(d) is False:
                    found.add(d)
                found |= failing(d)
            memo[node] = frozenset(found)
        return memo[node]

    return {c.id: tuple(sorted(failing(c.id))) for c in claims}


def layers(claims: Sequence[Claim]) -> dict[str, int]:
    """Layer of each claim: 0 when it rests on nothing (among ``claims``), else 1 + the deepest dependency."""
    by_id = {c.id: c for c in claims}
    memo: dict[str, int] = {}

    def depth(node: str) -> int:
        if node not in memo:
            deps = [d for d in by_id[node].depends_on if d in by_id]
            memo[node] = 1 + max(map(depth, deps)) if deps else 0
        return memo[node]

    return {c.id: depth(c.id) for c in claims}
