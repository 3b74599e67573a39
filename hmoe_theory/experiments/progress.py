"""A dependency-free progress line on stderr for long sweeps.

On a terminal the line is redrawn in place (at most 10 times a second); otherwise (a log file, CI) a
plain line is printed at most every ``log_every_s`` seconds and once at the end.
"""

from __future__ import annotations

import sys
import time
from typing import TextIO

_WIDTH = 24


def _duration(seconds: float) -> str:
    seconds = int(round(seconds))
    if seconds >= 3600:
        return f"{seconds // 3600}h{seconds % 3600 // 60:02d}m"
    return f"{seconds // 60}m{seconds % 60:02d}s" if seconds >= 60 else f"{seconds}s"


class ProgressLine:
    """Progress of ``total`` fits of which ``skipped`` were already stored (resume)."""

    def __init__(self, total: int, skipped: int, stream: TextIO | None = None, log_every_s: float = 10.0) -> None:
        self.total, self.skipped = total, skipped
        self.stream = stream if stream is not None else sys.stderr
        self.interactive = bool(getattr(self.stream, "isatty", lambda: False)())
        self.log_every_s = log_every_s
        self.started = time.monotonic()
        self._last_draw = -float("inf")

    def render(self, computed: int, failed: int) -> str:
        """The progress text after ``computed`` new fits and ``failed`` failures."""
        done = self.skipped + computed
        fraction = done / self.total if self.total else 1.0
        filled = int(round(fraction * _WIDTH))
        elapsed = time.monotonic() - self.started
        rate = computed / elapsed if elapsed > 0 else 0.0
        remaining = self.total - done - failed
        eta = _duration(remaining / rate) if rate > 0 and remaining > 0 else "--"
        text = (
            f"rates: {done}/{self.total} fits [{'#' * filled}{'.' * (_WIDTH - filled)}] {100 * fraction:3.0f}%"
            f" | {rate:.2f} fits/s | elapsed {_duration(elapsed)} | eta {eta}"
        )
        if self.skipped:
            text += f" | {self.skipped} resumed"
        if failed:
            text += f" | {failed} failed"
        return text

    def update(self, computed: int, failed: int, final: bool = False) -> None:
        now = time.monotonic()
        interval = 0.1 if self.interactive else self.log_every_s
        if not final and now - self._last_draw < interval:
            return
        self._last_draw = now
        text = self.render(computed, failed)
        if self.interactive:
            self.stream.write("\r" + text + ("\n" if final else ""))
        else:
            self.stream.write(text + "\n")
        self.stream.flush()
