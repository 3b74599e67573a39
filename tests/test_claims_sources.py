"""Every built-in claim names where its statement comes from: a paper by arXiv id *with its version* (and the
section, or "abstract" when only the abstract was read) or a classical reference by author and year; never an
internal note, an issue number or the project brief."""

import re

import pytest

from proofs_check.registry import builtin_claims

INTERNAL = re.compile(r"\b(issues?|brief|notes?|todo|internal|project)\b|#\d", re.IGNORECASE)
ARXIV = re.compile(r"arXiv[: ]?(\d{4}\.\d{4,5})(?: ?(v\d+))?")  # "2410.11222v3" or "2410.11222 v3"
AUTHOR = r"(?:(?:de|do|van|von) )?[A-Z][A-Za-z'-]+"
CLASSICAL = re.compile(rf"{AUTHOR}(?: et al\.|(?:, {AUTHOR})* & {AUTHOR})? (?:1[89]|20)\d\d\b")
PROJECT_PAPERS = {"2410.11222": "v3", "2602.01468": "v1", "2604.14702": "v1", "2505.10860": "v1"}


def source_problems(source: str) -> list[str]:
    """What is wrong with a claim's source (empty when it names a citable reference)."""
    problems = [f"internal reference {m.group(0)!r}" for m in INTERNAL.finditer(source)]
    cited = ARXIV.findall(source)
    problems += [f"arXiv {number} without its version" for number, version in cited if not version]
    problems += [
        f"arXiv {number}{version}: the project reads {PROJECT_PAPERS[number]}"
        for number, version in cited
        if version and PROJECT_PAPERS.get(number, version) != version
    ]
    if not cited and not CLASSICAL.search(source):
        problems.append("names neither an arXiv id with version nor an author-year reference")
    return problems


@pytest.mark.parametrize(
    "source, problem",
    [
        ("project brief theory item 2 / issue 2 (MoE literature)", "internal reference 'project'"),
        ("this project's depth study (issue 4); numeric", "internal reference 'issue'"),
        ("arXiv 2602.01468 (abstract only)", "arXiv 2602.01468 without its version"),
        ("arXiv 2410.11222v1, abstract", "arXiv 2410.11222v1: the project reads v3"),
        ("MoE convergence-rate literature", "names neither an arXiv id with version nor an author-year reference"),
        ("see the notes", "internal reference 'notes'"),
    ],
)
def test_bad_sources_are_caught(source, problem):
    assert problem in source_problems(source)


@pytest.mark.parametrize(
    "source",
    [
        "Ho & Nguyen 2016, Ann. Statist., Prop. 2.1",
        "Chen 1995",
        "do Carmo 1992 (curvature of the sphere)",
        "Vaswani et al. 2017",
        "Nguyen, Nguyen & Ho 2023, NeurIPS",
        "arXiv 2604.14702v1, abstract",
        "arXiv 2505.10860 v1, Definition 1",
    ],
)
def test_citable_sources_pass(source):
    assert source_problems(source) == []


def test_every_builtin_claim_names_its_paper_or_classical_reference():
    claims = builtin_claims()
    assert len(claims) >= 50
    bad = {c.id: source_problems(c.source) for c in claims if source_problems(c.source)}
    assert bad == {}
    cited = {number for c in claims for number, _ in ARXIV.findall(c.source)}
    assert set(PROJECT_PAPERS) <= cited  # the three target papers and the readable sibling are all cited


def test_paper_fields_carry_a_version():
    for c in builtin_claims():
        if c.paper:
            assert re.fullmatch(r"arXiv:\d{4}\.\d{4,5}", c.paper) and re.fullmatch(r"v\d+", c.paper_version), c.id
