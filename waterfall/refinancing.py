"""Refinancing at maturity as a refinancing lender sizes it (docs/credit.md, "Refinancing";
issue 12.2). The reference interpreter's rule; the kernel (ext/_kernel.pyx, `refi_size`)
and the workbook (output/formulas/refinancing.py) restate it operation for operation.

At a tranche's maturity t (before the last period) with refinancing terms, the amount to
refinance is the balloon: the balance less period t's scheduled principal, USD. With the
market open, the new loan is the lowest of

- the balloon;
- LTV: `max_ltv` x the appraised value at t (the gross sale value of the enforcement
  valuation, workout.sale_values) less the SPV's other debt;
- debt yield: NOI / `min_debt_yield` less the other debt, NOI being the projected CFADS of
  the 12 months after t (annualised when fewer remain), as balloons.py reads it;
- DSCR: the most debt the projected CFADS carries at `min_dscr` in every period of the new
  loan's straight-line amortisation over `amort_periods` (up to the horizon), at its own
  rate, less the other debt;

never below zero. Every test sizes the SPV's whole debt, as a refinancing lender reads the
capital structure the asset carries; the maturing tranche gets what the other tranches'
balances leave. A test whose parameter is 0 is not applied. What the new loan leaves of the
balloon (the shortfall) is due in period t with the scheduled principal: the waterfall pays
it from the period's cash (reserves and the lock-up account are released into it), the
sponsors may cure it (`cure`), and any part unpaid is an event of default, as an unpaid
balloon is.
"""
from __future__ import annotations

from . import ops

NO_TEST = 0.0


def new_rates(program, k: int, t: int, base, factor) -> list:
    """The new loan's annual rate for u = t+1..T: max(0, max(base + shock, floor) + spread)."""
    return [max(0.0, max(base[u] + factor[ops.CH_RATE_ADD, u], program.refi_floor[k]) + program.refi_spread[k])
            for u in range(t + 1, program.n_periods + 1)]


def noi(program, t: int, projected_cfads) -> float:
    """Projected CFADS of the 12 months after t, annualised when fewer than 12 remain, USD a year."""
    n, ppy = program.n_periods, 12 // program.months_per_period
    w = min(ppy, n - t)
    total = 0.0
    for u in range(t + 1, t + w + 1):
        total += projected_cfads[u]
    return total * ppy / w


def dscr_capacity(program, k: int, t: int, per_rate_new, projected_cfads) -> float:
    """The most debt whose straight-line debt service over `amort_periods` N at the new
    loan's rate keeps the projected CFADS at `min_dscr` x it in every period up to the
    horizon: min over i = 1..min(N, T - t) of CFADS(t+i) x N / (min_dscr x (1 + (N - i + 1) x r(t+i))),
    r the new loan's rate for the period (a unit loan's debt service in period i is
    (1 + (N - i + 1) r) / N: 1/N of principal and interest on (N - i + 1)/N outstanding)."""
    n, big_n = program.n_periods, int(program.refi_periods[k])
    dscr = program.refi_min_dscr[k]
    best = float("inf")
    for i in range(1, min(big_n, n - t) + 1):
        r = per_rate_new[i - 1]
        cap = projected_cfads[t + i] * big_n / (dscr * (1.0 + (big_n - i + 1) * r))
        if cap < best:
            best = cap
    return best


def size(program, k: int, t: int, balloon: float, other_debt: float, per_rate_new, projected_cfads,
         value: float) -> float:
    """The new loan (module doc): min(balloon, the LTV, debt-yield and DSCR limits less the
    other debt), at least 0; 0 when the result is dust."""
    loan = balloon
    if program.refi_max_ltv[k] > NO_TEST:
        loan = min(loan, program.refi_max_ltv[k] * value - other_debt)
    if program.refi_min_dy[k] > NO_TEST:
        loan = min(loan, noi(program, t, projected_cfads) / program.refi_min_dy[k] - other_debt)
    if program.refi_min_dscr[k] > NO_TEST:
        loan = min(loan, dscr_capacity(program, k, t, per_rate_new, projected_cfads) - other_debt)
    return loan if loan > ops.DUST else 0.0


def refinance(program, k: int, t: int, balance: float, scheduled: float, other_debt: float, base, factor,
              annual, per_rate, sched, maturity, projected_cfads, value: float) -> tuple:
    """Refinance tranche k at its maturity t (t < T, refinancing terms): returns (new loan,
    shortfall), USD. On a new loan > 0 its rates, straight-line schedule and maturity
    (min(t + N, T)) are written from t+1 on (in place)."""
    n, periods = program.n_periods, int(program.refi_periods[k])
    balloon = max(0.0, balance - scheduled)
    if balloon <= ops.DUST or factor[ops.CH_REFI, t] <= 0.0:
        return 0.0, balloon
    rates = new_rates(program, k, t, base, factor)
    per_new = [rates[i] * program.accrual[k, u] for i, u in enumerate(range(t + 1, n + 1))]
    loan = size(program, k, t, balloon, other_debt, per_new, projected_cfads, value)
    if loan <= 0.0:
        return 0.0, balloon
    amortisation = loan / periods
    for i, u in enumerate(range(t + 1, n + 1)):
        annual[k, u] = rates[i]
        per_rate[k, u] = per_new[i]
        sched[k, u] = amortisation if u <= t + periods else 0.0
    maturity[k] = min(t + periods, n)
    return loan, balloon - loan


def cure(program, st, t: int, cash: float, int_due, scheduled, hedge_due, shortfall: float) -> float:
    """The sponsors' equity cure of a refinancing shortfall: the cash the paydown needs
    beyond what the period leaves after its fees, hedge settlements owed, cash interest
    and scheduled principal, paid in on the deal's equity-cure terms (a cure left, in
    time, within the per-cure cap; it counts as one of them). All or nothing: a cure that
    would not meet the whole paydown is not made. Returns the cure, USD."""
    free = cash
    for f in range(program.n_fees):
        free -= program.fee_due[f, t]
    for due in hedge_due:
        free -= max(due, 0.0)
    for k in range(program.n_tranches):
        free -= int_due[k] + scheduled[k]
    need = shortfall - max(free, 0.0)
    if need <= ops.DUST or st.cures >= program.cure_max or t > program.cure_until:
        return 0.0
    if program.cure_max_amount >= 0.0 and need > program.cure_max_amount:
        return 0.0
    st.cures += 1
    return need
