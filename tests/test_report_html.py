"""``hmoe check --html DIR``: every page parses (strictly balanced tags), every local link resolves,
the dependency graph has one box per claim and one arrow per dependency, boxes are coloured by verdict with
a legend, the graph scales to the page (viewBox), failures propagate."""

from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urlsplit

import pytest

from hmoe_theory.certify import Status
from hmoe_theory.cli import main
from proofs_check.claim import Claim, Verdict
from proofs_check.registry import builtin_claims, isolated
from proofs_check.graph_svg import label_lines
from proofs_check.report_html import VERDICTS, write_html
from proofs_check.runner import ClaimResult, with_dependencies

VOID = {"meta", "link", "br", "hr", "img", "input", "col", "area", "base", "source", "wbr", "track", "embed"}


class StrictPage(HTMLParser):
    """Parses a page, failing on any unbalanced tag; collects ids, links and the SVG's boxes and arrows."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.stack, self.ids, self.links, self.nodes, self.edges = [], set(), [], [], 0
        self.text, self.kinds, self.fills, self.svgs, self.legend = [], [], [], [], []
        self._in_legend = False

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if "id" in attrs:
            self.ids.add(attrs["id"])
        for key in ("href", "src"):
            if attrs.get(key):
                self.links.append(attrs[key])
        if tag == "g" and "node" in attrs.get("class", ""):
            self.nodes.append(attrs["class"].split()[1])
            self.kinds.append(attrs["class"].split()[2])
        if tag == "path" and attrs.get("class") == "edge":
            self.edges += 1
        if tag == "rect" and self.stack[-1:] == ["g"] and len(self.fills) < len(self.nodes):
            self.fills.append(attrs.get("fill"))
        if tag == "svg":
            self.svgs.append(attrs)
        if tag == "g" and attrs.get("class") == "legend":
            self._in_legend = True
        if tag not in VOID:
            self.stack.append(tag)

    def handle_startendtag(self, tag, attrs):
        self.handle_starttag(tag, attrs)
        if tag not in VOID:
            self.stack.pop()

    def handle_endtag(self, tag):
        assert self.stack and self.stack[-1] == tag, f"</{tag}> closes {self.stack[-1:] or 'nothing'}"
        self.stack.pop()
        if tag == "g":
            self._in_legend = False

    def handle_data(self, data):
        self.text.append(data)
        if self._in_legend and self.stack[-1:] == ["text"]:
            self.legend.append(data)


def parse(path: Path) -> StrictPage:
    page = StrictPage()
    page.feed(path.read_text(encoding="utf-8"))
    page.close()
    assert not page.stack, f"{path}: unclosed {page.stack}"
    return page


def check_site(root: Path) -> dict[Path, StrictPage]:
    """Parse every page and resolve every local link (file and #fragment)."""
    pages = {p: parse(p) for p in sorted(root.rglob("*.html"))}
    assert pages
    for path, page in pages.items():
        for link in page.links:
            parts = urlsplit(link)
            assert not parts.scheme and not parts.netloc, f"{path}: external link {link}"
            target = (path.parent / unquote(parts.path)).resolve() if parts.path else path
            assert target.is_file(), f"{path}: broken link {link}"
            if parts.fragment:
                assert parts.fragment in pages[target].ids, f"{path}: no #{parts.fragment} in {target}"
    return pages


def result(claim: Claim, status: Status, counterexample=None) -> ClaimResult:
    return ClaimResult(claim, Verdict(status, f"status {status.value} 1.23456789", counterexample), 0.1)


def test_report_of_the_builtin_ledger_with_one_failure(tmp_path):
    claims = builtin_claims()
    broken = "attention.mhsa-entry-is-3-level-hmoe"  # pretend this one failed: claims resting on it are marked
    results = with_dependencies(
        [result(c, Status.INCONCLUSIVE if c.id == broken else c.expected, {"x": "1/3"}) for c in claims]
    )
    index = write_html(results, tmp_path / "report")
    pages = check_site(tmp_path / "report")

    home = pages[index]
    assert len(home.nodes) == len(claims) and home.edges == sum(len(c.depends_on) for c in claims)
    marked = {r.claim.id for r in results if r.upstream_failed}
    assert {"attention.gated-entry-is-3-level-hmoe", "attention.gate-position-classification"} <= marked
    assert home.nodes.count("failed") == 1 and home.nodes.count("dependency-failed") == len(marked)
    expected_class = {c.id: c.expected.value for c in claims}  # every other claim passed with its expected status
    for r, node in zip(sorted(results, key=lambda r: r.claim.id), home.nodes):  # boxes are drawn sorted by id
        if r.claim.id != broken and r.claim.id not in marked:
            assert node == expected_class[r.claim.id]
    assert {"proved", "certified", "supported", "refuted", "inconclusive"} <= set(home.nodes)  # the ledger has all five
    colour = {key: c for key, _, c in VERDICTS}
    assert home.fills == [colour[n] for n in home.nodes]  # each box carries the colour of its verdict
    assert len(set(colour.values())) == len(VERDICTS) == 7  # seven distinguishable colours
    counts = {key: home.nodes.count(key) for key in colour}
    assert home.legend == [f"{label} ({counts[key]})" for key, label, _ in VERDICTS]
    assert counts["failed"] == 1 and sum(counts.values()) == len(claims)
    svg = home.svgs[0]
    assert svg["viewbox"] == f"0 0 {svg['width']} {svg['height']}"  # scalable drawing (the parser lowercases attribute names)
    css = (tmp_path / "report" / "style.css").read_text()
    assert ".graph svg { display: block; width: 100%; height: auto; }" in css  # fitted to the page width
    assert "#graph-actual-size:checked ~ .graph svg { width: auto; }" in css and "graph-actual-size" in home.ids
    assert "graph.svg" in home.links
    standalone = (tmp_path / "report" / "graph.svg").read_text()
    assert standalone.count('class="node ') == len(claims) and 'class="legend"' in standalone
    assert home.kinds.count("negative-control") == sum(c.kind == "negative control" for c in claims) >= 5
    for c in claims:
        assert home.links.count(f"claims/{c.id}.html") == 2  # graph box and table row

    page = pages[tmp_path / "report" / "claims" / "attention.gated-entry-is-3-level-hmoe.html"]
    text = " ".join("".join(page.text).split())
    assert f"Dependency failed: this claim rests on {broken}, which did not pass." in text
    assert "status proved 1.23457" in text  # summary at 6 significant digits
    assert 'run_claim(get("attention.gated-entry-is-3-level-hmoe"))' in text  # replay snippet
    assert "Paper: not given." in text and "Defined in proofs_check.claims.attention" in text
    assert "attention.mhsa-entry-is-3-level-hmoe.html" in page.links  # depends on
    assert "attention.gate-position-classification.html" in page.links  # used by


def test_stale_pages_are_removed_and_text_is_escaped(tmp_path):
    check = lambda: Verdict(Status.PROVED, "")  # noqa: E731
    evil = Claim("x.evil", "<script>alert(1)</script>", "a < b & c", ("</ul>",), "s", Status.PROVED, check)
    user = Claim(
        "x.user", "t", "s", ("h",), "s", Status.REFUTED, check, depends_on=("x.evil",), paper="arXiv:1", paper_version="v2",
        origin="/tmp/my claims/c.py",
    )
    (tmp_path / "claims").mkdir()
    (tmp_path / "claims" / "old.claim.html").write_text("<p>stale</p>")
    write_html(with_dependencies([result(evil, Status.PROVED), result(user, Status.REFUTED, {"x": 0.1 + 0.2})]), tmp_path)
    pages = check_site(tmp_path)
    assert not (tmp_path / "claims" / "old.claim.html").exists()
    assert "<script>" in "".join(pages[tmp_path / "claims" / "x.evil.html"].text)  # shown as text, not a tag
    text = "".join(pages[tmp_path / "claims" / "x.user.html"].text)
    assert "Paper: arXiv:1 v2." in text and 'load_paths(["/tmp/my claims/c.py"])' in text
    assert '"x": 0.3' in text


@pytest.fixture(autouse=True)
def _forget_user_claims():
    with isolated():
        yield


def test_cli_writes_the_report(tmp_path, capsys):
    (tmp_path / "c.py").write_text(
        "from hmoe_theory.certify import Status\nfrom proofs_check import Verdict, claim\n"
        '@claim(id="u.base", title="t", statement="s", hypotheses="none", source="s", expected="proved")\n'
        "def base():\n    return Verdict(Status.REFUTED, 'wrong', {'x': '2'})\n"
        '@claim(id="u.top", title="t", statement="s", hypotheses="none", source="s", expected="proved", depends_on="u.base")\n'
        "def top():\n    return Verdict(Status.PROVED, 'ok')\n"
    )
    assert main(["check", "--claims", str(tmp_path / "c.py"), "--html", str(tmp_path / "out"), "--jobs", "1"]) == 1
    assert "HTML report written to" in capsys.readouterr().err
    pages = check_site(tmp_path / "out")
    home = pages[tmp_path / "out" / "index.html"]
    assert home.nodes == ["failed", "dependency-failed"] and home.fills == ["#c62828", "#ef6c00"]
    base = " ".join("".join(pages[tmp_path / "out" / "claims" / "u.base.html"].text).split())
    assert "Counterexample" in base and '"x": "2"' in base and "u.top" in base


def test_long_ids_wrap_after_dots_and_dashes():
    assert label_lines("sample-efficiency.g1-headwise.paper-strong-identifiability") == [
        "sample-efficiency.g1-headwise.",
        "paper-strong-identifiability",
    ]
    assert label_lines("short.id") == ["short.id"]
    assert label_lines("a" * 50) == ["a" * 50]  # no break point: one line
