"""The derived Newton system of a least-squares objective, from one sympy expression.

For a regression function f(x; theta) given as a sympy expression (inputs x, parameters theta in R^p) and data
(x_i, y_i), i = 1..n, the objective is ||r||^2 / 2 with r_i = f(x_i; theta) - y_i. Its Newton system is

    (r, ||J_a||^2, g = J^T r, H),   J_ia = d f(x_i; theta) / d theta_a,
    H = J^T J + S,  S_ab = sum_i r_i d^2 f(x_i; theta) / d theta_a d theta_b   (``hessian="exact"``, default)
    H = J^T J                                                               (``hessian="gauss-newton"``).

:class:`DerivedSystem` computes it from the expression alone; every regression fit of the library
(:func:`hmoe_theory.estimation.least_squares.fit_least_squares`) consumes it, and a hand-written system is only
an override registered on its family (:meth:`hmoe_theory.families.Mixture.newton_system`) and tested against
this one.

Kernels, all derived from the expression by sympy:

* value f: :func:`hmoe_theory.compile.compile_exprs` (vectorised numpy, common subexpressions shared);
* system: f, its gradient d f / d theta_a and the upper-triangle second derivatives d^2 f / d theta_a d theta_b,
  built by second-order forward differentiation over the expression graph (:func:`second_order_program`):
  every node u carries its value, its nonzero first derivatives du_a and second derivatives d2u_ab, with the
  rules (sum) d(u + v) = du + dv; (product) d(uv) = u dv + v du,
  d2(uv)_ab = u d2v_ab + v d2u_ab + du_a dv_b + du_b dv_a; (constant power k) d(u^k) = k u^(k-1) du,
  d2(u^k)_ab = k u^(k-1) d2u_ab + k (k-1) u^(k-2) du_a du_b; (exp) E = exp(u): dE = E du,
  d2E_ab = E (d2u_ab + du_a du_b); (kinks) d|u| = sign(u) du, d2|u|_ab = sign(u) d2u_ab (the second derivative
  of |.| is 0 off u = 0), max / min(u, v) = (u + v +/- |u - v|) / 2 (relu(u) = max(0, u): derivative
  (1 + sign u) / 2, i.e. 1/2 at the kink); any other node: its sympy derivatives. Each exp node E = exp(u) and each
  reciprocal R = 1 / u (negative integer powers u^-k = R^k) is an auxiliary value computed once per point,
  so the derivatives reuse the softmax and sigmoid factors instead of re-expanding them (sympy's derivatives
  of exp(s_1) / (exp(s_1) + exp(s_2)) carry exp(2 s_1), (.)^-2, (.)^-3, ..., and symengine merges
  exp(a) exp(b) into exp(a + b): 38 exponentials per point for G2 with 2 heads instead of 8). Entries that
  are identically 0 (two value atoms, two different heads) never appear.
  Two routines compiled by symengine's LLVM backend (:func:`hmoe_theory.compile.compile_llvm_rows`): the
  first maps a point (x, theta) to (x, theta, A_1..A_K) (the auxiliary values), the second maps that row to
  (f, gradient, second derivatives). They run on blocks of :data:`BLOCK` points, so a block's values stay in
  cache, and each block is reduced at once by BLAS: H += J_B^T J_B, (g, S) += r_B^T (J_B, d^2 f_B);
  ||J_a||^2 is the diagonal of J^T J. Blocks are fixed, so the order of the sums (and the bits) do not depend
  on the caller.

Hypotheses: f is twice continuously differentiable in theta where it is evaluated (a kink such as relu's gives
the one-sided derivative); p <= n; f uses only functions symengine's LLVM backend knows (exp, log, powers, erf,
...); symengine built with LLVM (its PyPI wheels are). Exponentials are evaluated as written: a softmax
written exp(z_j) / sum_l exp(z_l) overflows where some z_l > 709 (a hand-written system may shift by the max).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import cached_property

import numpy as np
import sympy as sp

from .compile import compile_exprs, compile_llvm_rows
from .errors import ModelError

Array = np.ndarray
#: (residual r, squared column norms ||J_a||^2, gradient J^T r, Hessian of ||r||^2 / 2)
System = tuple[Array, Array, Array, Array]
Derivatives = tuple[sp.Expr, dict[int, sp.Expr], dict[tuple[int, int], sp.Expr]]  # value, du_a, d2u_ab (a <= b)
HESSIANS = ("exact", "gauss-newton")
#: points per block of the system kernels (a block's values: (1 + p + q) x BLOCK doubles, ~2 MB for p = 10)
BLOCK = 8192


@dataclass(frozen=True)
class SecondOrderProgram:
    """f with its derivatives in terms of auxiliary values A_k computed once per point (module docstring).

    ``auxiliaries``: (A_k, definition) in evaluation order, the definition exp(a) or 1 / b with a, b in the
    inputs, the parameters and the A_j, j < k; ``value``, ``gradient`` (one expression per parameter) and
    ``curvature`` ((a, b) -> d^2 f / d theta_a d theta_b, a <= b, only entries not structurally 0) are
    expressions in the inputs, the parameters and the A_k.
    """

    auxiliaries: tuple[tuple[sp.Symbol, sp.Expr], ...]
    value: sp.Expr
    gradient: tuple[sp.Expr, ...]
    curvature: dict[tuple[int, int], sp.Expr]


def second_order_program(expr: sp.Expr, params: tuple[sp.Symbol, ...]) -> SecondOrderProgram:
    """Second-order forward differentiation of ``expr`` in ``params`` over its expression graph (rules in the
    module docstring); shared subexpressions are differentiated once."""
    index = {p: a for a, p in enumerate(params)}
    taken = {s.name for s in expr.free_symbols}
    prefix = next(f"A{'_' * k}" for k in range(1, len(taken) + 2) if not any(t.startswith(f"A{'_' * k}") for t in taken))
    auxiliaries: dict[sp.Expr, sp.Symbol] = {}  # definition -> A_k

    def auxiliary(definition: sp.Expr) -> sp.Symbol:
        if definition not in auxiliaries:
            auxiliaries[definition] = sp.Symbol(f"{prefix}{len(auxiliaries)}")
        return auxiliaries[definition]

    memo: dict[sp.Expr, Derivatives] = {}

    def depends(e: sp.Expr) -> bool:
        return any(s in index for s in e.free_symbols)

    def rename(e: sp.Expr) -> sp.Expr:  # e with its exponentials of theta replaced by their A_k
        if e.is_Atom:
            return e
        if e.func == sp.exp and depends(e.args[0]):
            return node(e)[0]
        return e.func(*(rename(a) for a in e.args))

    def product(u: Derivatives, v: Derivatives) -> Derivatives:
        (a_val, a_d, a_h), (b_val, b_d, b_h) = u, v
        d = {k: (a_val * b_d[k] if k in b_d else 0) + (b_val * a_d[k] if k in a_d else 0)
             for k in sorted(set(a_d) | set(b_d))}
        h: dict[tuple[int, int], sp.Expr] = {}
        for key, term in a_h.items():
            h[key] = h.get(key, 0) + b_val * term
        for key, term in b_h.items():
            h[key] = h.get(key, 0) + a_val * term
        for i in a_d:
            for j in b_d:
                key = (min(i, j), max(i, j))
                h[key] = h.get(key, 0) + a_d[i] * b_d[j] * (2 if i == j else 1)
        return a_val * b_val, d, h

    def chain(u: Derivatives, value: sp.Expr, first: sp.Expr, second: sp.Expr) -> Derivatives:
        """g(u) with g'(u) = first, g''(u) = second."""
        _, du, hu = u
        d = {k: first * t for k, t in du.items()}
        h = {key: first * t for key, t in hu.items()}
        for i in du:
            for j in du:
                if i <= j:
                    h[(i, j)] = h.get((i, j), 0) + second * du[i] * du[j]
        return value, d, h

    def node(e: sp.Expr) -> Derivatives:
        if e in memo:
            return memo[e]
        if e in index:
            out: Derivatives = (e, {index[e]: sp.Integer(1)}, {})
        elif not depends(e):
            out = (rename(e), {}, {})
        elif e.is_Add:
            d: dict[int, sp.Expr] = {}
            h: dict[tuple[int, int], sp.Expr] = {}
            values = []
            for term in e.args:
                value, dt, ht = node(term)
                values.append(value)
                for k, t in dt.items():
                    d[k] = d.get(k, 0) + t
                for k, t in ht.items():
                    h[k] = h.get(k, 0) + t
            out = (sp.Add(*values), d, h)
        elif e.is_Mul:
            factors = [a for a in e.args if depends(a)]
            c = rename(sp.Mul(*(a for a in e.args if not depends(a))))
            value, d, h = node(factors[0])
            acc = (value, d, h)
            for factor in factors[1:]:
                acc = product(acc, node(factor))
            value, d, h = acc
            out = (c * value, {k: c * t for k, t in d.items()}, {k: c * t for k, t in h.items()})
        elif e.is_Pow and not depends(e.exp):
            u, k = node(e.base), e.exp
            if k.is_Integer and k < 0:  # in R = 1 / u (one division per point): u^k = R^-k
                R = auxiliary(1 / u[0])
                out = chain(u, R ** -k, k * R ** (1 - k), k * (k - 1) * R ** (2 - k))
            else:
                out = chain(u, u[0] ** k, k * u[0] ** (k - 1), k * (k - 1) * u[0] ** (k - 2))
        elif e.func == sp.exp:
            u = node(e.args[0])
            E = auxiliary(sp.exp(u[0]))
            out = chain(u, E, E, E)
        elif e.func == sp.Abs:  # a kink: sign(u) off u = 0, second derivative 0 there (a.e.)
            u = node(e.args[0])
            out = chain(u, sp.Abs(u[0]), sp.sign(u[0]), sp.Integer(0))
        elif e.func in (sp.Max, sp.Min) and len(e.args) == 2:  # max/min(u, v) = (u + v +/- |u - v|) / 2
            u, v = e.args
            out = node((u + v + (1 if e.func == sp.Max else -1) * sp.Abs(u - v)) / 2)
        else:  # any other node (e.g. erf, theta in an exponent): its own sympy derivatives, correct, not optimised
            d = {k: rename(t) for k, p in enumerate(params) if (t := sp.diff(e, p)) != 0}
            h = {(i, j): rename(t) for i in d for j in d if i <= j and (t := sp.diff(e, params[i], params[j])) != 0}
            out = (rename(e), d, h)
        memo[e] = out
        return out

    value, d, h = node(expr)
    gradient = tuple(d.get(a, sp.Integer(0)) for a in range(len(params)))
    ordered = tuple((symbol, definition) for definition, symbol in auxiliaries.items())
    return SecondOrderProgram(ordered, value, gradient, dict(sorted(h.items())))


@dataclass(frozen=True)
class Prepared:
    """Data of one fit laid out for the kernels: ``columns`` (n_inputs, n) contiguous for the value kernel,
    ``points`` (n, n_inputs + p) rows x_i followed by the parameters (overwritten at each call)."""

    columns: Array
    points: Array

    @property
    def n(self) -> int:
        return self.columns.shape[1]

    def __len__(self) -> int:
        return self.n


@dataclass(frozen=True, eq=False)
class DerivedSystem:
    """f(x; theta) = ``expr`` with compiled value and Newton-system kernels (built on first use).

    ``inputs`` and ``params`` are sympy symbols. ``pinning``: an object with ``free_mask`` (bool, (p,)) and
    ``pin(theta)`` (equivalent parameters with the others at their pinned values), e.g. a softmax
    :class:`~hmoe_theory.families.Mixture`; without it every parameter is free.

    >>> import sympy as sp
    >>> x, a, b = sp.symbols("x a b", real=True)
    >>> system = DerivedSystem(a * sp.exp(b * x), (x,), (a, b))
    >>> r, norms, g, H = system.system(np.array([[0.0], [1.0]]), np.zeros(2), np.array([1.0, 0.0]))
    >>> r.tolist(), g.tolist()
    ([1.0, 1.0], [2.0, 1.0])
    """

    expr: sp.Expr
    inputs: tuple[sp.Symbol, ...]
    params: tuple[sp.Symbol, ...]
    hessian: str = "exact"
    pinning: object | None = None

    def __post_init__(self) -> None:
        if self.hessian not in HESSIANS:
            raise ModelError(f"hessian must be one of {', '.join(HESSIANS)}, got {self.hessian!r}")
        object.__setattr__(self, "inputs", tuple(self.inputs))
        object.__setattr__(self, "params", tuple(self.params))
        unknown = self.expr.free_symbols - set(self.inputs) - set(self.params)
        if unknown:
            raise ModelError(f"undeclared symbols {sorted(map(str, unknown))} in the regression function")

    @property
    def n_params(self) -> int:
        return len(self.params)

    @property
    def n_inputs(self) -> int:
        return len(self.inputs)

    @cached_property
    def free_mask(self) -> Array:
        """True for the estimated parameters (all of them without ``pinning``)."""
        if self.pinning is not None:
            return self.pinning.free_mask
        mask = np.ones(self.n_params, dtype=bool)
        mask.setflags(write=False)
        return mask

    def pin(self, theta: Array) -> Array:
        """Equivalent parameters with the pinned ones at their values (theta itself without ``pinning``)."""
        theta = self._theta(theta)
        return self.pinning.pin(theta) if self.pinning is not None else theta.copy()

    @cached_property
    def _args(self) -> list:
        return [*self.inputs, *self.params]

    @cached_property
    def _value_kernel(self):
        return compile_exprs([self.expr], self._args)

    @cached_property
    def program(self) -> "SecondOrderProgram":
        """The second-order program of ``expr`` (:func:`second_order_program`)."""
        return second_order_program(self.expr, self.params)

    @cached_property
    def _curvature_index(self) -> tuple[Array, Array]:
        """(rows, cols) of the second derivatives the system kernel computes (none for Gauss-Newton)."""
        keys = list(self.program.curvature) if self.hessian == "exact" else []
        return np.array([a for a, _ in keys], dtype=int), np.array([b for _, b in keys], dtype=int)

    @cached_property
    def _system_kernels(self) -> tuple[Callable[..., None], Callable[..., None], int]:
        """(point kernel (x, theta) -> (x, theta, A), derivative kernel -> (f, gradient, curvature), K)."""
        program, args = self.program, self._args
        auxiliaries: dict[sp.Symbol, sp.Expr] = {}
        for A, definition in program.auxiliaries:  # in order: a definition only holds earlier A_j
            auxiliaries[A] = definition.xreplace(auxiliaries)
        points = compile_llvm_rows([*args, *auxiliaries.values()], args)
        exprs = [program.value, *program.gradient]
        if self.hessian == "exact":
            exprs += list(program.curvature.values())
        derivatives = compile_llvm_rows(exprs, [*args, *auxiliaries])
        return points, derivatives, len(auxiliaries)

    def prepare(self, X: Array) -> Prepared:
        """Lay out the rows of X (n, n_inputs) once for repeated :meth:`predict` / :meth:`system` calls."""
        X = np.asarray(X, dtype=float)
        if X.ndim != 2 or X.shape[1] != self.n_inputs:
            raise ModelError(f"need X of shape (n, {self.n_inputs}), got {X.shape}")
        points = np.empty((len(X), self.n_inputs + self.n_params))
        points[:, : self.n_inputs] = X
        return Prepared(np.ascontiguousarray(X.T), points)

    def _theta(self, theta: Array) -> Array:
        theta = np.asarray(theta, dtype=float)
        if theta.shape != (self.n_params,):
            raise ModelError(f"need {self.n_params} parameters, got shape {theta.shape}")
        return theta

    def _data(self, X: Array | Prepared) -> Prepared:
        return X if isinstance(X, Prepared) else self.prepare(X)

    def predict(self, X: Array | Prepared, theta: Array) -> Array:
        """f(x_i; theta) for the rows x_i of X (n, n_inputs) (or of a :meth:`prepare` d layout)."""
        data, theta = self._data(X), self._theta(theta)
        out = self._value_kernel(*data.columns, *theta)[0]
        return np.broadcast_to(out, (data.n,))

    def system(self, X: Array | Prepared, y: Array, theta: Array) -> System:
        """(r, ||J_a||^2, g = J^T r, H) of ||r||^2 / 2 at theta (module docstring)."""
        data, theta = self._data(X), self._theta(theta)
        y = np.asarray(y, dtype=float)
        p, n = self.n_params, data.n
        rows, cols = self._curvature_index
        points, derivatives, K = self._system_kernels
        data.points[:, self.n_inputs :] = theta
        m = min(BLOCK, n)
        row_block = np.empty((m, self.n_inputs + p + K))
        values = np.empty((m, 1 + p + len(rows)))
        r = np.empty(n)
        gram, contracted = np.zeros((p, p)), np.zeros(p + len(rows))  # J^T J; (J^T r, S entries)
        for start in range(0, n, BLOCK):
            stop = min(n, start + BLOCK)
            block, rows_in = values[: stop - start], row_block[: stop - start]
            points(data.points[start:stop], out=rows_in)
            derivatives(rows_in, out=block)
            r_block = np.subtract(block[:, 0], y[start:stop], out=r[start:stop])
            J = block[:, 1 : 1 + p]
            gram += J.T @ J
            contracted += r_block @ block[:, 1:]
        g, H = contracted[:p], gram
        if self.hessian == "exact":
            S = np.zeros((p, p))
            S[rows, cols] = contracted[p:]
            H = gram + S + np.triu(S, 1).T
        return r, np.diag(gram).copy(), g, H


__all__ = ["BLOCK", "HESSIANS", "DerivedSystem", "Prepared", "SecondOrderProgram", "System", "second_order_program"]
