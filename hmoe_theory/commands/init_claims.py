"""``hmoe init-claims DIR``: start a directory of your own claims from a working template."""

from __future__ import annotations

import argparse
import shlex
import sys
from importlib.resources import files
from pathlib import Path

from ..errors import HmoeError

TEMPLATES = ("my_claims.py", "README.md")  # files of proofs_check/templates/, written into DIR


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "init-claims",
        help="write a template claims directory (one theorem, one negative control) to run with hmoe check --claims",
        description=(
            "Write DIR/my_claims.py (a theorem and a negative control about a family defined in the file, both "
            "passing) and DIR/README.md. Run them with 'hmoe check --claims DIR'. Claims files are Python: "
            "'hmoe check' runs them."
        ),
    )
    p.add_argument("directory", metavar="DIR", help="directory to create or fill (existing files are kept)")
    p.add_argument("--force", action="store_true", help="overwrite template files that already exist in DIR")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    target = Path(args.directory)
    if target.exists() and not target.is_dir():
        raise HmoeError(f"{target} exists and is not a directory")
    existing = [name for name in TEMPLATES if (target / name).exists()]
    if existing and not args.force:
        raise HmoeError(f"{target / existing[0]} already exists (use --force to overwrite)")
    source = files("proofs_check") / "templates"
    shown = shlex.quote(str(args.directory))
    try:
        target.mkdir(parents=True, exist_ok=True)
        for name in TEMPLATES:
            text = (source / name).read_text(encoding="utf-8").replace("THIS_DIRECTORY", shown)
            (target / name).write_text(text, encoding="utf-8")
    except OSError as exc:
        raise HmoeError(f"cannot write the template into {target}: {exc.strerror or exc}") from None
    print(f"wrote {', '.join(str(target / n) for n in TEMPLATES)}", file=sys.stderr)
    print(f"run them with: hmoe check --claims {shown}")
    return 0
