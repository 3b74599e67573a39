"""Parameter interactions (PDEs) of gate x expert functions: theory item 2 of the project brief.

F(x; eta) = gate factor x expert (regression) or gate factor x N(y | expert, nu) (density), built by
:func:`hmoe_theory.families.gate_expert` (the softmax bias is a mixing weight and is factored out).
Each claim is proved with sympy for d = 1, 2, 3 (and, where sympy can, for symbolic d with indexed
sums); negative controls carry a counterexample point.

Source of the statements: the attention-as-HMoE / MoE-convergence literature as summarised in the
project brief (theory item 2) and issue 2; the papers' full texts are unavailable, so the hypotheses
below are reconstructed and stated explicitly.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import sympy as sp

from hmoe_theory.certify import Status, decide_equal, polynomial_span, prove_zero
from hmoe_theory.families import gate_expert
from hmoe_theory.families.gates import GATES
from hmoe_theory.symbols import input_symbols, real_symbol
from proofs_check.claim import Verdict
from proofs_check.registry import claim

DIMENSIONS = (1, 2, 3)
SOURCE = "arXiv 2410.11222v3, abstract (quadratic polynomial and quadratic monomial gates); hypotheses reconstructed"


def _sym(name: str) -> sp.Symbol:
    return real_symbol(name)


def _generic_expert(d: int) -> sp.Expr:
    """An arbitrary expert E(x_1..x_d) that does not depend on the gate parameters."""
    return sp.Function("E")(*input_symbols(d))


def _gate_times_generic_expert(gate: str, d: int) -> tuple[sp.Expr, tuple[sp.Symbol, ...]]:
    factor, params, _ = GATES[gate].factor(input_symbols(d))
    return factor * _generic_expert(d), params


def _proved(lhs: sp.Expr, rhs: sp.Expr, what: str) -> Verdict:
    """Exact proof only (for expressions containing an undefined function, numerics are impossible)."""
    method = prove_zero(lhs - rhs, time_limit_s=5.0)
    if method is None:
        return Verdict(Status.INCONCLUSIVE, f"{what}: sympy could not reduce the difference to 0 in time")
    return Verdict(Status.PROVED, f"{what} ({method})")


def _decided(lhs: sp.Expr, rhs: sp.Expr, what: str) -> Verdict:
    return Verdict.from_decision(decide_equal(lhs, rhs, time_limit_s=5.0), what)


def _over_dimensions(check: Callable[[int], list[Verdict]], summary: str, dims: Sequence[int] = DIMENSIONS) -> Verdict:
    verdicts = [v for d in dims for v in check(d)]
    return Verdict.combine(verdicts, f"{summary}, d in {tuple(dims)}")


# --- 1. quadratic polynomial gate ---------------------------------------------------------------


def _indexed_quadratic_gate_pde() -> Verdict:
    """dF/dA_uv = d2F/db_u db_v with indexed sums over a symbolic dimension d (1 <= u, v <= d)."""
    d = sp.Symbol("d", integer=True, positive=True)
    u, v, p, q = sp.symbols("u v p q", integer=True)
    A, b, x = sp.IndexedBase("A"), sp.IndexedBase("b"), sp.IndexedBase("x")
    score = sp.Sum(A[p, q] * x[p] * x[q], (p, 1, d), (q, 1, d)) + sp.Sum(b[p] * x[p], (p, 1, d))
    F = sp.exp(score) * sp.Function("E")(x)
    difference = sp.simplify(sp.diff(F, A[u, v]) - sp.diff(F, b[u], b[v]))
    in_range = {sp.Ge(d, u): True, sp.Ge(u, 1): True, sp.Ge(d, v): True, sp.Ge(v, 1): True}
    if sp.simplify(difference.subs(in_range)) == 0:
        return Verdict(Status.PROVED, "symbolic d with indexed sums (hypothesis 1 <= u, v <= d)")
    return Verdict(Status.INCONCLUSIVE, f"indexed-sum difference not reduced: {difference}")


@claim(
    id="pde.quadratic-polynomial.dA-equals-dbdb",
    title="Quadratic polynomial gate: dF/dA_uv = d2F/db_u db_v for any expert",
    statement="F(x) = exp(x^T A x + b.x) E(x): dF/dA_uv = d2F/db_u db_v for all u, v",
    hypotheses=(
        "A has d^2 independent entries (no symmetry constraint)",
        "the expert E (or the Gaussian density of the expert) does not depend on A or b",
        "softmax bias c factored out as a mixing weight",
    ),
    source=SOURCE,
    expected=Status.PROVED,
)
def quadratic_polynomial_gate_pde() -> Verdict:
    def check(d: int) -> list[Verdict]:
        F, _ = _gate_times_generic_expert("quadratic-polynomial", d)
        return [
            _proved(sp.diff(F, _sym(f"A_{u}_{v}")), sp.diff(F, _sym(f"b_{u}"), _sym(f"b_{v}")), f"d={d} (u,v)=({u},{v})")
            for u in range(1, d + 1)
            for v in range(1, d + 1)
        ]

    return Verdict.combine(
        [_over_dimensions(check, "generic expert E(x)"), _indexed_quadratic_gate_pde()],
        "dF/dA_uv - d2F/db_u db_v = 0 for d = 1, 2, 3 and for symbolic d",
    )


@claim(
    id="pde.quadratic-polynomial-symmetric.factor-two",
    depends_on=("pde.quadratic-polynomial.dA-equals-dbdb",),
    title="Symmetric quadratic gate: dF/dA_uv = 2 d2F/db_u db_v off the diagonal",
    statement="A = A^T parametrised by A_uv (u <= v): dF/dA_uu = d2F/db_u^2 and dF/dA_uv = 2 d2F/db_u db_v (u < v)",
    hypotheses=("symmetric parametrisation: the off-diagonal symbol A_uv occurs twice in x^T A x", "expert independent of A, b"),
    source=SOURCE,
    expected=Status.PROVED,
)
def quadratic_polynomial_symmetric_factor_two() -> Verdict:
    def check(d: int) -> list[Verdict]:
        F, _ = _gate_times_generic_expert("quadratic-polynomial-symmetric", d)
        return [
            _proved(
                sp.diff(F, _sym(f"A_{u}_{v}")),
                (1 if u == v else 2) * sp.diff(F, _sym(f"b_{u}"), _sym(f"b_{v}")),
                f"d={d} (u,v)=({u},{v})",
            )
            for u in range(1, d + 1)
            for v in range(u, d + 1)
        ]

    return _over_dimensions(check, "generic expert E(x)", dims=(2, 3))


@claim(
    id="pde.quadratic-monomial.no-gate-interaction",
    depends_on=("pde.quadratic-polynomial.dA-equals-dbdb",),
    title="Negative control: the quadratic-gate PDE has no analogue under the monomial gate",
    statement=(
        "F(x) = exp(x^T A x) E(x) (A symmetric): dF/dA_uv is a linear combination of the other first-order "
        "and all second-order derivatives of F with respect to the gate parameters"
    ),
    hypotheses=(
        "symmetric parametrisation of A (with d^2 free entries dF/dA_uv = dF/dA_vu is a trivial relation)",
        "expert E independent of A; softmax bias factored out",
    ),
    source=SOURCE,
    expected=Status.REFUTED,
    kind="negative control",
)
def monomial_gate_has_no_gate_interaction() -> Verdict:
    for d in DIMENSIONS:
        x = input_symbols(d)
        F, params = _gate_times_generic_expert("quadratic-monomial-symmetric", d)
        ratio = lambda e: sp.expand(sp.simplify(e / F))  # noqa: E731 - derivative / F is a polynomial in x
        for target in params:
            others = [ratio(sp.diff(F, p)) for p in params if p != target]
            second = [ratio(sp.diff(F, p, q)) for i, p in enumerate(params) for q in params[i:]]
            result = polynomial_span(ratio(sp.diff(F, target)), others + second, x)
            if not result.in_span:
                return Verdict(
                    Status.REFUTED,
                    f"d={d}: dF/d{target} / F = {ratio(sp.diff(F, target))} is outside the span of the other "
                    f"gate derivatives / F (rank {result.rank} over {result.monomials} monomials; exact)",
                    counterexample={"d": d, "derivative": f"dF/d{target}", "ratio_to_F": str(ratio(sp.diff(F, target)))},
                )
    return Verdict(Status.PROVED, "every dF/dA_uv lies in the span: an interaction exists")


# --- 2. softmax-linear gate x linear / ridge experts ---------------------------------------------


def _beta_alpha_relation(expert: str) -> Callable[[int], list[Verdict]]:
    def check(d: int) -> list[Verdict]:
        F = gate_expert("softmax-linear", expert, d).expr
        return [
            _decided(sp.diff(F, _sym(f"beta_{k}"), _sym("alpha")), sp.diff(F, _sym(f"a_{k}")), f"{expert} d={d} k={k}")
            for k in range(1, d + 1)
        ]

    return check


@claim(
    id="pde.softmax-linear.linear-expert",
    title="exp(beta.x) x linear expert: d2F/dbeta_k dalpha = dF/da_k",
    statement="F(x) = exp(beta.x) (a.x + alpha): d2F/dbeta_k dalpha = dF/da_k for every k",
    hypotheses=("expert has a bias alpha", "softmax bias beta0 factored out as a mixing weight"),
    source="arXiv 2505.10860v1, Definition 1 and its linear-expert example (dF/d eta1 = d2F / d beta1 d eta0); Nguyen, Nguyen & Ho 2023, NeurIPS (softmax-gated Gaussian MoE)",
    expected=Status.PROVED,
)
def softmax_linear_linear_expert() -> Verdict:
    return _over_dimensions(_beta_alpha_relation("linear"), "d2F/dbeta_k dalpha - dF/da_k = 0")


@claim(
    id="pde.softmax-linear.ridge-experts-with-bias",
    depends_on=("pde.softmax-linear.linear-expert",),
    title="Finding: ridge experts phi(a.x + alpha) keep d2F/dbeta_k dalpha = dF/da_k",
    statement="F(x) = exp(beta.x) phi(a.x + alpha): d2F/dbeta_k dalpha = dF/da_k for phi in sigmoid, tanh, gelu, silu",
    hypotheses=(
        "the ridge expert has a bias alpha inside phi (both sides equal x_k exp(beta.x) phi'(a.x + alpha))",
        "phi differentiable (relu excluded: its derivative is not defined at 0)",
    ),
    source="arXiv 2505.10860v1, Definition 1 and its examples (non-linear experts); arXiv 2410.11222v3, abstract (non-linear experts are estimated faster)",
    expected=Status.PROVED,
    kind="finding",
)
def softmax_linear_ridge_experts() -> Verdict:
    experts = ("ridge-sigmoid", "ridge-tanh", "ridge-gelu", "ridge-silu")
    return Verdict.combine(
        [_over_dimensions(_beta_alpha_relation(e), e, dims=(1, 2)) for e in experts],
        "relation holds for every ridge expert with a bias",
    )


# --- 3. Gaussian density: heat equation ----------------------------------------------------------


@claim(
    id="pde.gaussian.heat-equation",
    title="Gaussian expert density: d2F/dalpha^2 = 2 dF/dnu (heat equation)",
    statement="F(x, y) = g(x) N(y | a.x + alpha, nu): d2F/dalpha^2 = 2 dF/dnu, for every catalogue gate g",
    hypotheses=("nu > 0 is the variance (not the standard deviation)", "the expert mean has an additive bias alpha"),
    source="Ho & Nguyen 2016, Ann. Statist. (the location-scale Gaussian PDE); arXiv 2505.10860v1, Definition 1 and its examples (d2 pi / d kappa0^2 = 2 d pi / d tau)",
    expected=Status.PROVED,
)
def gaussian_heat_equation() -> Verdict:
    def check(d: int) -> list[Verdict]:
        verdicts = []
        for gate in ("softmax-linear", "quadratic-polynomial", "quadratic-monomial", "sigmoid"):
            F = gate_expert(gate, "linear", d, mode="density").expr
            verdicts.append(_decided(sp.diff(F, _sym("alpha"), 2), 2 * sp.diff(F, sp.Symbol("nu", positive=True)), f"{gate} d={d}"))
        return verdicts

    return _over_dimensions(check, "d2F/dalpha^2 - 2 dF/dnu = 0")


@claim(
    id="pde.gaussian.heat-equation-std-parametrisation",
    depends_on=("pde.gaussian.heat-equation",),
    title="Negative control: the heat equation fails if nu is the standard deviation",
    statement="F(y) = N(y | mu, sigma^2) parametrised by sigma: d2F/dmu^2 = 2 dF/dsigma",
    hypotheses=("parametrisation by the standard deviation sigma instead of the variance",),
    source="Ho & Nguyen 2016, Ann. Statist. (the location-scale Gaussian PDE); arXiv 2505.10860v1, Definition 1 and its examples (d2 pi / d kappa0^2 = 2 d pi / d tau)",
    expected=Status.REFUTED,
    kind="negative control",
)
def heat_equation_needs_variance() -> Verdict:
    y, mu, sigma = _sym("y"), _sym("mu"), sp.Symbol("sigma", positive=True)
    F = sp.exp(-((y - mu) ** 2) / (2 * sigma**2)) / sp.sqrt(2 * sp.pi * sigma**2)
    return _decided(sp.diff(F, mu, 2), 2 * sp.diff(F, sigma), "d2F/dmu^2 - 2 dF/dsigma")


# --- 4. quadratic monomial gate x linear expert: homogeneity --------------------------------------


def _homogeneity(expert: str, d: int) -> tuple[sp.Expr, sp.Expr, str]:
    F = gate_expert("quadratic-monomial", expert, d).expr
    A = _sym("A_1_1") if d == 1 else _sym(f"A_1_{d}")
    a = [_sym(f"a_{k}") for k in range(1, d + 1)]
    alpha = _sym("alpha")
    rhs = alpha * sp.diff(F, A, alpha) + sp.Add(*(ak * sp.diff(F, A, ak) for ak in a))
    return sp.diff(F, A), rhs, f"{expert} d={d} at {A}"


@claim(
    id="pde.quadratic-monomial.homogeneity",
    title="Monomial gate x linear expert: dF/dA = alpha d2F/dA dalpha + sum_k a_k d2F/dA da_k",
    statement="F(x) = exp(x^T A x) (a.x + alpha): dF/dA_uv = alpha d2F/dA_uv dalpha + sum_k a_k d2F/dA_uv da_k",
    hypotheses=("expert linear (degree-1 homogeneous in (a, alpha))", "coefficients are the parameter values (a PDE with parameter-dependent coefficients)"),
    source=SOURCE,
    expected=Status.PROVED,
)
def monomial_homogeneity() -> Verdict:
    return Verdict.combine([_decided(*_homogeneity("linear", d)) for d in DIMENSIONS], "homogeneity relation, d in (1, 2, 3)")


@claim(
    id="pde.quadratic-monomial.homogeneity-fails-for-nonlinear-experts",
    depends_on=("pde.quadratic-monomial.homogeneity",),
    title="Negative control: the homogeneity relation fails for sigmoid/tanh experts",
    statement="F(x) = exp(x^T A x) phi(a.x + alpha), phi in sigmoid, tanh: dF/dA = alpha d2F/dA dalpha + sum_k a_k d2F/dA da_k",
    hypotheses=("phi not homogeneous of degree 1: phi(z) != z phi'(z)",),
    source=SOURCE,
    expected=Status.REFUTED,
    kind="negative control",
)
def monomial_homogeneity_fails_nonlinear() -> Verdict:
    verdicts = [_decided(*_homogeneity(expert, 1)) for expert in ("ridge-sigmoid", "ridge-tanh")]
    refuted = [v for v in verdicts if v.status is Status.REFUTED]
    if len(refuted) == len(verdicts):
        return Verdict(
            Status.REFUTED,
            "; ".join(v.summary for v in refuted),
            counterexample={f"ridge-{e}": v.counterexample for e, v in zip(("sigmoid", "tanh"), verdicts)},
        )
    return Verdict.combine(verdicts, "homogeneity relation for non-linear experts")


# --- 5. gated attention experts (G1 / G2) -------------------------------------------------------


class GatedSigmoid(sp.Function):
    """sigmoid as an opaque function s(z) with s' = s (1 - s): keeps derivatives polynomial in s."""

    def fdiff(self, argindex: int = 1) -> sp.Expr:
        return self * (1 - self)


def _gated_expert_function(d: int, value_bias: bool) -> tuple[sp.Expr, tuple[sp.Symbol, ...], sp.Symbol, sp.Expr]:
    """exp(beta.x) s(w.x + w0) (a.x [+ alpha]) with s an opaque sigmoid; returns (F, params, s, exp factor)."""
    x = input_symbols(d)
    beta, w, a = ([_sym(f"{n}_{k}") for k in range(1, d + 1)] for n in ("beta", "w", "a"))
    w0, alpha = _sym("w0"), _sym("alpha")
    z = sp.Add(*(wk * xk for wk, xk in zip(w, x))) + w0
    linear = sp.Add(*(ak * xk for ak, xk in zip(a, x))) + (alpha if value_bias else 0)
    exp_factor = sp.exp(sp.Add(*(bk * xk for bk, xk in zip(beta, x))))
    params = (*beta, *w, w0, *a, *((alpha,) if value_bias else ()))
    return exp_factor * GatedSigmoid(z) * linear, params, GatedSigmoid(z), exp_factor


@claim(
    id="pde.gated-expert.value-bias-keeps-relation",
    depends_on=(
        "attention.gate-position-classification",
        "pde.softmax-linear.linear-expert",
    ),
    title="G1/G2 gated expert with a value bias keeps d2F/dbeta_k dalpha = dF/da_k",
    statement="F(x) = exp(beta.x) sigmoid(w.x + w0) (a.x + alpha): d2F/dbeta_k dalpha = dF/da_k",
    hypotheses=(
        "the sigmoid gate factor has its own parameters (w, w0), independent of (beta, a, alpha)",
        "the gated value map has a bias alpha",
    ),
    source="arXiv 2602.01468v1, abstract (gates at the SDPA output and at the value map); Qiu et al. 2025 (gated attention, positions G1 and G2)",
    expected=Status.PROVED,
)
def gated_expert_keeps_relation() -> Verdict:
    return _over_dimensions(_beta_alpha_relation("gated-linear"), "d2F/dbeta_k dalpha - dF/da_k = 0")


@claim(
    id="pde.gated-expert.bias-free-value-removes-relation",
    depends_on=("attention.gate-position-classification",),
    title="Bias-free gated values remove the (beta, a, bias) interaction but create homogeneity relations",
    statement=(
        "F(x) = exp(beta.x) sigmoid(w.x + w0) (a.x) (standard attention: W_V has no bias): (i) dF/da_k is NOT a "
        "linear combination of the other partial derivatives of F of order <= 2 (so no relation pairs beta with a "
        "bias); (ii) instead dF/dtheta = sum_l a_l d2F/dtheta da_l holds for theta in {beta_k, w_k, w0}"
    ),
    hypotheses=(
        "value map without bias (expert a.x), gate sigmoid(w.x + w0) with w != 0",
        "(i) is exact over generic parameter values: sigmoid(w.x + w0) is transcendental over R(x) when w != 0, so "
        "derivative / exp(beta.x) are polynomials in (x, s = sigmoid) and linear independence is read off monomials",
    ),
    source="arXiv 2602.01468v1, abstract (gates at the SDPA output and at the value map); Qiu et al. 2025 (gated attention, positions G1 and G2)",
    expected=Status.PROVED,
)
def bias_free_gated_value_removes_relation() -> Verdict:
    verdicts = []
    s = sp.Symbol("s")
    for d in (1, 2):
        F, params, sigmoid_atom, exp_factor = _gated_expert_function(d, value_bias=False)
        x = input_symbols(d)
        to_poly = lambda e: sp.expand((e / exp_factor).subs(sigmoid_atom, s))  # noqa: E731
        for k in range(1, d + 1):
            a_k = _sym(f"a_{k}")
            others = [to_poly(sp.diff(F, p)) for p in params if p != a_k]
            others += [to_poly(sp.diff(F, p, q)) for i, p in enumerate(params) for q in params[i:]]
            result = polynomial_span(to_poly(sp.diff(F, a_k)), others, (*x, s))
            verdicts.append(
                Verdict(Status.PROVED, f"d={d}: dF/da_{k} independent (exact, rank {result.rank})")
                if not result.in_span
                else Verdict(Status.REFUTED, f"d={d}: dF/da_{k} is in the span", counterexample={"coefficients": str(result.coefficients)})
            )
        a = [_sym(f"a_{l}") for l in range(1, d + 1)]
        for theta in [p for p in params if p not in a]:
            homogeneous = sp.Add(*(al * sp.diff(F, theta, al) for al in a))
            verdicts.append(_proved(sp.diff(F, theta), homogeneous, f"d={d} homogeneity in {theta}"))
    return Verdict.combine(verdicts, "(i) relation removed and (ii) homogeneity relations hold")
