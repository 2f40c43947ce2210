"""Safe text for cells: what a spreadsheet would read as a formula if it were typed in."""
from __future__ import annotations

FORMULA_LEADS = ("=", "+", "-", "@", "\t", "\r", "\n")


def needs_escape(text: str) -> bool:
    """Would a spreadsheet read this text as a formula if it were typed in?"""
    return str(text).lstrip(" ").startswith(FORMULA_LEADS)
