"""Errors a user can act on: each names the file, the field path and the bad value."""
from __future__ import annotations

import datetime as dt
import re


class DealError(Exception):
    """A deal or scenario file that cannot be used.

    ``problems`` is a list of (field_path, message, value) tuples; the string form
    lists them all, one a line, each prefixed by the file name.
    """

    def __init__(self, path: str, problems: list[tuple[str, str, object]]):
        self.path = str(path)
        self.problems = problems
        super().__init__(self._render())

    def _render(self) -> str:
        lines = []
        for field, message, value in self.problems[:MAX_PROBLEMS]:
            field = printable(field, 160)
            where = f"{printable(self.path, 200)}: {field}" if field else printable(self.path, 200)
            shown = "" if value is NO_VALUE else f" (got {_short(value)})"
            # the engine's own messages may list names (the deal's scenarios and the presets):
            # 420 characters; a value from the file is shortened on its own (_short)
            lines.append(f"{where}: {printable(message, 420)}{shown}")
        if len(self.problems) > MAX_PROBLEMS:
            lines.append(f"{printable(self.path, 200)}: ... and {len(self.problems) - MAX_PROBLEMS} more problems")
        return "\n".join(lines)


class _NoValue:
    def __repr__(self) -> str:
        return "<no value>"


NO_VALUE = _NoValue()  # a problem that has no value to show (a missing field, a whole file)


MAX_PROBLEMS = 50  # a file with more problems than this lists the first ones and a count

_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]")


def printable(text: object, limit: int = 240) -> str:
    """`text` safe to show on a terminal or in a workbook: control characters (escape
    sequences, NUL, bidirectional overrides) written as \\xNN / \\uNNNN escapes, and cut
    to `limit` characters with '...' marking the cut."""
    text = _CONTROL.sub(lambda m: m.group().encode("unicode_escape").decode("ascii"), str(text))
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _short(value: object, limit: int = 80) -> str:
    if isinstance(value, (dt.date, dt.datetime)):
        return value.isoformat()
    try:
        text = repr(value) if not isinstance(value, (list, dict, tuple)) or len(value) < 1000 else \
            f"<{type(value).__name__} of {len(value)} items>"
    except RecursionError:
        text = f"<deeply nested {type(value).__name__}>"
    return printable(text, limit)


class UnknownNameError(DealError, KeyError):
    """A name that names nothing known: a scenario not in the deal (nor a preset, nor a
    scenario file), a built-in deal that does not exist. A DealError (bad input, exit
    status 2 at the command line) and, for callers that look names up, a KeyError."""

    def __init__(self, source: str, field: str, message: str, value: object):
        super().__init__(source, [(field, message, value)])

    def __str__(self) -> str:  # KeyError would quote the message
        return self._render()


class OutputError(OSError):
    """An output (a CSV, a workbook, a chart, a sweep table) that cannot be written:
    names the path and the reason."""

    def __init__(self, path, reason: str):
        self.path, self.reason = str(path), reason
        super().__init__(f"cannot write {self.path}: {reason}")

    def __str__(self) -> str:
        return str(self.args[0])


class EngineError(RuntimeError):
    """An inconsistency inside the engine (a bug, not bad input)."""
