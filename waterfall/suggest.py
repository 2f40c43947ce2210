"""'Did you mean ...?' for names a user types: deal names, scenarios, presets, flags,
subcommands (difflib's close matches, best first)."""
from __future__ import annotations

import difflib
from typing import Iterable


def close_matches(word: str, candidates: Iterable[str], n: int = 3, cutoff: float = 0.6) -> list[str]:
    """The candidates closest to `word` (case ignored), best first; [] if none is close."""
    candidates = [str(c) for c in candidates]
    by_lower: dict[str, str] = {}
    for c in candidates:
        by_lower.setdefault(c.lower(), c)
    found = difflib.get_close_matches(str(word).lower(), list(by_lower), n=n, cutoff=cutoff)
    # a prefix ("tenant-strat" for "tenant-strategic-default") counts even when it is short
    prefixed = [c for c in by_lower if len(str(word)) >= 3 and c.startswith(str(word).lower()) and c not in found]
    return [by_lower[c] for c in (found + prefixed)[:n]]


def did_you_mean(word: str, candidates: Iterable[str], n: int = 3) -> str:
    """'did you mean 'x'?' (or 'did you mean 'x' or 'y'?'), or '' when nothing is close."""
    found = close_matches(word, candidates, n=n)
    if not found:
        return ""
    return "did you mean " + " or ".join(f"'{f}'" for f in found) + "?"
