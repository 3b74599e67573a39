"""The model f_G of a rate-order question: a mixture with k atoms as one sympy expression, and its truth.

A :class:`RateModel` holds, for a family of mixing measures G = sum_i w_i delta_{theta_i}:

* ``build(k)``: the symbolic f_G with k atoms -- weight symbols w_1..w_k (> 0) and a (k, P) array of atom
  parameter symbols theta_i = (theta_i1..theta_iP), in the order of ``atom_names``;
* the truth G* (exact rationals: ``true_weights``, ``true_atoms``), and the measure of ||f_G - f_G*||_{L2(mu)}
  (:class:`~.quadrature.Measure`);
* which coordinates are gate parameters (``gate_names``: pinned on one exact atom, the softmax translation)
  and which enter the model linearly (``linear_names``: merged per cell by the ``merged`` D1 convention);
* ``shared_names``: coordinates of the model shared by all atoms (an attention temperature tau), true values
  ``true_shared``; D1 counts them as sum_q |tau_q - tau*_q|;
* ``scalings``: candidate one-parameter symmetries (:class:`Scaling`) for the exact scan of :mod:`.degeneracy`.

Builders:

* :func:`from_setting` -- a setting of the estimation schema (catalogue name or TOML spec): least-squares
  regression f_G(x) = sum_i softmax_i(s_i(x) + log w_i) E_i(x) or conditional density
  p_G(y|x) = sum_i softmax_i(.) N(y | E_i(x), nu_i) (the :class:`~hmoe_theory.families.Mixture` with the bias
  c_i replaced by log w_i);
* :func:`gaussian_mixture` -- p_G(y) = sum_i w_i N(y | mu_i, v_i), location (v = 1 fixed) or location-scale
  (variance v free), sum_i w_i = 1.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from fractions import Fraction

import numpy as np
import sympy as sp

from ..errors import ModelError
from ..expr import normal_pdf
from ..families import Mixture, ParametricFunction, gate_expert
from ..families.base import is_linear_homogeneous
from ..families.noise import response_symbol
from ..symbols import indexed_name, input_symbols, positive_symbol, real_symbol
from ..estimation.setting import Setting
from .quadrature import Measure

MODELS = ("regression", "density")
GAUSSIAN_KINDS = ("location", "location-scale")


@dataclass(frozen=True)
class Built:
    """f_G with k atoms: ``expr`` in ``inputs``; ``weights`` (k,) and ``atoms`` (k, P) symbol arrays.

    ``components`` (density models only): per atom (gate weight, mean, variance) so that
    f_G = sum_i gate_i N(y | mean_i, variance_i) -- the closed form of the y-integral uses it."""

    expr: sp.Expr
    inputs: tuple[sp.Symbol, ...]
    weights: tuple[sp.Symbol, ...]
    atoms: np.ndarray
    components: tuple[tuple[sp.Expr, sp.Expr, sp.Expr], ...] = ()
    shared: tuple[sp.Symbol, ...] = ()  # the symbols of ``RateModel.shared_names``


WEIGHT = "weight"  # the atom's weight in a Scaling


@dataclass(frozen=True)
class Scaling:
    """A candidate symmetry t -> G_t: coordinate p of an atom times (1 + t)^e_p (``WEIGHT``: the atom's weight;
    a name of ``shared_names``: that shared coordinate), every other coordinate at the truth.

    ``every_atom``: applied to every atom (needed when a shared coordinate moves: it acts on all of them); else to
    the atoms of the first cell only. Either way it acts atom by atom, so an identity f_Gt = f_G* along it holds
    with k = k* atoms too (a symmetry of the parametrisation, not an effect of over-fitting)."""

    name: str
    exponents: tuple[tuple[str, int], ...]
    every_atom: bool = False

    def exponent(self, name: str) -> int:
        return dict(self.exponents).get(name, 0)


@dataclass(frozen=True, eq=False)
class RateModel:
    """A model and its truth (module docstring). ``simplex``: the weights sum to 1 (no gate)."""

    name: str
    model: str  # regression | density
    parametrisation: str
    atom_names: tuple[str, ...]
    gate_names: tuple[str, ...]
    linear_names: tuple[str, ...]
    true_weights: tuple[Fraction, ...]
    true_atoms: tuple[tuple[Fraction, ...], ...]
    measure: Measure
    builder: Callable[[int], Built]
    single_atom: Callable[[], ParametricFunction]
    simplex: bool = False
    d: int = 1
    translation: bool = True  # softmax gates across atoms: scores defined up to a common shift (pin one atom)
    gate_factor: Callable[[], sp.Expr] | None = None  # softmax models: g = exp(s(x; beta)), F = g E (or g N)
    shared_names: tuple[str, ...] = ()
    true_shared: tuple[Fraction, ...] = ()
    scalings: tuple[Scaling, ...] | None = None  # None: the weight/linear scaling when it applies (``candidate_scalings``)

    @property
    def k_true(self) -> int:
        return len(self.true_weights)

    @property
    def pinned(self) -> bool:
        """True for softmax-gated models: one exactly fitted atom's gate and weight are pinned to the truth."""
        return self.translation and not self.simplex

    def index(self, names: tuple[str, ...]) -> tuple[int, ...]:
        return tuple(self.atom_names.index(n) for n in names)

    def build(self, k: int) -> Built:
        return self.builder(k)

    def candidate_scalings(self) -> tuple[Scaling, ...]:
        """``scalings``, or by default: weight times (1 + t), linearly entering coordinates divided by (1 + t) --
        when the weights are free (no simplex, no pinned softmax weights) and some coordinate enters linearly."""
        if self.scalings is not None:
            return self.scalings
        if not self.linear_names or self.simplex or self.pinned:
            return ()
        return (Scaling("weight-linear", ((WEIGHT, 1), *((n, -1) for n in self.linear_names))),)


def _rational(value: float) -> Fraction:
    """The exact rational of a decimal literal (0.1 -> 1/10), or of the double itself."""
    text = repr(float(value))
    return Fraction(text) if len(text) <= 12 else Fraction(float(value))


def _mixture_builder(setting: Setting, model: str) -> Callable[[int], Built]:
    mode = "regression" if model == "regression" else "density"

    def build(k: int) -> Built:
        mixture = Mixture(setting.gate, setting.expert, k, setting.d, mode)
        weights = tuple(positive_symbol(indexed_name("w", j)) for j in range(1, k + 1))
        biases = {c["gate"].bias: sp.log(w) for c, w in zip(mixture.components, weights)}
        rows = []
        for c in mixture.components:
            rows.append([*c["gate"].params, *c["expert_params"], *([c["variance"]] if c["variance"] is not None else [])])
        expr = mixture.function.expr.xreplace(biases)
        components = ()
        if mode == "density":
            components = tuple(
                (w.xreplace(biases), c["expert"], c["variance"])
                for w, c in zip(mixture.weights, mixture.components)
            )
        return Built(expr, mixture.function.inputs, weights, np.array(rows, dtype=object), components)

    return build


def from_setting(setting: Setting, model: str = "regression") -> RateModel:
    """The rate model of a setting (k* = number of [[truth]] tables; k is chosen by the caller).

    Density mode: every atom gets a variance nu_i; its true value is the truth's ``variance`` (EM settings)
    or the setting's ``noise_variance``. Hypotheses: a softmax gate (the schema enforces it) and k* >= 2
    (with k* = 1 the gate is free when the expert is exact: every gate gives the same f_G).
    """
    if model not in MODELS:
        raise ModelError(f"unknown model {model!r} (known: {', '.join(MODELS)})")
    if setting.k_true < 2:
        raise ModelError(
            f"setting {setting.name!r} has k* = 1: with one true expert the gate parameters are free (every gate "
            "gives the same f_G); use k* >= 2"
        )
    x = input_symbols(setting.d)
    gate_names = tuple(p.name for p in setting.gate.builder(x, None)[1])
    expert_expr, expert_params = setting.expert.term(x)
    expert_names = tuple(p.name for p in expert_params)
    linear = tuple(p.name for p in expert_params) if is_linear_homogeneous(expert_expr, expert_params) else ()
    names = gate_names + expert_names + (("nu",) if model == "density" else ())
    variances = setting.true_variances
    truth = []
    for j, t in enumerate(setting.truth):
        row = [_rational(t[n]) for n in gate_names + expert_names]
        if model == "density":
            row.append(_rational(float(variances[j])))
        truth.append(tuple(row))
    weights = tuple(_rational(t["weight"]) for t in setting.truth)
    measure = Measure.from_design(setting.design.law, setting.design.a, setting.design.b, setting.d)
    if model == "density":
        spread = max(float(v) for v in variances)
        measure = measure.with_response(_response_range(setting, truth, expert_expr, x, spread))
    return RateModel(
        name=setting.name,
        model=model,
        parametrisation=f"{setting.gate.name} gate x {setting.expert.name} experts, softmax weights w_i = exp(c_i)",
        atom_names=names,
        gate_names=gate_names,
        linear_names=linear,
        true_weights=weights,
        true_atoms=tuple(truth),
        measure=measure,
        builder=_mixture_builder(setting, model),
        single_atom=lambda: gate_expert(setting.gate, setting.expert, setting.d, model),
        d=setting.d,
        gate_factor=lambda: setting.gate.factor(x)[0],
    )


def _response_range(setting: Setting, truth: list, expert_expr: sp.Expr, x: tuple, variance: float) -> tuple[float, float]:
    """[min - 10 sd, max + 10 sd] of the true experts' means over the design's box (density models)."""
    params = setting.expert.term(x)[1]
    start = len(setting.gate.builder(x, None)[1])
    lo, hi = (setting.design.a, setting.design.b) if setting.design.law == "uniform" else (-4.0, 4.0)
    mesh = np.stack(np.meshgrid(*([np.linspace(lo, hi, 41)] * len(x)), indexing="ij"), axis=-1).reshape(-1, len(x))
    means = [
        np.broadcast_to(sp.lambdify(x, expert_expr.xreplace(dict(zip(params, map(sp.Rational, row[start:])))))(*mesh.T),
                        (len(mesh),))
        for row in truth
    ]
    sd = float(np.sqrt(variance))
    return float(np.min(means) - 10 * sd), float(np.max(means) + 10 * sd)


def _gaussian_builder(kind: str) -> Callable[[int], Built]:
    y = response_symbol()

    def build(k: int) -> Built:
        weights = tuple(positive_symbol(indexed_name("w", j)) for j in range(1, k + 1))
        rows, components = [], []
        for j in range(1, k + 1):
            mu = real_symbol(indexed_name("mu", j))
            v = positive_symbol(indexed_name("v", j)) if kind == "location-scale" else sp.Integer(1)
            rows.append([mu] + ([v] if kind == "location-scale" else []))
            components.append((weights[j - 1], mu, v))
        expr = sp.Add(*(w * normal_pdf(y, mu, v) for w, mu, v in components))
        return Built(expr, (y,), weights, np.array(rows, dtype=object), tuple(components))

    return build


def _gaussian_kernel(kind: str) -> ParametricFunction:
    """N(y | mu, v) (v = 1 for ``location``) with the unindexed atom names."""
    mu, v = real_symbol("mu"), positive_symbol("v")
    if kind == "location":
        return ParametricFunction("N(y | mu, 1)", normal_pdf(response_symbol(), mu, 1), (response_symbol(),), (mu,))
    return ParametricFunction("N(y | mu, v)", normal_pdf(response_symbol(), mu, v), (response_symbol(),), (mu, v))


def gaussian_mixture(kind: str) -> RateModel:
    """One true atom N(0, 1) fitted by a mixture sum_i w_i N(mu_i, v_i) (v_i = 1 for ``location``).

    ||p_G - p_G*|| in L2(dy) on the real line (the certificates use the closed form of the Gaussian
    products; the search a Gauss-Legendre rule on [-12, 12], whose truncation error is below e^-70).
    """
    if kind not in GAUSSIAN_KINDS:
        raise ModelError(f"unknown Gaussian mixture {kind!r} (known: {', '.join(GAUSSIAN_KINDS)})")
    names = ("mu", "v") if kind == "location-scale" else ("mu",)
    truth = ((Fraction(0), Fraction(1)),) if kind == "location-scale" else ((Fraction(0),),)
    return RateModel(
        name=f"gaussian-{kind}",
        model="density",
        parametrisation="Gaussian " + ("location-scale mixture (mean mu, variance v)" if kind == "location-scale"
                                       else "location mixture (mean mu, variance 1 known)"),
        atom_names=names,
        gate_names=(),
        linear_names=(),
        true_weights=(Fraction(1),),
        true_atoms=truth,
        measure=Measure.lebesgue(-12.0, 12.0),
        builder=_gaussian_builder(kind),
        single_atom=lambda: _gaussian_kernel(kind),
        simplex=True,
    )


ATTENTION_PARAMETRISATIONS = {"hmoe": "hmoe", "tied": "attention", "tied-scores": "tied-scores"}
_DESCRIPTIONS = {"hmoe": "free-atom HMoE", "tied": "tied layer weights W_Q, W_K, W_V, W_O",
                 "tied-scores": "tied layer seen through its scores S_h = W_Q W_K^T / sqrt(d_k), values and W_O"}
TEMPERATURES = ("held", "free")
TRUE_TEMPERATURE = Fraction(2)
_SHARED_GATE_TRUTH = Fraction(1, 2)  # true value of a gate weight shared by the heads (G5)


def _strip_head(name: str) -> str:
    """``S_2_1_1_1`` -> ``S_1_1_1``: the head index is the first index of every parameter of an entry with one
    output weight per head (d_v = 1; in the tied layer W_O[(h - 1) d_v + l, c] is then ``WO_h_1``)."""
    base, *indices = name.split("_")
    return "_".join([base, *indices[1:]])


def attention_entry(position: str, tokens: int, heads: int, true_heads: int, param: str = "hmoe",
                    temperature: str | None = None, dim: int = 1, activation: str | None = None) -> RateModel:
    """Entry (1, 1) of attention, tokens in R^dim, as a mixture whose atoms are the heads.

    f(x~) = sum_h w_h head_h(x~; theta_h) (:func:`hmoe_theory.attention.families.attention_entry_function` with
    value width d_v = 1 and key width d_k = dim): the weight of head h is its output weight (``w_h_1`` in the
    free-atom HMoE, ``WO_h_1`` in the tied layer); its atom is every other parameter of head h (scores or W_Q, W_K;
    values or W_V; gate weights). d_v = 1 makes the atom split exact: with d_v = d >= 2 a head has d output weights
    w_h_1 .. w_h_d and no single mixture weight. ``param``: ``hmoe`` (free atoms), ``tied`` (the layer's weights) or
    ``tied-scores`` (the layer through its score matrix S_h = W_Q W_K^T / sqrt(d_k) and values, shared by the tokens:
    without the query-key redundancy).
    ``activation``: active-attention values phi(V . x_j) (plain position only). Truth: ``true_heads`` heads with
    distinct rational parameters (head j: the pattern +-(n mod 3 + 1)/2 of its n-th coordinate, times (-3/2)^(j-1);
    weights 1, 1/2, ...). X~ ~ U[-1, 1]^(tokens dim). No pin: heads are summed, not normalised.

    G5 (a gate on the output, after W_O): f = sigmoid(Wg . x~) sum_h w_h head_h, so the gate weights are coordinates
    shared by every atom (``shared_names``, true value 1/2 each; D1 adds their |deviations|), held at the truth in
    merges; a model whose shared coordinates no exact scan decides is refused (the search has no shared block).

    ``temperature``: the scores divided by one tau shared by the heads, true value tau* = 2 --
    ``held``: tau = tau* fixed (the family with tau absorbed into the scores); ``free``: tau is a shared coordinate
    (``shared_names``), D1 counts |tau - tau*|. With free scores (c S_h, c tau) leaves f unchanged for every c > 0,
    so a free tau is identifiable only up to the score scale (the ``score-temperature`` scaling).

    Candidate symmetries for the exact scan (each decided by sympy, not assumed): ``output-value`` (w_h (1 + t),
    values / (1 + t): linear values, and relu by positive homogeneity), ``query-key`` (tied: W_Q (1 + t),
    W_K / (1 + t)), ``score-temperature`` (free tau: every head's scores and tau times (1 + t)).
    """
    from ..attention.families import attention_entry_function, temperature_symbol

    if param not in ATTENTION_PARAMETRISATIONS:
        raise ModelError(f"unknown attention parametrisation {param!r} (known: {', '.join(ATTENTION_PARAMETRISATIONS)})")
    if temperature is not None and temperature not in TEMPERATURES:
        raise ModelError(f"unknown temperature convention {temperature!r} (known: {', '.join(TEMPERATURES)})")
    if not 1 <= true_heads <= heads:
        raise ModelError(f"true heads must be in 1..heads ({heads}), got {true_heads}")
    layer = ATTENTION_PARAMETRISATIONS[param]
    weight_base = "WO" if param == "tied" else "w"
    tau = temperature_symbol()
    tau_star = sp.Rational(TRUE_TEMPERATURE.numerator, TRUE_TEMPERATURE.denominator)

    def entry(k: int) -> ParametricFunction:
        function = attention_entry_function(position, tokens, dim, k, param=layer, temperature=temperature is not None,
                                            value_dim=1, activation=activation)
        if temperature != "held":
            return function
        return ParametricFunction(function.name, function.expr.xreplace({tau: tau_star}), function.inputs,
                                  tuple(p for p in function.params if p != tau))

    def head_weights(function: ParametricFunction, k: int) -> list:
        return [next(p for p in function.params if p.name.split("_")[:2] == [weight_base, str(h)])
                for h in range(1, k + 1)]

    def shared_by_heads() -> frozenset[str]:
        """Names of the parameters that enter every head's term: on the two-head entry, the symbols of both
        df/dw_1 and df/dw_2 (f = sum_h w_h t_h(theta_h, shared) is linear in the output weights, so df/dw_h = t_h).
        One head cannot tell a per-head parameter from a shared one (G1 and G5 coincide there), two can."""
        two = entry(2)
        terms = [sp.diff(two.expr, w).free_symbols for w in head_weights(two, 2)]
        return frozenset(p.name for p in two.params if p != tau and all(p in t for t in terms))

    shared_by_name = shared_by_heads()

    def split(function: ParametricFunction, k: int) -> tuple[list, list]:
        weights = head_weights(function, k)
        rows = [[p for p in function.params if p.name.split("_")[1:2] == [str(h)] and p not in weights
                 and p.name not in shared_by_name]
                for h in range(1, k + 1)]
        gates = [p for p in function.params if p not in weights and p != tau and not any(p in r for r in rows)]
        if len({len(r) for r in rows}) > 1:
            raise ModelError(f"attention position {position}: its parameters are not split evenly by head: the heads "
                             "are not atoms of a mixture; not supported")
        return weights, rows, gates

    def build(k: int) -> Built:
        function = entry(k)
        weights, rows, gates = split(function, k)
        positive = {w: positive_symbol(w.name) for w in weights}
        return Built(function.expr.xreplace(positive), function.inputs, tuple(positive.values()),
                     np.array(rows, dtype=object), shared=(*gates, *taus))

    taus = (tau,) if temperature == "free" else ()
    one = entry(1)
    weights, rows, shared_gates = split(one, 1)
    names = tuple(_strip_head(p.name) for p in rows[0])
    head = one.expr.xreplace({weights[0]: 1})
    values = tuple(n for n in names if n.startswith(("V", "WV")))
    linear = values if is_linear_homogeneous(head, [p for p in rows[0] if _strip_head(p.name) in values]) else ()
    truth = tuple(
        tuple(Fraction((n % 3) + 1, 2) * (1 if n % 2 == 0 else -1) * Fraction(-3, 2) ** j for n in range(len(names)))
        for j in range(true_heads))
    scalings = [Scaling("output-value", ((WEIGHT, 1), *((n, -1) for n in values)))]
    if param == "tied":
        scalings.append(Scaling("query-key", (*((n, 1) for n in names if n.startswith("WQ")),
                                              *((n, -1) for n in names if n.startswith("WK")))))
    if temperature == "free":
        scores = tuple(n for n in names if n.startswith("WQ" if param == "tied" else "S"))
        scalings.insert(0, Scaling("score-temperature", (*((n, 1) for n in scores), ("tau", 1)), every_atom=True))

    def single() -> ParametricFunction:
        renamed = {p: real_symbol(n) for p, n in zip(rows[0], names)}
        return ParametricFunction("head", head.xreplace(renamed), one.inputs, (*renamed.values(), *shared_gates, *taus))

    widths = f"d = {dim}, d_k = {dim}, d_v = 1"
    held = temperature == "held"
    return RateModel(
        name=f"attention/{position}/N{tokens}" + (f"/d{dim}" if dim > 1 else "") + f"/H{heads}-H*{true_heads}/{param}"
        + (f"/{activation}" if activation else "") + (f"/tau-{temperature}" if temperature else ""),
        model="regression",
        parametrisation=f"attention entry (1,1), {position} gate, N = {tokens}, {widths}, {param} parametrisation "
        f"({_DESCRIPTIONS[param]}); atoms = heads, weight = output weight"
        + (f"; values {activation}(V . x_j) (active-attention)" if activation else "")
        + (f"; scores / tau, one temperature shared by the heads, held at tau* = {TRUE_TEMPERATURE} (tau absorbed "
           "into the scores)" if held else "")
        + (f"; scores / tau, one free temperature shared by the heads (tau* = {TRUE_TEMPERATURE}, D1 + |tau - tau*|)"
           if temperature == "free" else "")
        + (f"; the gate weights {', '.join(g.name for g in shared_gates)} act on the sum of the heads (shared by every "
           "atom): shared coordinates, D1 + their |deviations|" if shared_gates else ""),
        atom_names=names,
        gate_names=(),
        linear_names=linear,
        true_weights=tuple(Fraction(1, 2**j) for j in range(true_heads)),
        true_atoms=truth,
        measure=Measure.from_design("uniform", -1.0, 1.0, tokens * dim),
        builder=build,
        single_atom=single,
        d=tokens * dim,
        translation=False,
        shared_names=(*(g.name for g in shared_gates), *(("tau",) if taus else ())),
        true_shared=(*(_SHARED_GATE_TRUTH for _ in shared_gates), *((TRUE_TEMPERATURE,) if taus else ())),
        scalings=tuple(scalings),
    )
