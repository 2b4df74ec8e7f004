"""Progress of a run: a text bar in a terminal, a line per 10% in logs, a widget in Jupyter.

``distributed.progress`` and ``as_completed`` do not combine (distributed#2423), and tqdm's dask
callback does not see distributed tasks (tqdm#1230): the terminal bar is drawn here from the
run loop's own completion count; in Jupyter the distributed widget is shown as well.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Sequence
from typing import Any, TextIO

__all__ = ["Progress", "in_notebook"]


def in_notebook() -> bool:
    """True inside a Jupyter kernel."""
    try:
        from IPython import get_ipython
    except ImportError:
        return False
    shell = get_ipython()
    return shell is not None and type(shell).__name__ == "ZMQInteractiveShell"


class Progress:
    """Report ``done / total`` chunks as they finish."""

    def __init__(
        self, total: int, enabled: bool = True, stream: TextIO | None = None, label: str = "valuing"
    ) -> None:
        self.total = max(total, 0)
        self.enabled = enabled and self.total > 0
        self.stream = stream or sys.stderr
        self.label = label
        self.t0 = time.perf_counter()
        self._tty = bool(getattr(self.stream, "isatty", lambda: False)())
        self._last_decile = -1
        self.done = 0

    def show_widget(self, futures: Sequence[Any]) -> None:
        """In Jupyter, also show distributed's progress widget for ``futures``."""
        if self.enabled and in_notebook():
            try:
                from distributed import progress

                progress(list(futures), notebook=True)
            except (ImportError, ValueError, RuntimeError) as exc:  # e.g. no ipywidgets
                self.stream.write(f"(no progress widget: {exc}; using the text bar)\n")

    def update(self, done: int) -> None:
        """Record that ``done`` chunks are finished in total."""
        self.done = done
        if not self.enabled:
            return
        frac = done / self.total
        elapsed = time.perf_counter() - self.t0
        if self._tty:
            width = 30
            bar = "#" * int(frac * width)
            self.stream.write(
                f"\r{self.label} [{bar:<{width}}] {done}/{self.total} chunks {elapsed:6.1f} s"
            )
            if done >= self.total:
                self.stream.write("\n")
            self.stream.flush()
        else:
            decile = int(frac * 10)
            if decile > self._last_decile:
                self._last_decile = decile
                self.stream.write(
                    f"{self.label}: {done}/{self.total} chunks ({frac:.0%}) {elapsed:.1f} s\n"
                )
                self.stream.flush()
