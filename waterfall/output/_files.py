"""Safe text for cells, and the atomic writer the workbook and chart writers share."""
from __future__ import annotations

from ..files import atomic_path  # noqa: F401  (re-exported for the writers here)

FORMULA_LEADS = ("=", "+", "-", "@", "\t", "\r", "\n")


def needs_escape(text: str) -> bool:
    """Would a spreadsheet read this text as a formula if it were typed in?"""
    return str(text).lstrip(" ").startswith(FORMULA_LEADS)
