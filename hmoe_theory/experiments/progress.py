"""Progress of a sweep on stderr, drawn by tqdm (a well-kept library: redraws in place on a terminal,
rate-limited plain lines in a log or CI)."""

from __future__ import annotations

import sys
from typing import TextIO

from tqdm import tqdm


class ProgressBar:
    """Progress of ``total`` replicate paths of which ``skipped`` were already stored (resume)."""

    def __init__(self, total: int, skipped: int, stream: TextIO | None = None) -> None:
        self.skipped = skipped
        stream = stream if stream is not None else sys.stderr
        self._bar = tqdm(
            total=total, initial=skipped, unit="path", desc="rates", file=stream, dynamic_ncols=True,
            mininterval=0.1 if getattr(stream, "isatty", lambda: False)() else 10.0, leave=True,
        )

    def update(self, computed: int, failed: int) -> None:
        if failed:
            self._bar.set_postfix_str(f"{failed} failed", refresh=False)
        self._bar.update(self.skipped + computed - self._bar.n)

    def close(self) -> None:
        self._bar.close()
