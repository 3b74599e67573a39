"""The explorer's view as a permalink: the URL fragment ``#tab=curvature&map=...&sets=R%3D3``.

A fragment holds the tab and the text of that tab's inputs (percent-encoded ``key=value`` pairs, the format of
a URL query). Decoding only checks the tab and the keys; each value is text that the tab parses like typed
input (safe parser, one-line errors), so a link can reproduce a view but never run anything else. The fragment
is never sent to the server.
"""

from __future__ import annotations

from collections.abc import Mapping
from urllib.parse import parse_qsl, quote, urlencode

from ..errors import ModelError

FIELDS: dict[str, tuple[str, ...]] = {
    "relations": ("gate", "expert", "mode", "d", "order", "seed", "point", "function", "inputs", "params", "positive"),
    "curvature": ("map", "coords", "ranges", "sets", "sigma", "resolution"),
    "attention": ("position", "tokens", "dim", "heads", "param", "temperature", "order", "seed"),
}
MAX_LENGTH = 4000  # characters of a fragment (browsers accept more; a view needs far less)


def encode(tab: str, values: Mapping[str, object]) -> str:
    """``tab=<tab>&key=value...`` for the keys of ``tab`` in ``values`` (empty values left out)."""
    if tab not in FIELDS:
        raise ModelError(f"unknown explorer tab {tab!r} (one of {', '.join(FIELDS)})")
    pairs = [("tab", tab), *((k, str(values[k])) for k in FIELDS[tab] if k in values and str(values[k]) != "")]
    return urlencode(pairs, quote_via=quote, safe="!$'()*,:@/?")  # readable; & = + ; stay encoded


def decode(fragment: str) -> tuple[str, dict[str, str]]:
    """``(tab, {key: text})`` from a fragment (with or without the leading ``#``); one-line ModelError for an
    unknown tab or key, a repeated key or an over-long fragment."""
    text = fragment[1:] if fragment.startswith("#") else fragment
    if len(text) > MAX_LENGTH:
        raise ModelError(f"permalink: {len(text)} characters (limit {MAX_LENGTH})")
    try:
        pairs = parse_qsl(text, keep_blank_values=True, strict_parsing=True)
    except ValueError:
        raise ModelError(f"permalink: expected key=value pairs joined by '&', got {text[:80]!r}") from None
    values: dict[str, str] = {}
    for key, value in pairs:
        if key in values:
            raise ModelError(f"permalink: {key!r} given twice")
        values[key] = value
    tab = values.pop("tab", "")
    if tab not in FIELDS:
        raise ModelError(f"permalink: unknown tab {tab!r} (one of {', '.join(FIELDS)})")
    unknown = sorted(set(values) - set(FIELDS[tab]))
    if unknown:
        raise ModelError(f"permalink: unknown key(s) {', '.join(map(repr, unknown))} for the {tab} tab")
    return tab, values


def as_int(values: Mapping[str, str], key: str, default: int) -> int:
    """An integer field of a decoded fragment (``default`` when absent); one-line ModelError otherwise."""
    text = values.get(key, "")
    if text == "":
        return default
    try:
        return int(text)
    except ValueError:
        raise ModelError(f"permalink: {key} must be an integer, got {text[:40]!r}") from None
