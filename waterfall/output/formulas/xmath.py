"""Spreadsheet operators the formulas need beyond cells.py, as cell expressions."""
from __future__ import annotations

from ...level_payment import TIE, money
from ..cells import X, const, lift


def POW(a, b) -> X:
    """a ^ b, as Python's float ** (both IEEE pow)."""
    a, b = lift(a), lift(b)
    return X(float(a.v) ** b.v, f"{a.w()}^{b.w()}", atom=False)


def ROUND_TO(a, inc) -> X:
    """a to the nearest multiple of inc, half away from zero: ROUND(a/inc + SIGN(a) x TIE,
    0) x inc, valued as level_payment.money (the engines' rounding to the cent)."""
    a, inc = lift(a), lift(inc)
    q = f"{a.w()}/{inc.w()}"
    return X(money(float(a.v), float(inc.v)), f"ROUND({q}+SIGN({q})*{const(TIE).f},0)*{inc.w()}", atom=False)
