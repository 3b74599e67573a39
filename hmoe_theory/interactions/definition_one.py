"""Definition 1 of arXiv 2505.10860 v1 (strong identifiability), checked with proofs, and its density-level variant.

Definition 1 (arXiv 2505.10860 v1, Section 3): an expert h(x; eta), twice differentiable in eta, is strongly
identifiable when for all pairwise distinct parameter tuples eta_1..eta_k each of the sets below is linearly
independent as functions of x (u, v range over the parameters, v >= u for symmetric products; x^(u) over the
input coordinates):

* set 1 (shared experts): { dh/deta^(u) (x; eta_j) };
* set 2 (shared experts): { dh/deta^(u) * dh/deta^(v) (x; eta_j) } together with the constant **1** (once);
* set 3 (routed experts): { dh/deta^(u), d^2 h/deta^(u) deta^(v), x^(u) * dh/deta^(v) (x; eta_j) }.

The paper applies sets 1-2 to the shared expert h1 and set 3 to the routed expert h2. Identically-zero elements
(e.g. d^2 h / d eta2^2 = 0 for h = eta2 GELU(eta1 x), which the paper calls strongly identifiable) are left out
and listed: read literally a set containing 0 is dependent, but a vanishing derivative has no term in the Taylor
expansion of Appendix D.1, so only the non-zero elements carry the definition. "For all distinct tuples"
is checked at k generic rational tuples (default k = 2): a proof of independence there is a proof for those
tuples, and a relation there refutes the definition (a relation at generic tuples is a counterexample).

Density-level variant (our reading of Stage 1-3 of Appendix D.1, stated exactly): with pi(y | m, v) the Gaussian
density, the order-<= 2 derivative families at k distinct atoms
* shared: { d^kappa pi(y | h(x; eta), v) : |kappa| <= 2, kappa over (eta, v) };
* routed: { d^kappa [exp(beta^T x) pi(y | h(x; eta), v)] : |kappa| <= 2, kappa over (beta, eta, v) }
(beta0 is a mass term: its derivative is the function itself). Linear independence in (x, y) is what the
Taylor/Fatou argument needs; it fails for linear experts through the PDEs d^2 pi/dalpha^2 = 2 d pi/dv and
dF/da = d^2 F/dbeta dalpha.

Method per set: the 50-digit null space of :func:`.discovery.family_null_space` finds candidate relations; none
-> the set is proved independent by :func:`.independence.certify_independence` (a non-singular evaluation minor
in ball arithmetic), status PROVED; relations -> each decided by :func:`.discovery.certify_relation` (exact, or
refuted in ball arithmetic, or numeric evidence), and the verdict "dependent" is PROVED when one relation is.
Numerical evidence alone (no relation in the null space but no certificate, or relations none of which is proved)
is SUPPORTED.
"""

from __future__ import annotations

import itertools
import json
import time
from collections.abc import Sequence
from dataclasses import dataclass, field, replace

import sympy as sp

from ..certify import Status
from ..errors import HmoeError, ModelError
from ..expr import normal_pdf
from ..families import EXPERTS, ParametricFunction, get_expert
from ..symbols import input_symbols, positive_symbol, vector_symbols
from .derivatives import distinct_generic_points, generic_point
from .discovery import certify_relation, family_null_space
from .independence import IndependenceCertificate, certify_independence

SOURCE = "arXiv 2505.10860 v1, Definition 1"
SETS = ("set 1", "set 2", "set 3", "density shared", "density routed")


@dataclass(frozen=True)
class SetVerdict:
    """One set of Definition 1 (or of its density-level variant) at the chosen tuples."""

    name: str
    index_set: str
    size: int
    independent: bool | None  # None: not applicable (not differentiable enough) or undecided
    status: Status
    method: str
    relations: tuple[str, ...] = ()

    def to_dict(self) -> dict:
        return {"set": self.name, "index_set": self.index_set, "size": self.size, "independent": self.independent,
                "status": self.status.value, "method": self.method, "relations": list(self.relations)}


@dataclass
class DefinitionOneResult:
    """Definition 1 for one expert (see the module docstring)."""

    expert: str
    expression: str
    params: tuple[str, ...]
    k: int
    points: tuple[dict[str, str], ...]
    sets: tuple[SetVerdict, ...]
    seconds: float = 0.0
    source: str = SOURCE

    def verdict(self, names: Sequence[str]) -> bool | None:
        """True iff every named set is independent, False if one is dependent, None if one is undecided."""
        chosen = [s for s in self.sets if s.name in names]
        if any(s.independent is False for s in chosen):
            return False
        return None if any(s.independent is None for s in chosen) else True

    @property
    def shared(self) -> bool | None:
        """Definition 1 as a shared expert h1 (sets 1 and 2)."""
        return self.verdict(("set 1", "set 2"))

    @property
    def routed(self) -> bool | None:
        """Definition 1 as a routed expert h2 (set 3)."""
        return self.verdict(("set 3",))

    def to_dict(self) -> dict:
        return {"definition": self.source, "expert": self.expert, "expression": self.expression,
                "params": list(self.params), "k": self.k, "points": list(self.points),
                "shared_expert": self.shared, "routed_expert": self.routed,
                "sets": [s.to_dict() for s in self.sets], "seconds": round(self.seconds, 2)}

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2)

    def table(self) -> str:
        lines = [f"definition  {self.source} (strong identifiability), k = {self.k} distinct tuples",
                 f"expert      {self.expert}: h = {self.expression}, eta = ({', '.join(self.params)})"]
        for s in self.sets:
            shown = {True: "independent", False: "DEPENDENT", None: "n/a"}[s.independent]
            lines.append(f"  {s.name:<15} [{s.status.value}] {shown}: {s.index_set} ({s.size} functions)")
            lines.append(f"  {'':<15} {s.method}")
            lines += [f"  {'':<15} relation: {r}" for r in s.relations[:3]]
        show = {True: "yes", False: "no", None: "n/a"}
        lines.append(f"verdict     shared expert (sets 1-2): {show[self.shared]}; routed expert (set 3): "
                     f"{show[self.routed]}")
        return "\n".join(lines)


def _decide(name: str, index_set: str, labels: Sequence[str], exprs: Sequence[sp.Expr],
            inputs: Sequence[sp.Symbol], seed: int) -> SetVerdict:
    """Independence of one finite set: proved by a certificate, or relations decided one by one."""
    size = len(exprs)
    if any(e.has(sp.DiracDelta) or e.has(sp.nan) or e.has(sp.zoo) for e in exprs):
        return SetVerdict(name, index_set, size, None, Status.INCONCLUSIVE,
                          "not applicable: h is not twice differentiable in its parameters (a Dirac delta appears)")
    zero = [label for label, e in zip(labels, exprs) if e == 0]
    if len(zero) == size:
        return SetVerdict(name, index_set, size, False, Status.PROVED, "exact: every element is identically 0")
    kept = [(label, e) for label, e in zip(labels, exprs) if e != 0]
    labels, exprs = [label for label, _ in kept], [e for _, e in kept]
    dropped = (f"; {len(zero)} identically-zero element(s) left out ({', '.join(zero[:3])}"
               f"{', ...' if len(zero) > 3 else ''}): a vanishing derivative has no term in the Taylor expansion"
               if zero else "")
    verdict = _decide_nonzero(name, index_set, size, labels, exprs, inputs, seed)
    return replace(verdict, method=verdict.method + dropped)


def _decide_nonzero(name: str, index_set: str, size: int, labels: Sequence[str], exprs: Sequence[sp.Expr],
                    inputs: Sequence[sp.Symbol], seed: int) -> SetVerdict:
    try:
        null, digits, _ = family_null_space(list(exprs), list(inputs), seed=seed)
    except HmoeError as error:
        return SetVerdict(name, index_set, size, None, Status.INCONCLUSIVE, f"no null space: {error}")
    texts, statuses = [], []
    for row in null.basis:
        used = [i for i, c in enumerate(row) if c]
        status, _ = certify_relation([exprs[i] for i in used], [row[i] for i in used], inputs, sp.Integer(1), 5.0,
                                     digits)
        statuses.append(status)
        terms = " ".join(f"{'+' if row[i] > 0 else '-'} {abs(row[i])}*{labels[i]}" for i in used)
        texts.append(f"[{status.value}] {terms.lstrip('+ ')} = 0")
    if all(s is Status.REFUTED for s in statuses):  # no relation, or every numeric one refuted in ball arithmetic
        certificate: IndependenceCertificate = certify_independence(list(exprs), list(inputs), seed=seed)
        refuted = f" ({len(statuses)} numeric relation(s) refuted in ball arithmetic)" if statuses else ""
        if certificate.proved:
            return SetVerdict(name, index_set, size, True, Status.PROVED, certificate.method + refuted)
        if statuses:
            return SetVerdict(name, index_set, size, None, Status.INCONCLUSIVE,
                              f"numeric relations refuted, independence {certificate.method}", tuple(texts))
        return SetVerdict(name, index_set, size, True, Status.SUPPORTED,
                          f"no relation in the {digits}-digit null space; independence {certificate.method}")
    if Status.PROVED in statuses:
        return SetVerdict(name, index_set, size, False, Status.PROVED,
                          f"{len(statuses)} relation(s), {statuses.count(Status.PROVED)} proved exactly", tuple(texts))
    return SetVerdict(name, index_set, size, False, Status.SUPPORTED,
                      f"{len(statuses)} relation(s) with numeric evidence, none proved exactly", tuple(texts))


def _label(kappa: Sequence[sp.Symbol], g: str = "h") -> str:
    if not kappa:
        return g
    return f"d{len(kappa)}{g}/" + " ".join(f"d{p}" for p in kappa) if len(kappa) > 1 else f"d{g}/d{kappa[0]}"


def _expert_sets(h: sp.Expr, x: Sequence[sp.Symbol], params: Sequence[sp.Symbol], atoms, seed: int) -> list[SetVerdict]:
    first = {u: sp.diff(h, u) for u in params}
    pairs = list(itertools.combinations_with_replacement(params, 2))
    verdicts = []
    labels1, exprs1, labels2, exprs2, labels3, exprs3 = [], [], ["1"], [sp.Integer(1)], [], []
    for j, atom in enumerate(atoms):
        tag = f"[eta_{j + 1}]"
        for u in params:
            value = first[u].xreplace(atom)
            labels1.append(_label((u,)) + tag)
            exprs1.append(value)
            labels3.append(_label((u,)) + tag)
            exprs3.append(value)
        for u, v in pairs:
            labels2.append(f"{_label((u,))}*{_label((v,))}{tag}")
            exprs2.append((first[u] * first[v]).xreplace(atom))
            labels3.append(_label((u, v)) + tag)
            exprs3.append(sp.diff(h, u, v).xreplace(atom))
        for xi in x:
            for v in params:
                labels3.append(f"{xi}*{_label((v,))}{tag}")
                exprs3.append(xi * first[v].xreplace(atom))
    verdicts.append(_decide("set 1", "{dh/deta^(u)}", labels1, exprs1, x, seed))
    verdicts.append(_decide("set 2", "{dh/deta^(u) * dh/deta^(v), 1}", labels2, exprs2, x, seed))
    verdicts.append(_decide("set 3", "{dh/deta^(u), d2h/deta^(u)deta^(v), x^(u) * dh/deta^(v)}", labels3, exprs3, x,
                            seed))
    return verdicts


def _density_sets(h: sp.Expr, x: Sequence[sp.Symbol], params: Sequence[sp.Symbol], atoms, seed: int,
                  ) -> list[SetVerdict]:
    y, variance = sp.Symbol("y", real=True), positive_symbol("nu")
    beta = vector_symbols("beta", len(x))
    shared = normal_pdf(y, h, variance)
    routed = sp.exp(sum(b * xi for b, xi in zip(beta, x))) * shared
    verdicts = []
    for name, g, free in (("density shared", shared, (*params, variance)),
                          ("density routed", routed, (*beta, *params, variance))):
        labels, exprs = [], []
        point = generic_point((variance, *beta), seed + 97)
        for j, atom in enumerate(atoms):
            full = {**point, **atom}
            if j:  # distinct atoms also differ in the variance and gate slope
                full = {**full, **{s: v + sp.Rational(j, 3) for s, v in point.items()}}
            for kappa in (c for s in range(3) for c in itertools.combinations_with_replacement(free, s)):
                labels.append(_label(kappa, "F") + f"[atom {j + 1}]")
                exprs.append((sp.diff(g, *kappa) if kappa else g).xreplace(full))
        index = ("{d^kappa pi(y | h(x; eta), nu) : |kappa| <= 2 over (eta, nu)}" if name == "density shared" else
                 "{d^kappa [exp(beta.x) pi(y | h(x; eta), nu)] : |kappa| <= 2 over (beta, eta, nu)}")
        verdicts.append(_decide(name, index, labels, exprs, (*x, y), seed))
    return verdicts


def check_definition_one(
    expert: str | ParametricFunction, d: int = 1, k: int = 2, *, seed: int = 0, density: bool = True
) -> DefinitionOneResult:
    """Definition 1 of arXiv 2505.10860 v1 for a catalogue expert (or any ParametricFunction h(x; eta)) at k
    distinct generic rational tuples, with the density-level variant when ``density`` (see module docstring)."""
    started = time.perf_counter()
    if isinstance(expert, ParametricFunction):
        name, h, x, params = expert.name, expert.expr, tuple(expert.inputs), tuple(expert.params)
    else:
        x = input_symbols(d)
        h, params = get_expert(expert).term(x)
        name, params = get_expert(expert).name, tuple(params)
    if not params:
        raise ModelError(f"{name} has no parameters: Definition 1 is about derivatives in the parameters")
    atoms = distinct_generic_points(params, k, seed)
    sets = _expert_sets(h, x, params, atoms, seed)
    if density:
        sets += _density_sets(h, x, params, atoms, seed)
    points = tuple({p.name: str(v) for p, v in atom.items()} for atom in atoms)
    return DefinitionOneResult(name, str(h), tuple(p.name for p in params), k, points, tuple(sets),
                               time.perf_counter() - started)


@dataclass
class DefinitionOneTable:
    """:func:`check_definition_one` over several experts."""

    results: tuple[DefinitionOneResult, ...]
    seconds: float = 0.0
    failures: dict[str, str] = field(default_factory=dict)

    def to_dict(self) -> dict:
        return {"definition": SOURCE, "rows": [r.to_dict() for r in self.results], "errors": self.failures,
                "seconds": round(self.seconds, 2)}

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2)

    def table(self) -> str:
        show = {True: "yes", False: "no", None: "n/a"}
        header = f"{'expert':<40} " + " ".join(f"{s:<15}" for s in SETS) + " shared routed"
        lines = [f"{SOURCE} (status per set: proved = certificate or exact relation)", header, "-" * len(header)]
        for r in self.results:
            cells = []
            for name in SETS:
                found = [s for s in r.sets if s.name == name]
                cells.append(f"{show[found[0].independent]} ({found[0].status.value})" if found else "-")
            lines.append(f"{r.expert[:40]:<40} " + " ".join(f"{c:<15}" for c in cells)
                         + f" {show[r.shared]:<6} {show[r.routed]}")
        lines += [f"{name}: error: {message}" for name, message in self.failures.items()]
        lines.append(f"{self.seconds:.1f} s")
        return "\n".join(lines)


def definition_one_table(experts: Sequence[str | ParametricFunction] | None = None, d: int = 1, k: int = 2,
                         seed: int = 0, density: bool = True) -> DefinitionOneTable:
    """:func:`check_definition_one` over the catalogue experts (default: every entry of ``EXPERTS``) and any given
    functions (e.g. attention entries built by the caller)."""
    started = time.perf_counter()
    results, failures = [], {}
    for expert in experts if experts is not None else list(EXPERTS):
        try:
            results.append(check_definition_one(expert, d, k, seed=seed, density=density))
        except HmoeError as error:
            failures[getattr(expert, "name", str(expert))] = str(error)
    return DefinitionOneTable(tuple(results), time.perf_counter() - started, failures)
