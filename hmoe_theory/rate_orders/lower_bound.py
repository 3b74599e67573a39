"""The "rate achieved" half of a rate order: phi(eps) >= C eps^s near G*, proved by linear independence.

Taylor/Fatou argument (arXiv 2505.10860 v1, Appendix D.1; Nguyen 2013, Ho & Nguyen 2016 for mixtures): write
f_G - f_G* = sum_i w_i K(.; theta_i) - sum_j w*_j K(.; theta*_j) for a kernel K, expand every atom of the Voronoi
cell V_j to order s around theta*_j. If the functions {d^kappa K(.; theta*_j) : j <= k*, |kappa| <= s} are linearly
independent on the support of mu, every limit of (f_Gn - f_G*) / D_s(Gn, G*) is a non-zero combination of them,
so ||f_G - f_G*||_L2(mu) >= C D_s(G, G*) near G* (Fatou). D_s has the first-order terms of D1 and, at order 2, the
squares w_i |theta_i - theta*_j|^2 on over-fitted cells; D_s >= c D1^s for D1 <= 1 (Cauchy-Schwarz), hence
phi(eps) >= C eps^s. Scope (each hypothesis checked, otherwise the reason is returned):

* s = 1 needs an exact fit (k = k*: order-1 independence says nothing about over-fitted cells); s = 2 any k;
* the atom-wise D1 (the merged convention aggregates coordinates the expansion treats atom-wise);
* K of class C^s in the parameters (no relu/abs/max/Heaviside/piecewise: the expansion needs it);
* the support of mu contains [-b, b]^n with b > 0 around 0 (the certificate's rational points lie there).

Kernels: a Gaussian mixture or a sum of attention heads is f_G = sum_i w_i K(.; theta_i) with K the component
(``model.single_atom``). A softmax-gated model (gate factor g = exp(s(x; beta)), F = g E or g N(y | E, nu)) has
f_G - f_G* = [sum_i w_i (F(theta_i) - g(beta_i) f*)] / sum_i w_i g(beta_i): K = F - g f* (the denominator is
bounded away from 0 and infinity near G* on the support). The softmax translation is pinned on one singleton cell:
that atom has no mass term and no gate derivatives in the family; the family is certified for every pinned cell
the searched configurations use.

Vanishing mixed derivatives (order s = 2). If d^2K/dtheta_p dtheta_q (p != q) at theta*_j is the function 0 --
decided exactly: sympy's derivative at the exact rational atom *is* the number 0, no numerical test -- it is
dropped from the certified family, provided the pure squares d^2K/dtheta_p^2 and d^2K/dtheta_q^2 at that atom are
in the family. Argument: the term c_pq d^2K/dtheta_p dtheta_q of the expansion is 0 for every coefficient, so it
contributes nothing to the limit. The normalised coefficients stay bounded and cannot all vanish without the
retained ones vanishing: the second-order coefficient of (p, q) in cell V_j is sum_{i in V_j} w_i D_ip D_iq
(D_i = theta_i - theta*_j), and by 2|ab| <= a^2 + b^2

    |sum_i w_i D_ip D_iq| <= (sum_i w_i D_ip^2 + sum_i w_i D_iq^2) / 2,

so if the limits of the retained coefficients (masses, first orders, pure squares) are all 0, those of the mixed
ones are 0 too, and every coefficient of the normalised expansion tends to 0 -- contradicting the normalisation
by D_s, which is a sum of |mass|, first-order and pure-square terms. Hence the independence of the retained
family suffices for the Fatou step (hypotheses: s = 2, the dropped derivative is 0 as a function of the inputs,
both pure squares retained). The result lists the dropped derivatives (``zero_mixed_dropped``).
"""

from __future__ import annotations

from collections.abc import Sequence

import sympy as sp

from ..interactions.independence import INPUT_BOX, certify_independence, derivative_family
from .models import RateModel

NON_SMOOTH = (sp.Piecewise, sp.Max, sp.Min, sp.Abs, sp.Heaviside, sp.sign, sp.DiracDelta)


def _box(model: RateModel) -> float | None:
    """Largest b <= 3/2 with [-b, b] inside every axis of the measure (None if an axis misses 0)."""
    box = INPUT_BOX
    for law, a, b in model.measure.axes:
        if law == "normal":
            continue
        if not a < 0 < b:
            return None
        box = min(box, -a, b)
    return box


def _exact(values) -> list[sp.Rational]:
    return [sp.Rational(v.numerator, v.denominator) for v in values]


def scope_reason(model: RateModel, k: int, loss: str, order: int) -> str | None:
    """Why the independence route cannot prove phi >= C eps^order here (None: in scope)."""
    if order not in (1, 2):
        return f"the independence route covers s = 1 and s = 2 (Taylor order 2), not s = {order}"
    if order == 1 and k != model.k_true:
        return "s = 1 with over-fitted cells: order-1 independence bounds only exact fits"
    if loss != "atomwise":
        return "the Taylor/Fatou premise is stated for the atom-wise D1, not the merged convention"
    if model.single_atom().expr.has(*NON_SMOOTH):
        return "the component is not C^2 in its parameters (a kink): the Taylor expansion of order s does not apply"
    if _box(model) is None:
        return "the design's support does not contain a box around 0"
    return None


def certify_lower_bound(model: RateModel, k: int, loss: str, order: int, pinned_cells: Sequence[int] = ()) -> dict:
    """Try to prove phi(eps) >= C eps^order (module docstring). Returns {"proved", "order", "statement",
    "certificates": [...]}; ``pinned_cells``: the true cells whose atom carries the softmax pin (gated models)."""
    reason = scope_reason(model, k, loss, order)
    if reason is not None:
        return {"proved": False, "order": order, "statement": f"not attempted: {reason}", "certificates": []}
    component = model.single_atom()
    params, inputs, box = component.params, component.inputs, _box(model)
    atoms = [dict(zip(params, _exact(row))) for row in model.true_atoms]
    gate = [p for p in params if p.name in model.gate_names]
    kernel = component.expr - model.gate_factor() * _truth(model) if model.pinned else component.expr
    family = derivative_family(kernel, params, order)
    results, dropped = [], set()
    for pinned in sorted(set(pinned_cells)) if model.pinned else [None]:
        kept = [(j, kappa, derivative.xreplace(atom)) for j, atom in enumerate(atoms) for kappa, derivative in family
                if j != pinned or (kappa and not any(p in gate for p in kappa))]
        exprs, zero = _without_zero_mixed(kept)
        dropped.update(zero)
        certificate = certify_independence(exprs, inputs, box=box)
        results.append({"pinned_cell": pinned, **certificate.to_dict()})
    proved = bool(results) and all(r["proved"] for r in results)
    scope = (f"no mass or gate terms at the pinned atom; every pinned cell {sorted(set(pinned_cells))}"
             if model.pinned else "mass terms included")
    shown = sorted(dropped)
    reduction = (f"; {len(shown)} mixed second derivatives are identically 0 (sympy) and dropped, as "
                 "|sum w_i D_ip D_iq| <= (sum w_i D_ip^2 + sum w_i D_iq^2)/2 keeps a non-zero pure-square "
                 f"coefficient in the limit: {', '.join(shown)}" if shown else "")
    kernel_name = "K = F - g f*" if model.pinned else "the component"
    statement = (f"{'proved' if proved else 'not proved'}: the derivatives of order <= {order} of {kernel_name} at the "
                 f"{model.k_true} true atom(s) ({scope}) are linearly independent "
                 f"({'; '.join(r['method'] for r in results)}){reduction}; by the Taylor/Fatou argument "
                 f"(arXiv 2505.10860 v1, Appendix D.1) ||f_G - f_G*|| >= C D1^{order} near G*")
    return {"proved": proved, "order": order, "statement": statement, "certificates": results,
            "zero_mixed_dropped": shown}


def _without_zero_mixed(kept: list[tuple[int, tuple, sp.Expr]]) -> tuple[list[sp.Expr], list[str]]:
    """The family's functions without the mixed second derivatives that are exactly 0 at their atom and whose
    two pure squares are retained (module docstring), and the labels of those dropped."""
    squares = {(j, kappa[0]) for j, kappa, f in kept if len(kappa) == 2 and kappa[0] == kappa[1]}
    exprs, dropped = [], []
    for j, kappa, function in kept:
        mixed = len(kappa) == 2 and kappa[0] != kappa[1]
        if mixed and function == 0 and {(j, kappa[0]), (j, kappa[1])} <= squares:
            dropped.append(f"d2/d{kappa[0]}d{kappa[1]} at atom {j + 1}")
        else:
            exprs.append(function)
    return exprs, dropped


def _truth(model: RateModel) -> sp.Expr:
    """f_G* as an exact expression in the inputs."""
    built = model.build(model.k_true)
    values = dict(zip(built.weights, _exact(model.true_weights)))
    for row, truth in zip(built.atoms, model.true_atoms):
        values.update(zip(row, _exact(truth)))
    return built.expr.xreplace(values)


__all__ = ["certify_lower_bound", "scope_reason"]
