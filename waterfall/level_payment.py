"""Level payments, computed (an annuity) or stated (e.g. 3,125.00 a month with the rest a
balloon at maturity), and the servicer's rounding of each period's interest and of the
payment to the cent (docs/conventions.md). Amounts are in the deal's units."""
from __future__ import annotations

import math

import numpy as np

from .ops import ROUND_TIE as TIE   # a quotient within TIE below a half rounds up: a
# decimal half-cent stored in binary just below it (2,496.875) rounds as a servicer's
# decimal arithmetic rounds it (to 2,496.88); the workbook's ROUND adds the same

_SCALE = (("billion", 1e9), ("million", 1e6), ("thousand", 1e3))


def cent(units: str) -> float:
    """0.01 of the currency in the deal's units: 0.01 in 'USD', 1e-8 in 'USD millions'."""
    words = units.lower()
    scale = next((s for word, s in _SCALE if word in words), 1.0)
    return 0.01 / scale


def increment(round_to, units: str) -> float:
    """The rounding increment in deal units; 0.0 for no rounding."""
    if round_to is None:
        return 0.0
    return cent(units) if round_to == "cent" else float(round_to)


def money(x: float, inc: float) -> float:
    """x to the nearest multiple of inc, half away from zero (ROUND); x itself if inc is 0."""
    if inc <= 0.0:
        return x
    q = x / inc
    r = math.floor(abs(q) + 0.5 + TIE)
    return (r if q >= 0.0 else -r) * inc


def annuity(principal: float, start: int, periods: int, per_rate: np.ndarray) -> float:
    """The level payment that repays `principal` over `periods` from `start` at the
    per-period rates (the last known rate past the horizon)."""
    n = len(per_rate) - 1
    factors = np.cumprod([1.0 / (1.0 + per_rate[min(t, n)]) for t in range(start, start + periods)])
    return principal / factors.sum() if factors.sum() > 0 else 0.0


def level_schedule(am, principal: float, start: int, last: int, per_rate: np.ndarray, inc: float) -> np.ndarray:
    """Scheduled principal of a level payment: payment - interest each period from
    `start` (interest rounded by `inc`), never more than the balance, to the end of
    `periods` (a stated payment without periods: to `last`, the maturity, whose balloon
    the waterfall pays). The payment is the stated one, else the annuity rounded by inc."""
    n = len(per_rate) - 1
    out = np.zeros(n + 1)
    payment = am.payment if am.payment is not None else money(annuity(principal, start, am.periods, per_rate), inc)
    end = last if am.periods is None else min(start + am.periods - 1, last)
    balance = principal
    for t in range(start, end + 1):
        interest = money(balance * per_rate[t], inc)
        out[t] = min(balance, max(0.0, payment - interest))
        balance -= out[t]
    return out


def stated_payment_problems(am, principal: float, start: int, per_rate: np.ndarray, inc: float,
                            field: str) -> list[tuple[str, str, object]]:
    """A stated payment below the first amortising period's base-case interest never
    amortises: the balance would grow (negative amortisation)."""
    if am.kind != "level_payment" or am.payment is None or principal <= 0 or start >= len(per_rate):
        return []
    interest = money(principal * per_rate[start], inc)
    if am.payment < interest:
        return [(field, f"the stated payment is below the first period's interest {interest:.10g} "
                 f"(period {start}, on {principal:.10g})", am.payment)]
    return []
