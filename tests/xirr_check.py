"""An XIRR checked against pyxirr.xirr, and where the two differ by more than 1e-10,
against a 40-digit decimal solve: pyxirr stops its iteration early on some flows
(9e-10 off on the tie-out senior's, 2e-10 on a -91% deep loss), so its estimate is
then refined independently and must converge to ours."""
from __future__ import annotations

import decimal

import pyxirr


def decimal_xirr(amounts, days, start) -> float:
    """Newton's method on sum a_i (1 + r)^(-days_i / 365) in 40-digit decimals from `start`."""
    with decimal.localcontext() as ctx:
        ctx.prec = 40
        a = [decimal.Decimal(float(x)) for x in amounts]
        e = [decimal.Decimal(int(d)) / 365 for d in days]
        r = decimal.Decimal(start)
        for _ in range(60):
            g = 1 + r
            f = sum(x * g ** -t for x, t in zip(a, e))
            slope = sum(-t * x * g ** (-t - 1) for x, t in zip(a, e))
            step = f / slope
            r -= step
            if abs(step) < decimal.Decimal(10) ** -30:
                break
        return float(r)


def assert_is_pyxirr(ours: float, dates, amounts) -> None:
    theirs = pyxirr.xirr(dates, amounts)
    assert theirs is not None
    if abs(ours - theirs) <= 1e-10 * max(1.0, abs(theirs)):
        return
    assert abs(ours - theirs) <= 1e-8 * max(1.0, abs(theirs)), (ours, theirs)
    days = [(d - dates[0]).days for d in dates]
    assert abs(ours - decimal_xirr(amounts, days, theirs)) <= 1e-13 * max(1.0, abs(ours)), (ours, theirs)
