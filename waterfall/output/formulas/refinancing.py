"""Refinancing at maturity (waterfall/refinancing.py) as a block of IF()s per tranche that
has one: at its maturity t (< the last period), with a balloon above dust, the market open
(Inputs: the scenario's market-open factor > 0 at t) and a new loan > 0 (sized by LTV,
debt yield and DSCR on the Inputs rows of the periods after t), the loan goes on from t+1
at max(base + shock, refinancing floor) + refinancing spread, amortising loan / periods
straight-line, maturing at min(t + periods, T); what the loan leaves of the balloon is
due at t. The terms in force (on refinanced terms, maturity, amortisation)
are carried period to period on the Cash flows sheet, so flipping the market-open
factor or the spread in Inputs flows through the waterfall."""
from __future__ import annotations

import numpy as np

from ...program import Program
from ...ops import DUST
from ..cells import EQ, IF, MAX, MIN, SUM_SEQ, ZERO, X, ref
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


def refi_sizing_keys(program: Program, k: int) -> list:
    """The rows of tranche k's refinancing sizing (layout order)."""
    keys = [f"t{k}.refi_balloon"]
    if program.refi_max_ltv[k] > 0:
        keys.append(f"t{k}.refi_ltv_cap")
    if program.refi_min_dy[k] > 0:
        keys += [f"t{k}.refi_noi", f"t{k}.refi_dy_cap"]
    if program.refi_min_dscr[k] > 0:
        keys.append(f"t{k}.refi_dscr_cap")
    return keys + [f"t{k}.refi_size", f"t{k}.refi_loan", f"t{k}.refi_short"]


def _sizing(program: Program, inputs: Grid, S: dict, k: int, t: int, balloon: X, other: X, put) -> X:
    """refinancing.size as formulas: MIN(balloon, LTV limit, debt-yield limit, DSCR limit),
    each limit less the other debt, 0 below dust. The DSCR limit is MIN over the new loan's
    straight-line periods i = 1..min(N, T - t) of CFADS(t+i) x N / (min DSCR x (1 + (N - i + 1)
    x its rate for the period))."""
    n, ppy = program.n_periods, 12 // program.months_per_period
    F = lambda key, u: inputs.ref(key, u, qualified=True)  # noqa: E731
    limits = [balloon]
    if program.refi_max_ltv[k] > 0:
        limits.append(put(f"t{k}.refi_ltv_cap", S[f"t{k}.refi_max_ltv"] * F("sale_value", t) - other))
    if program.refi_min_dy[k] > 0:
        w = min(ppy, n - t)
        noi = put(f"t{k}.refi_noi", SUM_SEQ(F("proj_cfads", u) for u in range(t + 1, t + w + 1)) * ppy / w)
        limits.append(put(f"t{k}.refi_dy_cap", noi / S[f"t{k}.refi_min_dy"] - other))
    if program.refi_min_dscr[k] > 0:
        big_n, dscr = S[f"t{k}.refi_periods"], S[f"t{k}.refi_min_dscr"]
        terms = [F("proj_cfads", t + i) * big_n / (dscr * (1 + (big_n - (i - 1)) * F(f"t{k}.refi_per_rate", t + i)))
                 for i in range(1, min(int(program.refi_periods[k]), n - t) + 1)]
        limits.append(put(f"t{k}.refi_dscr_cap", MIN(*terms) - other))
    loan = put(f"t{k}.refi_size", MIN(*limits))
    return put(f"t{k}.refi_loan", IF(loan > DUST, loan, 0))


def refinance(program: Program, cf: Grid, inputs: Grid, S: dict, k: int, t: int, b: X, terms: dict, put,
              scheduled: X = None, other: X = None):
    """refinancing.refinance as formulas: at maturity t (< the last period) the balloon
    (balance b less the scheduled principal) is refinanced by the new loan (_sizing) if it
    is more than dust, the market is open and the loan is > 0; tranche k then goes on at
    the refinancing rate, amortising loan / periods a period, maturing at min(t + periods, T).
    What the new loan leaves of the balloon (the shortfall) is due now with the schedule.
    Returns (maturity flag, the terms after this period, the shortfall)."""
    n = program.n_periods
    I = lambda key: inputs.ref(key, t, qualified=True)  # noqa: E731
    periods = S[f"t{k}.refi_periods"]
    if t < n:
        balloon = put(f"t{k}.refi_balloon", MAX(0, b - scheduled))
        loan = _sizing(program, inputs, S, k, t, balloon, other, put)
        refi = put(f"t{k}.refi", IF(terms["at_mat"], IF(balloon > DUST, IF(I("refi_open") > 0, IF(
            loan > 0, 1, 0), 0), 0), 0))
        new = put(T(k, "refinanced"), IF(refi, loan, 0))
        short = put(f"t{k}.refi_short", IF(terms["at_mat"], balloon - new, 0))
    else:   # the last period: nothing to refinance into
        for key in refi_sizing_keys(program, k):
            put(key, ZERO)
        refi = put(f"t{k}.refi", ZERO)
        new = put(T(k, "refinanced"), ZERO)
        short = None
    last = ref(inputs.cells[("period", n)].v, inputs.row_of("period"), inputs.col(n), IN_SHEET, absolute=True)
    on_after = put(f"t{k}.on_after", IF(refi, 1, terms["on"]))
    mat_after = put(f"t{k}.mat_after", IF(refi, MIN(I("period") + periods, last), terms["mat"]))
    amort_after = put(f"t{k}.amort_after", IF(refi, new / periods, terms["amort"]))
    return terms["at_mat"], {"on": on_after, "mat": mat_after, "amort": amort_after}, short


def refi_cures_possible(program: Program) -> bool:
    """A refinancing shortfall can be cured: a tranche with refinancing terms, cures allowed
    and a period they may be made (refinancing.cure)."""
    return bool(refi_tranches(program)) and int(program.cure_max) > 0 and int(program.cure_until) >= 0


def refi_cure(c, acc, cash: X, cause: X) -> X:
    """refinancing.cure as formulas, after the covenants' cure: when the period's
    refinancing shortfalls exceed dust, the lenders are owed and nothing else accelerates,
    the sponsors pay in what the paydown needs beyond the cash left after fees, hedge
    settlements owed, cash interest and scheduled principal, if a cure is left, in time
    and within the cap. Writes the equity cure line (covenant cure + this) and the cures
    made so far; returns the cash for the steps."""
    from .inputs import cures_possible
    program, S = c.program, c.S
    count = c.ref("cures_dscr") if cures_possible(program) else (c.P("cures_used") if refi_cures_possible(program)
                                                                  else None)
    if not refi_cures_possible(program):
        if count is not None:
            c.put("cures_used", count)
        c.put("L:equity_cure", c.ref("dscr_cure"))
        return cash
    if acc.refi_short:
        total = c.put("refi_short_total", SUM_SEQ(acc.refi_short))
        free = cash
        for f in range(program.n_fees):
            free = free - c.I(f"f{f}.due")
        for due in acc.hedge_due:
            free = free - MAX(due, 0)
        for k in range(program.n_tranches):
            free = free - (acc.int_due[k] + acc.scheduled[k])
        free = c.put("refi_free", free)
        need = c.put("refi_need", total - MAX(free, 0))
        ok = IF(total > DUST, IF(c.ref("lenders"), IF(cause > 0, 0, 1), 0), 0)
        ok = IF(ok, IF(need > DUST, IF(count < S["cure_max"], IF(c.I("period") <= S["cure_until"], 1, 0), 0), 0), 0)
        if "cure_max_amount" in S:
            ok = IF(need > S["cure_max_amount"], 0, ok)
        ok = c.put("refi_cure_ok", ok)
        cure = c.put("refi_cure", IF(ok, need, 0))
    else:   # the last period: no refinancing
        for key in REFI_CURE_KEYS:
            c.put(key, ZERO)
        ok = cure = ZERO
    c.put("cures_used", count + ok)
    c.put("L:equity_cure", c.ref("dscr_cure") + cure)
    return cash + cure


REFI_CURE_KEYS = ("refi_short_total", "refi_free", "refi_need", "refi_cure_ok", "refi_cure")
