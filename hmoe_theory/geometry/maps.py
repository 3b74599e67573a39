"""Mean maps ``Y(theta)`` of attention type (ungated and gated) and the witnesses used by the claims.

* ungated attention row with fixed values: ``Y(theta) = sum_i softmax(l(theta))_i v_i`` with logits
  ``l(theta) = A theta + b`` (``A`` in ``R^{m x n}``) and fixed values ``v_1..v_m`` in ``R^D``. Its image
  lies in the affine hull of the values (a convex combination).
* elementwise sigmoid gate: ``Y(theta) = sigmoid(W theta + b) * c`` (``*`` entrywise; ``W`` in
  ``R^{D x n}``), the gate of gated attention acting on a fixed value vector ``c``.
* scalar gate: ``Y(theta) = gate(theta) e_1(theta) + (1 - gate(theta)) e_2(theta)``, a two-expert mixture mean.

Coordinates are the real symbols ``u, v`` for two parameters and ``theta_1..theta_n`` otherwise.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import sympy as sp

from ..errors import ModelError
from ..expr import sigmoid
from ..symbols import positive_symbol, real_symbol, vector_symbols
from .metric import PullbackMetric, as_exact_number


@dataclass(frozen=True)
class MeanMap:
    """A named mean map ``Y(theta)`` with its parameters and a one-line description of the formula."""

    name: str
    exprs: tuple[sp.Expr, ...]
    params: tuple[sp.Symbol, ...]
    description: str

    def metric(self, sigma: object = None) -> PullbackMetric:
        """The Fisher-Rao metric of ``N(Y(theta), Sigma)``."""
        return PullbackMetric(self.exprs, self.params, sigma, self.name)


def coordinates(n: int) -> tuple[sp.Symbol, ...]:
    """``(u, v)`` for ``n = 2``, else ``theta_1..theta_n``."""
    if n < 1:
        raise ModelError("need at least one parameter")
    return (real_symbol("u"), real_symbol("v")) if n == 2 else vector_symbols("theta", n)


def softmax(logits: Sequence[sp.Expr]) -> list[sp.Expr]:
    """``exp(l_i) / sum_k exp(l_k)``."""
    weights = [sp.exp(l) for l in logits]
    total = sp.Add(*weights)
    return [w / total for w in weights]


def _matrix(rows: Sequence[Sequence[object]], what: str) -> list[list[sp.Expr]]:
    matrix = [[sp.sympify(x) if isinstance(x, sp.Basic) else as_exact_number(x) for x in row] for row in rows]
    if not matrix or any(len(r) != len(matrix[0]) for r in matrix):
        raise ModelError(f"{what}: expected a non-empty rectangular array")
    return matrix


def attention_mean_map(
    logits: Sequence[sp.Expr], values: Sequence[Sequence[object]], params: Sequence[sp.Symbol], name: str
) -> MeanMap:
    """``Y = sum_i softmax(logits)_i v_i``; values may themselves depend on the parameters."""
    V = _matrix(values, "values")
    if len(V) != len(logits):
        raise ModelError(f"{name}: {len(logits)} logits but {len(V)} values")
    weights = softmax(logits)
    exprs = tuple(sp.Add(*(w * row[j] for w, row in zip(weights, V))) for j in range(len(V[0])))
    return MeanMap(name, exprs, tuple(params), "sum_i softmax(l(theta))_i v_i")


def ungated_attention_map(
    logit_matrix: Sequence[Sequence[object]],
    values: Sequence[Sequence[object]],
    logit_bias: Sequence[object] | None = None,
) -> MeanMap:
    """Ungated attention row with affine logits ``A theta + b`` and fixed values (rows of ``values``)."""
    A = _matrix(logit_matrix, "logit matrix")
    theta = coordinates(len(A[0]))
    b = [as_exact_number(x) for x in (logit_bias or [0] * len(A))]
    if len(b) != len(A):
        raise ModelError("logit bias: one entry per logit")
    logits = [sp.Add(*(a * t for a, t in zip(row, theta))) + bias for row, bias in zip(A, b)]
    mm = attention_mean_map(logits, values, theta, "ungated attention")
    return MeanMap(mm.name, mm.exprs, mm.params, "sum_i softmax(A theta + b)_i v_i, fixed v_i")


def sigmoid_gated_map(
    gate_matrix: Sequence[Sequence[object]], gate_bias: Sequence[object], value: Sequence[object]
) -> MeanMap:
    """Elementwise sigmoid gate ``Y_i = sigmoid(W_i . theta + b_i) c_i``."""
    W = _matrix(gate_matrix, "gate matrix")
    b = [as_exact_number(x) for x in gate_bias]
    c = [as_exact_number(x) for x in value]
    if not len(W) == len(b) == len(c):
        raise ModelError("sigmoid gate: W, b and c need one row/entry per output")
    theta = coordinates(len(W[0]))
    exprs = tuple(
        sigmoid(sp.Add(*(w * t for w, t in zip(row, theta))) + bias) * ci for row, bias, ci in zip(W, b, c)
    )
    return MeanMap("sigmoid-gated value", exprs, theta, "sigmoid(W theta + b) * c (entrywise)")


# ---------------------------------------------------------------- witnesses (claims, tests, notebook)


def flat_attention_witness() -> MeanMap:
    """Logits ``(u, v, 0)``, values ``e1, e2, e3``: image = open part of the simplex plane (flat)."""
    return ungated_attention_map([[1, 0], [0, 1], [0, 0]], [[1, 0, 0], [0, 1, 0], [0, 0, 1]])


def deficient_attention_witness() -> MeanMap:
    """Logits ``(u, v, u+v, 0)``, values ``e1, e2, e3, 0`` in ``R^3``: hull dimension 3 > 2 parameters.

    The issue's negative control: ``K(0, 0) = -4`` (identity covariance).
    """
    return ungated_attention_map([[1, 0], [0, 1], [1, 1], [0, 0]], [[1, 0, 0], [0, 1, 0], [0, 0, 1], [0, 0, 0]])


def input_dependent_values_witness() -> MeanMap:
    """Logits ``(u, v, 0)`` with values ``e1, e2`` and ``(u, v, 1)`` (the query token's own value moves
    with the parameters): hull dimension 2 = parameters, yet curved (``K(0, 0) = 1/16``)."""
    u, v = coordinates(2)
    mm = attention_mean_map([u, v, 0], [[1, 0, 0], [0, 1, 0], [u, v, 1]], (u, v), "attention, moving value")
    return MeanMap(mm.name, mm.exprs, mm.params, "softmax(u, v, 0) . (e1, e2, (u, v, 1))")


def sigmoid_gate_witness() -> MeanMap:
    """The issue's gated witness: ``W`` rows ``(-1,-1), (-1,0), (0,-1)``, ``b = (2, 0, -2)``, ``c = (1,1,1)``;
    ``K(0, 0) = 1.95928834650...`` (identity covariance)."""
    return sigmoid_gated_map([[-1, -1], [-1, 0], [0, -1]], [2, 0, -2], [1, 1, 1])


def sphere_witness(radius: object | None = None) -> MeanMap:
    """Mean of a two-expert mixture with the scalar gate ``g = 1 / (1 + u^2 + v^2)``:

    ``Y = g * R (2u, 2v, 1) + (1 - g) * R (0, 0, -1) = R (2u, 2v, 1 - u^2 - v^2) / (1 + u^2 + v^2)``,

    the inverse stereographic parametrisation of the sphere of radius ``R`` (without its south pole):
    ``K = 1 / R^2`` everywhere. ``radius=None`` keeps ``R`` as a positive symbol.
    """
    R = positive_symbol("R") if radius is None else as_exact_number(radius)
    u, v = coordinates(2)
    gate = 1 / (1 + u**2 + v**2)
    linear_expert = [2 * R * u, 2 * R * v, R]
    constant_expert = [0, 0, -R]
    exprs = tuple(gate * e1 + (1 - gate) * e0 for e1, e0 in zip(linear_expert, constant_expert))
    return MeanMap("scalar-gate sphere", exprs, (u, v), "g R(2u,2v,1) + (1-g) R(0,0,-1), g = 1/(1+u^2+v^2)")


def cylinder_gate_map() -> MeanMap:
    """Degenerate gate: one scalar sigmoid gate on a fixed vector plus an affine map,
    ``Y = sigmoid(u - 2v + 1) (1, 2, 3) + (u, v, -u)``: a generalised cylinder (ruled along the kernel
    direction of the gate), hence flat."""
    u, v = coordinates(2)
    gate = sigmoid(u - 2 * v + 1)
    return MeanMap(
        "cylinder gate", (gate + u, 2 * gate + v, 3 * gate - u), (u, v), "sigmoid(w.theta + w0) c + A theta"
    )


def axis_aligned_gate_map() -> MeanMap:
    """Degenerate elementwise gate: every row of ``W`` is a multiple of ``(1, 0)`` or ``(0, 1)``
    (``W`` rows ``(-1, 0), (0, -1), (2, 0)``, ``b = (1, 0, -1)``, ``c = (1, 1, 1)``): the image is a
    product of two curves, hence flat."""
    mm = sigmoid_gated_map([[-1, 0], [0, -1], [2, 0]], [1, 0, -1], [1, 1, 1])
    return MeanMap("axis-aligned gate", mm.exprs, mm.params, mm.description)


def round_sphere_map(radius: object | None = None) -> MeanMap:
    """``R (cos u cos v, cos u sin v, sin u)`` (sign-convention check: ``K = +1/R^2``)."""
    R = positive_symbol("R") if radius is None else as_exact_number(radius)
    u, v = coordinates(2)
    exprs = (R * sp.cos(u) * sp.cos(v), R * sp.cos(u) * sp.sin(v), R * sp.sin(u))
    return MeanMap("round sphere", exprs, (u, v), "R (cos u cos v, cos u sin v, sin u)")


def cylinder_map(radius: object = 1) -> MeanMap:
    """``(r cos u, r sin u, v)`` (sign-convention check: ``K = 0``)."""
    r = as_exact_number(radius)
    u, v = coordinates(2)
    return MeanMap("cylinder", (r * sp.cos(u), r * sp.sin(u), v), (u, v), "(r cos u, r sin u, v)")
