"""Refinancing at maturity (reference.refinance) as a block of IF()s per tranche that has
one: at its maturity t (< the last period), with a positive balance, the market open
(Inputs: the scenario's market-open factor > 0 at t) and next period's projected CFADS
>= min DSCR x (balance x new rate x accrual + min(balance / periods, balance)), the
balance goes on from t+1 at max(base + shock, refinancing floor) + refinancing spread,
amortising balance / periods straight-line, maturing at min(t + periods, T); otherwise
the balloon is due. The terms in force (on refinanced terms, maturity, amortisation)
are carried period to period on the Cash flows sheet, so flipping the market-open
factor or the spread in Inputs flows through the waterfall."""
from __future__ import annotations

import numpy as np

from ...program import Program
from ..cells import EQ, IF, MIN, ZERO, X, ref
from .grid import IN_SHEET, Grid, T


def refi_tranches(program: Program) -> list:
    """Tranches that can be refinanced at maturity (a refinancing with amortisation periods)."""
    periods = getattr(program, "refi_periods", np.zeros(program.n_tranches, dtype=np.int64))
    return [k for k in range(program.n_tranches) if int(periods[k]) > 0]


def refi_terms(program: Program, cf: Grid, inputs: Grid, S: dict, k: int, t: int, put) -> dict:
    """Tranche k's terms in period t, as left by any refinancing before t: the original
    rate and schedule, or the refinancing rate and straight-line amortisation."""
    I = lambda key: inputs.ref(key, t, qualified=True)  # noqa: E731
    if t == 0:
        on = put(f"t{k}.on", ZERO)
        mat = put(f"t{k}.mat", S[f"t{k}.maturity_period"])
        amort = put(f"t{k}.amort", ZERO)
    else:
        on = put(f"t{k}.on", cf.ref(f"t{k}.on_after", t - 1))
        mat = put(f"t{k}.mat", cf.ref(f"t{k}.mat_after", t - 1))
        amort = put(f"t{k}.amort", cf.ref(f"t{k}.amort_after", t - 1))
    annual = put(f"t{k}.annual", IF(on, I(f"t{k}.refi_annual"), I(f"t{k}.annual")))
    per_rate = put(f"t{k}.per_rate", IF(on, I(f"t{k}.refi_per_rate"), I(f"t{k}.per_rate")))
    # reference.refinance: amortisation up to t0 + periods, i.e. up to the new maturity
    sched = put(f"t{k}.sched", IF(on, IF(I("period") <= mat, amort, 0), I(f"t{k}.sched")))
    at_mat = put(f"t{k}.at_mat", IF(EQ(I("period"), mat), 1, 0))
    return {"on": on, "mat": mat, "amort": amort, "annual": annual, "per_rate": per_rate,
            "sched": sched, "at_mat": at_mat}


def refinance(program: Program, cf: Grid, inputs: Grid, S: dict, k: int, t: int, b: X, terms: dict, put):
    """reference.refinance as formulas: at maturity t (< the last period), with a positive
    balance b, the market open and next period's projected CFADS >= min DSCR x (b x new
    rate x accrual + min(b / periods, b)), tranche k goes on at the refinancing rate,
    amortising b / periods a period, maturing at min(t + periods, T); else the balloon is due.
    Returns (balloon due flag, the terms after this period)."""
    n = program.n_periods
    I = lambda key: inputs.ref(key, t, qualified=True)  # noqa: E731
    periods = S[f"t{k}.refi_periods"]
    if t < n:
        N = lambda key: inputs.ref(key, t + 1, qualified=True)  # noqa: E731
        service = put(f"t{k}.refi_service", ((b * N(f"t{k}.refi_annual")) * N(f"t{k}.accrual"))
                      + MIN(b / periods, b))
        cfads_next = put(f"t{k}.refi_cfads", N("proj_cfads"))
        refi = put(f"t{k}.refi", IF(terms["at_mat"], IF(b > 0, IF(I("refi_open") > 0, IF(
            cfads_next < S[f"t{k}.refi_min_dscr"] * service, 0, 1), 0), 0), 0))
    else:   # the last period: nothing to refinance into
        put(f"t{k}.refi_service", ZERO)
        put(f"t{k}.refi_cfads", ZERO)
        refi = put(f"t{k}.refi", ZERO)
    put(T(k, "refinanced"), IF(refi, b, 0))
    last = ref(inputs.cells[("period", n)].v, inputs.row_of("period"), inputs.col(n), IN_SHEET, absolute=True)
    on_after = put(f"t{k}.on_after", IF(refi, 1, terms["on"]))
    mat_after = put(f"t{k}.mat_after", IF(refi, MIN(I("period") + periods, last), terms["mat"]))
    amort_after = put(f"t{k}.amort_after", IF(refi, b / periods, terms["amort"]))
    balloon = put(f"t{k}.balloon", IF(refi, 0, terms["at_mat"]))
    return balloon, {"on": on_after, "mat": mat_after, "amort": amort_after}

