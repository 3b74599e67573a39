"""The rate order of a model: phi(eps) = min { ||f_G - f_G*||_{L2(mu)} : G with k atoms, D1(G, G*) ~ eps }.

phi(eps) ~ eps^s means the inverse bound ||f_G - f_G*|| >= C D1^s holds with no smaller s, hence a D1 rate
n^-1/(2s) for an n^-1/2 estimate of f (s = 1: exact fit; s = 2: second-order over-fit; phi = 0: the loss is not
identifiable). Steps, for every way of giving the k - k* extra atoms to the true cells (each cell >= 1 atom):

1. exact degeneracy scans (:mod:`.degeneracy`: merges of a cell, the model's candidate scalings): a sympy identity
   f_Gt = f_G* with D1 > 0 is a proof that the loss is not identifiable (status proved, exponent null); a model
   with a coordinate shared by the atoms (``shared_names``) that no scan decides is refused (the search has no
   shared coordinate);
2. continuation search (:mod:`.search`) from the seeds of :mod:`.seeds` over the eps grid;
3. per configuration the lowest stable branch's exponent (:mod:`.exponents`); the slowest configuration (largest
   exponent) is reported;
4. certificates (:mod:`.certificates`) along the best exact seed family at the grid's eps <= 1e-2: phi <= C eps^s
   (the rate is no faster; status certified);
5. for s = 1 or 2 under the atom-wise D1, the independence route (:mod:`.lower_bound`): phi >= C eps^s near G*
   (the rate is achieved). Both halves give status proved; the lower half alone leaves the order supported.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator, Sequence
from fractions import Fraction

import numpy as np

from ..certify import Status
from ..errors import HmoeError, ModelError
from ..estimation.voronoi import D1_CONVENTIONS
from .certificates import certify_family, covered
from .coordinates import Coordinates
from .degeneracy import Degeneracy, merge_scan, scale_scan
from .lower_bound import certify_lower_bound
from .exponents import ASYMPTOTIC_EPS, local_slopes, parameter_exponents, stable_exponent
from .models import RateModel
from .result import SUPPORTED, RateOrder
from .search import Branch, search_configuration

DEFAULT_GRID: tuple[float, ...] = tuple(10.0 ** (-e / 2) for e in range(2, 9))  # 1e-1 .. 1e-4, half decades
BOX = 1.0
CERTIFY_TRIES = 3
NUMERICAL_ZERO = 1e-13  # phi below this fraction of ||f*|| at every eps is rounding, not a rate


def configurations(k: int, k_true: int) -> list[tuple[int, ...]]:
    """Every composition of k into k_true positive parts (the cells' sizes), in lexicographic order."""
    if k < k_true:
        raise ModelError(f"k = {k} fitted atoms cannot cover k* = {k_true} true atoms")
    out = [c for c in itertools.product(range(1, k - k_true + 2), repeat=k_true) if sum(c) == k]
    return sorted(out, reverse=True)


def convention_of(model: RateModel, k: int, loss: str) -> dict:
    merged = list(model.linear_names) if loss == "merged" else []
    return {
        "model": model.model,
        "loss": loss,
        "merged_coordinates": merged,
        "atomwise_coordinates": [n for n in model.atom_names if n not in merged],
        "parametrisation": model.parametrisation,
        "pin": "the atom of one singleton cell keeps its gate parameters and weight at the truth (softmax translation)"
        if model.pinned else "none (weights on the simplex)" if model.simplex else "none (atoms are summed: no translation)",
        "k_true": model.k_true,
        "k": k,
        "shared_coordinates": list(model.shared_names),
        "box": f"split atoms keep >= 2 % of their cell's mass; merged within-cell spreads |zeta| < {BOX}",
        "measure": [list(a) for a in model.measure.axes],
        "D1": "sum_j |sum_{V_j} w_i - w*_j| + sum_i w_i sum_{p atomwise} |dtheta_ip| "
              "+ sum_j sum_{p merged} |sum_{V_j} w_i theta_ip - w*_j theta*_jp|"
              + "".join(f" + |{n} - {n}*|" for n in model.shared_names),
    }


def rate_order(
    model: RateModel,
    k: int,
    loss: str = "atomwise",
    grid: Sequence[float] = DEFAULT_GRID,
    *,
    seed: int = 0,
    certify: bool = True,
    name: str | None = None,
) -> RateOrder:
    """The verdict of the module docstring for ``model`` fitted with k atoms under the D1 ``loss``."""
    if loss not in D1_CONVENTIONS:
        raise ModelError(f"unknown loss convention {loss!r} (known: {', '.join(D1_CONVENTIONS)})")
    grid = sorted((float(e) for e in grid), reverse=True)
    if not grid or min(grid) <= 0 or max(grid) >= 1:
        raise ModelError(f"the eps grid must hold numbers in (0, 1), got {grid}")
    convention = convention_of(model, k, loss)
    label = name or model.name
    configs = configurations(k, model.k_true)
    notes: list[str] = []
    if model.pinned:
        skipped = [c for c in configs if 1 not in c]
        configs = [c for c in configs if 1 in c]
        if skipped:
            notes.append(f"configurations without a singleton cell (no atom to pin) not searched: {skipped}")
        if not configs:
            raise ModelError(f"k = {k}, k* = {model.k_true}: every configuration needs a singleton cell for the pin")
    for sizes in configs:
        for scan in _exact_scans(model, sizes, loss):
            if scan.not_identifiable:
                return _not_identifiable(model, sizes, loss, grid, scan, convention, label)
    if model.shared_names:
        raise ModelError(f"{label}: no exact scan decided the question and the search has no coordinate shared by "
                         f"the atoms ({', '.join(model.shared_names)}): hold it at its truth (e.g. --temperature held)")
    summaries, best, pinned = [], None, []
    for sizes in configs:
        coords = Coordinates(model, sizes, loss, BOX)
        pinned.append(coords.pinned_cell)
        branches = search_configuration(coords, grid, seed)
        summary = _summarise(coords, branches)
        summaries.append(summary["public"])
        if best is None or _slower(summary, best):
            best = summary
    return _verdict(model, k, loss, grid, best, summaries, convention, label, certify, notes, pinned)


def _exact_scans(model: RateModel, sizes: tuple[int, ...], loss: str) -> Iterator[Degeneracy]:
    """The merge and every candidate scaling for one configuration, lazily (the first proof decides); scalings on
    every atom first (they move a shared coordinate: its own redundancy, which holds at k = k* too). Under the merged
    D1 the merge is skipped: its cell aggregates are exact, so its D1 is 0 by construction (no counterexample)."""
    scalings = model.candidate_scalings()
    yield from (scale_scan(model, sizes, loss, s) for s in scalings if s.every_atom)
    if loss != "merged":
        yield merge_scan(model, sizes, loss)
    yield from (scale_scan(model, sizes, loss, s) for s in scalings if not s.every_atom)


def _branch_columns(branch: Branch) -> tuple[list[float], list[float], list[float]]:
    return [p.eps for p in branch.points], [p.d1 for p in branch.points], [p.phi_check for p in branch.points]


def _summarise(coords: Coordinates, branches: list[Branch]) -> dict:
    """Lowest stable branch (smallest phi at the smallest eps; within 5 % of each other the constructions come
    first, in seed order: PDE seeds, splits, random starts)."""
    lowest = min(b.points[-1].phi_check for b in branches)
    order = {id(b): n for n, b in enumerate(branches)}
    ranked = sorted(branches, key=lambda b: (b.points[-1].phi_check > 1.05 * lowest, b.points[-1].phi_check
                                             if b.points[-1].phi_check > 1.05 * lowest else order[id(b)]))
    chosen, exponent = ranked[0], None
    for branch in ranked:
        s = stable_exponent(*_branch_columns(branch))
        if s is not None:
            if branch.points[-1].phi_check <= 10 * ranked[0].points[-1].phi_check:
                chosen, exponent = branch, s
            break
    public = {"sizes": list(coords.sizes), "exponent": exponent, "branch": chosen.seed.name,
              "phi_at_smallest_eps": chosen.points[-1].phi_check,
              "branches": {b.seed.name: [p.phi_check for p in b.points] for b in branches}}
    return {"coords": coords, "branches": branches, "chosen": chosen, "exponent": exponent, "public": public}


def _slower(a: dict, b: dict) -> bool:
    """Is configuration a slower (larger exponent; at a tie, smaller phi) than b?"""
    ea, eb = a["exponent"], b["exponent"]
    if ea is not None and eb is not None and abs(ea - eb) > 0.2:
        return ea > eb
    if (ea is None) != (eb is None):
        return eb is None
    return a["chosen"].points[-1].phi_check < b["chosen"].points[-1].phi_check


def _verdict(model, k, loss, grid, best, summaries, convention, label, certify, notes, pinned) -> RateOrder:
    coords, chosen, exponent = best["coords"], best["chosen"], best["exponent"]
    eps, d1, phi = _branch_columns(chosen)
    slopes = [None, *local_slopes(d1, phi)]
    table = [
        {"eps": p.eps, "d1": p.d1, "phi": p.phi_check, "phi_search": p.phi, "enclosure": None,
         "enclosure_d1": None, "slope": s, "branch": chosen.seed.name, "voronoi_ok": p.voronoi_ok,
         "branches_within_10pct": sum(
             1 for b in best["branches"] if b.points[i].phi_check <= 1.1 * p.phi_check)}
        for i, (p, s) in enumerate(zip(chosen.points, slopes))
    ]
    vanishing = max(p.phi_check for p in chosen.points) < NUMERICAL_ZERO * chosen.scale
    if vanishing:
        notes.append(f"phi < {NUMERICAL_ZERO:g} ||f*|| at every eps along branch {chosen.seed.name}: phi vanishes "
                     "numerically (no symbolic identity was found; the slopes are rounding)")
        exponent = None
    if not all(p.voronoi_ok for p in chosen.points):
        notes.append("an atom of the reported branch left its Voronoi cell at some eps (D1 uses the intended cells)")
    minimiser = parameter_exponents(model.atom_names, d1, [p.deviations.delta for p in chosen.points])
    certificate, status = None, SUPPORTED
    if certify and not vanishing:
        certificate, status = _certificate(coords, best["branches"], chosen, exponent, table, notes)
    lower = None
    if certify and exponent is not None and not vanishing:
        lower = _lower_bound(model, k, loss, exponent, [p for p in pinned if p is not None], notes)
    achieved = lower is not None and lower["proved"]
    rate = ("phi = 0 numerically: not identifiable (numerical evidence)" if vanishing else "undetermined"
            if exponent is None else f"phi(eps) ~ eps^{exponent:.2f}, D1 rate n^-1/{2 * exponent:.2f}")
    if achieved:
        rate = f"phi(eps) ~ eps^{lower['order']}, D1 rate n^-1/{2 * lower['order']}"
    if achieved and status == Status.CERTIFIED.value:
        status = Status.PROVED.value
        claim = ("achieved: phi >= C eps^s near G* proved by an independence certificate; no faster: rigorous "
                 "enclosures along an explicit family")
    elif achieved:
        claim = ("achieved: phi >= C eps^s near G* proved by an independence certificate; no faster: numerical "
                 "minimum only (no certified family)")
    elif status == Status.CERTIFIED.value:
        claim = ("no faster than that rate (rigorous enclosures along an explicit family); achieved: numerical "
                 f"minimum ({_why_not(lower)})")
    else:
        claim = f"numerical minimum over the seeds and continuation ({_why_not(lower)})"
    verdict = f"{rate} for the slowest cells {list(coords.sizes)} under the {loss} D1 ({claim})"
    if exponent is None and not vanishing:
        notes.append("no branch had three consecutive local slopes within +-0.1 at eps <= 1e-2")
    return RateOrder(label, None if exponent is None else round(exponent, 3), not vanishing, status, verdict, convention,
                     {"sizes": list(coords.sizes), "branch": chosen.seed.name, "members": [list(map(int, m)) for m in coords.members]},
                     table, minimiser, summaries, None, certificate, notes, lower)


def _lower_bound(model, k, loss, exponent, pinned, notes) -> dict | None:
    """The independence route at the integer order nearest the search's exponent (within 0.1), else None."""
    order = round(exponent)
    if abs(exponent - order) > 0.1:
        notes.append(f"rate achieved not attempted: s = {exponent:.2f} is not within 0.1 of an integer")
        return None
    try:
        return certify_lower_bound(model, k, loss, order, pinned)
    except HmoeError as exc:
        notes.append(f"independence certificate failed: {exc}")
        return None


def _why_not(lower: dict | None) -> str:
    if lower is None:
        return "no independence certificate attempted"
    return f"rate achieved {lower['statement']}"


def _certificate(coords, branches, chosen, exponent, table, notes):
    """Enclosures along the exact seed families, best branch first; the first family whose rigorous slopes
    agree with the search's order certifies it (at most ``CERTIFY_TRIES`` families are tried)."""
    reason = covered(coords)
    if reason is not None:
        notes.append(f"certificate not covered: {reason}")
        return None, SUPPORTED
    exact = sorted((b for b in branches if b.seed.exact), key=lambda b: (b is not chosen, b.points[-1].phi_check))
    tried = []
    for family in exact[:CERTIFY_TRIES]:
        rows = [i for i, p in enumerate(family.points) if p.eps <= ASYMPTOTIC_EPS]
        try:
            cert = certify_family(coords, family.seed, [Fraction(family.points[i].seed_t) for i in rows])
        except HmoeError as exc:
            notes.append(f"certificate of {family.seed.name} failed: {exc}")
            continue
        data = cert.to_dict()
        family_exponent = float(np.mean([(lo + hi) / 2 for lo, hi in cert.slope_bounds[-3:]]))
        data["family_exponent"] = round(family_exponent, 3)
        agrees = exponent is not None and len(cert.enclosures) >= 3 and cert.supports(exponent)
        data["agrees_with_search"] = agrees
        tried.append(f"{family.seed.name} ~ eps^{family_exponent:.2f}")
        if agrees:
            for i, enclosure in zip(rows, cert.enclosures):
                table[i]["enclosure"] = [enclosure.norm_lo, enclosure.norm_hi]
                table[i]["enclosure_d1"] = float(enclosure.d1)
                table[i]["enclosure_family"] = family.seed.name
            return data, Status.CERTIFIED.value
    if tried:
        notes.append(f"no certified family decays at the search's order {exponent}: {', '.join(tried)}")
    return (data if tried else None), SUPPORTED


def _not_identifiable(model, sizes, loss, grid, scan, convention, label) -> RateOrder:
    verdict = (f"not identifiable under the {loss} D1: f_Gt = f_G* identically along {scan.family} "
               f"({scan.method}), while D1(G_t, G*) = {scan.d1_at_tenth:.4g} at t = 1/10 (> 0, linear in t); "
               "no inverse bound of any order holds and no rate is possible under this loss")
    if scan.symmetry:
        verdict += ("; the scaling acts atom by atom, so it is a symmetry with k = k* atoms too: the coordinates it "
                    "moves are identifiable only up to it")
    branch = f"{'scaling' if scan.symmetry else 'merge'} (exact identity)"
    table = [{"eps": e, "d1": scan.d1_at_tenth * e / 0.1, "phi": 0.0, "enclosure": [0.0, 0.0], "slope": None,
              "branch": branch} for e in grid]
    return RateOrder(label, None, False, Status.PROVED.value, verdict, convention,
                     {"sizes": list(sizes), "branch": branch}, table, {}, [], scan.to_dict(), None,
                     [])


__all__ = ["DEFAULT_GRID", "configurations", "convention_of", "rate_order"]
