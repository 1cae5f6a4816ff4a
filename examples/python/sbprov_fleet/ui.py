"""Terminal output drawn by hand: a progress bar on stderr (a TTY), plain
progress lines otherwise, and the summary table."""

from __future__ import annotations

import shutil
import sys
import threading
import time
import unicodedata
from typing import List, Sequence, TextIO


def _width(text: str) -> int:
    """Display width (East Asian wide characters count twice)."""
    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)


def _pad(text: str, width: int) -> str:
    return text + " " * max(0, width - _width(text))


def _elapsed(seconds: float) -> str:
    seconds = int(seconds)
    return f"{seconds // 60}:{seconds % 60:02d}" if seconds < 3600 else \
        f"{seconds // 3600}:{seconds // 60 % 60:02d}:{seconds % 60:02d}"


class Progress:
    """Progress of a run. ``mode``: "bar" (redrawn in place; for a TTY),
    "lines" (one line per finished device) or "none"."""

    def __init__(self, total: int, mode: str, stream: TextIO = sys.stderr):
        self.total = total
        self.mode = mode
        self.stream = stream
        self.counts = {"provisioned": 0, "already": 0, "failed": 0, "not done": 0}
        self.done = 0
        self.start = time.monotonic()
        self._lock = threading.Lock()
        self._last_draw = 0.0
        self._current = ""
        self._drawn = False

    def _bar_line(self) -> str:
        cols = shutil.get_terminal_size((80, 24)).columns
        c = self.counts
        stats = (f" {self.done}/{self.total}  {c['provisioned']} provisioned  {c['already']} already  "
                 f"{c['failed']} failed  {_elapsed(time.monotonic() - self.start)}")
        if self.done and self.done < self.total:
            rate = (time.monotonic() - self.start) / self.done
            stats += f"  ETA {_elapsed(rate * (self.total - self.done))}"
        bar_w = 24 if cols >= 100 else 10
        filled = int(bar_w * self.done / self.total) if self.total else bar_w
        line = "[" + "#" * filled + "-" * (bar_w - filled) + "]" + stats
        if self._current and _width(line) + 2 + len(self._current) < cols:
            line += "  " + self._current
        return line[:max(cols - 1, 20)]

    def _draw(self, force: bool = False) -> None:
        now = time.monotonic()
        if not force and now - self._last_draw < 0.1:
            return
        self._last_draw = now
        self.stream.write("\r\x1b[K" + self._bar_line())
        self.stream.flush()
        self._drawn = True

    def started(self, name: str) -> None:
        if self.mode == "bar":
            with self._lock:
                self._current = name
                self._draw()

    def finished(self, name: str, status: str, detail: str = "") -> None:
        with self._lock:
            self.done += 1
            self.counts[status] = self.counts.get(status, 0) + 1
            if self.mode == "lines":
                msg = f"sbprov-fleet: [{self.done}/{self.total}] {name}: {status}"
                self.stream.write(msg + (f" ({detail})" if detail else "") + "\n")
                self.stream.flush()
            elif self.mode == "bar":
                if status == "failed":
                    # Failures scroll above the bar, so they are not lost.
                    self.stream.write(f"\r\x1b[K{name}: failed: {detail}\n")
                self._current = ""
                self._draw(force=True)

    def message(self, text: str) -> None:
        with self._lock:
            if self.mode == "bar" and self._drawn:
                self.stream.write("\r\x1b[K" + text + "\n")
                self._draw(force=True)
            else:
                self.stream.write(text + "\n")
            self.stream.flush()

    def close(self) -> None:
        with self._lock:
            if self.mode == "bar" and self._drawn:
                self._draw(force=True)
                self.stream.write("\n")
                self.stream.flush()


def table(headers: Sequence[str], rows: Sequence[Sequence[str]], stream: TextIO) -> None:
    """An ASCII table; the last column is left unpadded (free text)."""
    widths: List[int] = [_width(h) for h in headers]
    for row in rows:
        for i, cell in enumerate(row):
            widths[i] = max(widths[i], _width(cell))
    last = len(headers) - 1

    def fmt(cells: Sequence[str]) -> str:
        parts = [(" " + (_pad(c, widths[i]) if i < last else c) + " ") for i, c in enumerate(cells)]
        return "|".join(parts).rstrip()

    rule = "+".join("-" * (w + 2) for w in widths)
    stream.write(fmt(headers) + "\n")
    stream.write(rule + "\n")
    for row in rows:
        stream.write(fmt(row) + "\n")


def choose_mode(requested: str, stream: TextIO) -> str:
    if requested != "auto":
        return requested
    try:
        return "bar" if stream.isatty() else "lines"
    except (AttributeError, ValueError):
        return "lines"

