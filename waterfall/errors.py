"""Errors a user can act on: each names the file, the field path and the bad value."""
from __future__ import annotations


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
        for field, message, value in self.problems:
            where = f"{self.path}: {field}" if field else self.path
            shown = "" if value is NO_VALUE else f" (got {_short(value)})"
            lines.append(f"{where}: {message}{shown}")
        return "\n".join(lines)


class _NoValue:
    def __repr__(self) -> str:
        return "<no value>"


NO_VALUE = _NoValue()  # a problem that has no value to show (a missing field, a whole file)


def _short(value: object, limit: int = 80) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


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
