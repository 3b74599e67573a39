"""My claims (written by ``hmoe init-claims``): one theorem and one negative control about a family
defined here, a Gaussian-bump gate exp(-(x - m)^2) times an expert.

Run them:          hmoe check --claims THIS_DIRECTORY
In CI (JUnit):     hmoe check --claims THIS_DIRECTORY --junit claims.xml

Loading this file runs it as Python (like a test file): load only claims files you trust. The family
below is text read by the toolkit's safe expression parser (never evaluated as Python).

Each claim states its hypotheses, its source and the verdict you expect: ``proved``, ``certified``
or ``supported`` (numerical evidence only) for a theorem, ``refuted`` for a negative control (a
statement that must fail once a hypothesis is dropped, which shows the check can fail). ``depends_on``
lists the claims a claim rests on.
"""

from fractions import Fraction

from hmoe_theory.certify import Status, decide_equal
from hmoe_theory.interactions import discover_relations, function_from_text
from proofs_check import Verdict, claim

# F(x; m, a, b) = exp(-(x - m)^2) (a x + b): input x, parameters m (gate centre), a, b (expert).
BUMP_LINEAR = function_from_text("exp(-(x - m)**2) * (a*x + b)", inputs="x", params="m, a, b")
# The same gate with an expert that is not affine in x.
BUMP_QUADRATIC = function_from_text("exp(-(x - m)**2) * (a*x**2 + b)", inputs="x", params="m, a, b")


def interaction(F):
    """Both sides of d2F/dm db = 2 dF/da - 2 m dF/db for the family F."""
    lhs = F.derivative("m", "b")
    rhs = 2 * F.derivative("a") - 2 * F.param("m") * F.derivative("b")
    return lhs, rhs


@claim(
    id="my.bump-gate.linear-expert-interaction",
    title="Bump gate x linear expert: d2F/dm db = 2 dF/da - 2 m dF/db",
    statement="F(x) = exp(-(x - m)^2) (a x + b) satisfies d2F/dm db = 2 dF/da - 2 m dF/db for all x, m, a, b",
    hypotheses=("the expert is affine in x (slope a, bias b)", "m, a, b real and free"),
    source="template example: replace with the statement of your paper",
    expected=Status.PROVED,
    # paper="arXiv:0000.00000", paper_version="v1",
)
def bump_gate_linear_expert_interaction() -> Verdict:
    exact = Verdict.from_decision(decide_equal(*interaction(BUMP_LINEAR)), "d2F/dm db - 2 dF/da + 2 m dF/db")
    # The interaction engine finds the same relation with no hint, at a generic rational point.
    found = discover_relations(BUMP_LINEAR, order=2)
    m = Fraction(found.point["m"])  # the relation's coefficient -2m is taken at the point used
    if not found.implies({("m", "b"): 1, ("a",): -2, ("b",): 2 * m}):
        return Verdict(Status.REFUTED, "relation not among the discovered ones", counterexample=found.point)
    if exact.status is not Status.PROVED:
        return exact
    summary = f"{exact.summary}; rediscovered among the {len(found.relations)} relations at {found.point}"
    return Verdict(Status.PROVED, summary)


@claim(
    id="my.bump-gate.quadratic-expert-no-interaction",
    title="Negative control: the interaction fails for the quadratic expert a x^2 + b",
    statement="F(x) = exp(-(x - m)^2) (a x^2 + b) satisfies d2F/dm db = 2 dF/da - 2 m dF/db",
    hypotheses=("hypothesis 'expert affine in x' dropped: expert a x^2 + b",),
    source="template example: the theorem's hypothesis is needed",
    expected=Status.REFUTED,
    kind="negative control",
    depends_on=("my.bump-gate.linear-expert-interaction",),
)
def bump_gate_quadratic_expert() -> Verdict:
    return Verdict.from_decision(decide_equal(*interaction(BUMP_QUADRATIC)), "d2F/dm db - 2 dF/da + 2 m dF/db")
