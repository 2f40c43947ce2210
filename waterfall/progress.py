"""Progress of a long command, wherever it runs: a tqdm bar on a terminal, an ipywidgets bar
in a Jupyter notebook, plain log lines on stderr elsewhere (a pipe, a CI log), or nothing
(`--quiet`, `progress=False`).

Two shapes: `bar` counts units of work (a sweep's points, a portfolio's deals); `Stages`
names the steps of a command (run the waterfall, write the workbook, recalculate it). A
command that ends within a second shows nothing on a terminal; in a log the first line comes
after `PROGRESS_SECONDS` (WATERFALL_PROGRESS_SECONDS overrides it), so short commands stay quiet.
"""
from __future__ import annotations

import os
import sys
import threading
import time

PROGRESS_SECONDS = 5.0   # a log line at most this often where there is no terminal
TERMINAL_DELAY = 1.0     # a terminal bar appears only for work that lasts longer than this


def log_interval(default: float | None = None) -> float:
    """Seconds between log lines: WATERFALL_PROGRESS_SECONDS, else `default`, else 5."""
    env = os.environ.get("WATERFALL_PROGRESS_SECONDS")
    return float(env) if env else (PROGRESS_SECONDS if default is None else default)


def in_notebook() -> bool:
    """True inside a Jupyter kernel that can show widgets (ipywidgets installed)."""
    ipython = sys.modules.get("IPython")
    if ipython is None:
        return False
    shell = ipython.get_ipython()
    if shell is None or type(shell).__name__ != "ZMQInteractiveShell":
        return False
    try:
        import ipywidgets  # noqa: F401
    except ImportError:
        return False
    return True


def where(show: bool | None) -> str | None:
    """Where progress goes: 'notebook', 'terminal', 'log', or None (show False: nowhere).
    show None decides by the surroundings; show True forces a bar (terminal or notebook)."""
    if show is False:
        return None
    if in_notebook():
        return "notebook"
    if show is None and not sys.stderr.isatty():
        return "log"
    return "terminal"


class LogProgress:
    """Progress as plain log lines on stderr: `label: 40 of 4,000 points (1%), 2.0 s,
    20 points/s`, one at most every `interval` seconds, and a last one at the end if any
    was written."""

    def __init__(self, label: str, total: int, unit: str, initial: int = 0,
                 interval: float | None = None):
        self.label, self.unit, self.interval = label, unit, log_interval(interval)
        self.total, self.done, self.initial = total, initial, initial
        self.started = self.last = time.perf_counter()
        self.lines = 0

    def update(self, n: int) -> None:
        self.done += n
        now = time.perf_counter()
        if now - self.last >= self.interval and self.done < self.total:
            self._line(now)

    def _line(self, now: float) -> None:
        self.last, self.lines = now, self.lines + 1
        elapsed = now - self.started
        rate = (self.done - self.initial) / elapsed if elapsed > 0 else float("nan")
        print(f"{self.label}: {self.done:,} of {self.total:,} {self.unit} "
              f"({self.done / max(self.total, 1):.0%}), {elapsed:.1f} s, {rate:,.0f} {self.unit}/s",
              file=sys.stderr, flush=True)

    def close(self) -> None:
        if self.lines and self.done >= self.total:
            self._line(time.perf_counter())


def _tqdm(place: str):
    if place == "notebook":
        from tqdm.notebook import tqdm
    else:
        from tqdm import tqdm
    return tqdm


def bar(label: str, total: int, unit: str, initial: int = 0, show: bool | None = None):
    """A progress counter over `total` units (`update(n)`, `close()`), or None with show False."""
    place = where(show)
    if place is None:
        return None
    if place == "log":
        return LogProgress(label, total, unit, initial)
    return _tqdm(place)(total=total, initial=initial, unit=unit, unit_scale=True, desc=label,
                        file=sys.stderr, delay=TERMINAL_DELAY if place == "terminal" else 0)


class Stages:
    """A command's named steps, shown as they happen. `stages("writing the workbook")` starts
    the next step; use as a context manager so the display always closes, also on Ctrl-C.
    A ticker thread keeps it alive during a long step: on a terminal or in a notebook a bar
    (after the first second) whose clock keeps running, in a log a line every few seconds."""

    def __init__(self, label: str, total: int, show: bool | None = None):
        self.label, self.total, self.step, self.name = label, total, 0, ""
        self.place = where(show)
        self.started = time.perf_counter()
        self._bar, self._stop, self._ticker = None, threading.Event(), None
        if self.place is not None:
            self._ticker = threading.Thread(target=self._tick, daemon=True)
            self._ticker.start()

    def __call__(self, name: str) -> None:
        self.step, self.name = self.step + 1, name
        self._draw()

    def _line(self) -> str:
        return f"{self.label}: {self.name} ({self.step} of {self.total}), {time.perf_counter() - self.started:.1f} s"

    def _draw(self) -> None:
        if self._bar is not None:
            self._bar.n = self.step - 1
            self._bar.set_description_str(self._line(), refresh=True)

    def _tick(self) -> None:
        if self.place == "log":
            interval = max(log_interval(), 0.5)   # 0 means a line per sweep chunk, not a busy loop
            while not self._stop.wait(interval):
                print(self._line(), file=sys.stderr, flush=True)
            return
        if self.place == "terminal" and self._stop.wait(TERMINAL_DELAY):
            return   # done within a second: nothing drawn
        self._bar = _tqdm(self.place)(total=self.total, file=sys.stderr, leave=False, bar_format="{desc}")
        self._draw()
        while not self._stop.wait(0.5):
            self._draw()

    def close(self) -> None:
        self._stop.set()
        if self._ticker is not None:
            self._ticker.join()
        if self._bar is not None:
            self._bar.close()

    def __enter__(self) -> "Stages":
        return self

    def __exit__(self, *exc) -> None:
        self.close()
