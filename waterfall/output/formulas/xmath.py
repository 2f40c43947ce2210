"""A spreadsheet operator the formulas need beyond cells.py, as a cell expression."""
from __future__ import annotations

from ..cells import X, lift


def POW(a, b) -> X:
    """a ^ b, as Python's float ** (both IEEE pow)."""
    a, b = lift(a), lift(b)
    return X(float(a.v) ** b.v, f"{a.w()}^{b.w()}", atom=False)
