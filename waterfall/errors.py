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
            shown = "" if value is _NO_VALUE else f" (got {_short(value)})"
            lines.append(f"{where}: {message}{shown}")
        return "\n".join(lines)


class _NoValue:
    def __repr__(self) -> str:
        return "<no value>"


_NO_VALUE = _NoValue()


def _short(value: object, limit: int = 80) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


class EngineError(RuntimeError):
    """An inconsistency inside the engine (a bug, not bad input)."""
