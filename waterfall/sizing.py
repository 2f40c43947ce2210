"""Debt sizing by a target DSCR on base-case CFADS, solved at compile time.

A lender sizes a sculpted loan as the largest balance at the start of amortisation whose
debt service, CFADS_t / target in every period of the sizing tenor, repays it by the end
of the tenor. The plain present value of CFADS / target is that balance only when the
sculpted principal CFADS_t / target - interest_t is never negative. With cash flows that
grow faster than the loan's rate compounds (revenue escalating 8% a year against a 10%
coupon) the early CFADS / target falls short of the interest on the PV-sized balance:
that loan breaches its own sizing DSCR (or defaults) in its first period. Principal is
never negative on a term loan (no redraws), so the debt must be smaller.

The debt capacity is the backward recursion over the tenor periods t = last .. start
(r_t the period's base-case rate, c_t = max(CFADS_t, 0) / target):

    U_last = 0
    U_{t-1} = min((U_t + c_t) / (1 + r_t),    debt service c_t repays down to U_t
                  c_t / r_t)                  interest alone within c_t (principal >= 0)

U_{start-1} is the largest balance that can be carried at DSCR >= target with principal
>= 0 in every period and nothing left at the end of the tenor (the feasible balances at
each date are [0, U_t]: a smaller balance is always serviceable on the same path). Where
the interest bound never binds it is exactly the PV of CFADS / target. A loan of that
size, sculpted by the usual rule (principal = CFADS / target - interest, at most the
balance), keeps DSCR at the target in every period it owes anything and is repaid by the
end of the tenor; where the interest bound binds it is interest-only at the target DSCR
and is repaid early (docs/sizing.md).

`when_short = "capitalise"` drops the interest bound: the capacity is the PV of CFADS /
target, and in a period where CFADS / target is below the interest on the sculpted
balance the interest is capitalised and CFADS / target is paid against the balance (the
balance grows by the unpaid interest; schedules.principal_schedule marks those periods).
Debt service is then CFADS / target in every period, so the loan holds its DSCR and
never defaults in its own base case, and the PV recursion repays it by the tenor's end.

Past the legal maturity the tenor is notional: a loan sized over 18 years that matures
in 7 leaves a balloon at maturity, the balance the sculpted profile reaches then.

The capacity is positively homogeneous in CFADS / target: sculpting at DSCR d instead of
the target scales every U_t by target / d. A gearing cap below the capacity therefore
re-solves in closed form: `when_capped = "resculpt"` sculpts the capped amount at
d = target x capacity / amount, so that the capped loan still amortises over the tenor.
"""
from __future__ import annotations

import math

import numpy as np

from .schedules import balance_at_amortisation


def debt_capacity(cover: np.ndarray, per_rate: np.ndarray, start: int, last: int,
                  capitalise: bool = False) -> float:
    """The largest balance at the start of period `start` (USD) that debt service of at
    most `cover[t]` (CFADS_t / target DSCR, USD per period) repays by the end of period
    `last` with principal never negative, at the per-period rates `per_rate` (module doc).
    `capitalise`: the interest the debt service does not cover is capitalised instead, so
    the balance may grow and the capacity is the plain present value of the cover."""
    capacity = 0.0
    for t in range(last, start - 1, -1):
        c = max(float(cover[t]), 0.0)
        r = float(per_rate[t])
        capacity = (capacity + c) / (1.0 + r)
        if r > 0.0 and not capitalise:
            capacity = min(capacity, c / r)
    return capacity


def sizing_tenor_end(tr, start: int, maturity: int, n: int) -> int:
    """The last period of a sized tranche's tenor: `tenor_periods` from the start of
    amortisation, else the notional maturity, else the legal maturity; within the horizon.
    A tenor past the legal maturity is notional (the balance then is a balloon)."""
    if tr.sizing.tenor_periods is not None:
        return min(n, start + tr.sizing.tenor_periods - 1)
    if tr.notional_maturity_period is not None:
        return min(n, tr.notional_maturity_period)
    return min(n, maturity)


def size_tranches(deal, capex, per_rate, capitalise, maturity, cfads, n, cod, unit_draws):
    """(commitments [K] USD, sculpting DSCR [K]) for the deal's tranches: a given amount,
    or min(max_gearing x cost, capacity / growth), where growth is what one unit drawn
    (`unit_draws`, the funding rule's profile) becomes by the start of amortisation. The
    sculpting DSCR is the amortisation's target, re-solved for a capped tranche that
    says `when_capped = "resculpt"` (NaN where the tranche is not sculpted)."""
    cost = capex.sum()
    amounts = np.zeros(len(deal.tranches))
    sculpt = np.full(len(deal.tranches), math.nan)
    for k, tr in enumerate(deal.tranches):
        am = tr.amortisation
        if am.kind == "sculpted":
            sculpt[k] = am.target_dscr
        if tr.sizing is None:
            amounts[k] = tr.amount
            continue
        growth, start = balance_at_amortisation(tr, unit_draws, capitalise[k], per_rate[k], cod)
        last = sizing_tenor_end(tr, start, int(maturity[k]), n)
        target = tr.sizing.target_dscr
        capacity = debt_capacity(cfads / target, per_rate[k], start, last,
                                 capitalise=tr.sizing.when_short == "capitalise")
        sized = capacity / growth if growth > 0 else 0.0
        amounts[k] = min(tr.sizing.max_gearing * cost, sized)
        if tr.sizing.when_capped == "resculpt" and am.kind == "sculpted" and 0 < amounts[k] < sized:
            sculpt[k] = target * sized / amounts[k]
    return amounts, sculpt
