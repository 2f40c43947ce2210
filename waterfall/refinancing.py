"""Refinancing at maturity as a refinancing lender sizes it (docs/credit.md, "Refinancing";
issue 12.2). The reference interpreter's rule; the kernel (ext/_kernel.pyx, `refi_size`)
and the workbook (output/formulas/refinancing.py) restate it operation for operation.

At a tranche's maturity t (before the last period) with refinancing terms, the amount to
refinance is the balloon: the balance less period t's scheduled principal, USD. With the
market open, the new loan is the lowest of

- the balloon;
- LTV: `max_ltv` x the appraised value at t on the rent in place (`appraisal`: the
  enforcement valuation's income approach on the in-place CFADS) less the SPV's other debt;
- debt yield: NOI / `min_debt_yield` less the other debt, NOI being the in-place CFADS of
  the 12 months after t (annualised when fewer remain);
- DSCR: the most the new loan can be while the in-place CFADS covers `min_dscr` x the
  SPV's whole debt service in every period of its straight-line amortisation over
  `amort_periods` (up to the horizon): its own service at its rate plus the other
  tranches' debt service of the next period, held flat (other_service);

never below zero. The in-place CFADS of a later period u is the lease schedule's rent for
u at the share of the scheduled rent the tenant pays at t (its payment status now), less
the base-case costs for u (`in_place`): the lender sizes on the rent roll as it stands,
not on the scenario's future path. Every test is on the SPV's whole debt, as a refinancing lender reads the
capital structure the asset carries; the maturing tranche gets what the other tranches
leave. A test whose parameter is 0 is not applied. What the new loan leaves of the
balloon (the shortfall) is due in period t with the scheduled principal: the waterfall pays
it from the period's cash (reserves and the lock-up account are released into it), the
sponsors may cure it (`cure`), and any part unpaid is an event of default, as an unpaid
balloon is.
"""
from __future__ import annotations

from . import ops
from .workout import capitalised_value

NO_TEST = 0.0


STRAIGHT_LINE, LEVEL_PAYMENT, SCULPTED = 0, 1, 2   # program.refi_profile


def new_rates(program, k: int, t: int, base, factor) -> list:
    """The new loan's annual rate for u = t+1..T: floating max(0, max(base + shock, floor)
    + spread + add-on), fixed max(0, fixed rate + add-on); the add-on is the scenario's
    refinancing margin at the signing date t, kept for the loan's life."""
    add = factor[ops.CH_REFI_SPREAD, t]
    if program.refi_rate_kind[k] == 1:
        return [max(0.0, program.refi_fixed[k] + add) for _u in range(t + 1, program.n_periods + 1)]
    return [max(0.0, max(base[u] + factor[ops.CH_RATE_ADD, u], program.refi_floor[k]) + program.refi_spread[k] + add)
            for u in range(t + 1, program.n_periods + 1)]


def level_unit(program, k: int, r1: float, i: int) -> tuple:
    """A unit level-payment loan over N periods at the first period's rate r1: (its balance
    before period i, its principal in period i) = ((g^N - g^(i-1)) / (g^N - 1),
    r1 g^(i-1) / (g^N - 1)), g = 1 + r1; at r1 <= ops.LEVEL_ZERO_RATE straight line
    ((N - i + 1) / N, 1 / N)."""
    big_n = int(program.refi_periods[k])
    if r1 > ops.LEVEL_ZERO_RATE:
        g = 1.0 + r1
        q = g ** big_n - 1.0
        return (g ** big_n - g ** (i - 1)) / q, r1 * g ** (i - 1) / q
    return (big_n - i + 1) / big_n, 1.0 / big_n


def sculpted(program, k: int, t: int, per_rate_new, factor, others: float) -> tuple:
    """The sculpted loan at t: debt service D_i = max(in-place CFADS(t+i) / min_dscr - others,
    0) for i = 1..M = min(N, T - t); the most it carries is L = sum D_i / prod_{j<=i}(1 +
    r_j) (Horner, from the last period back); its principal P_i = max(min(D_i - r_i B_i,
    B_i), 0) on the balance B_i (B_1 = L). Returns (L, [P_1..P_M])."""
    m = min(int(program.refi_periods[k]), program.n_periods - t)
    dscr = program.refi_min_dscr[k]
    service = [max(in_place(program, t, t + i, factor) / dscr - others, 0.0) for i in range(1, m + 1)]
    most = 0.0
    for i in range(m, 0, -1):
        most = (service[i - 1] + most) / (1.0 + per_rate_new[i - 1])
    left, principal = most, []
    for i in range(1, m + 1):
        pay = max(min(service[i - 1] - per_rate_new[i - 1] * left, left), 0.0)
        principal.append(pay)
        left -= pay
    return most, principal


def in_place(program, t: int, u: int, factor) -> float:
    """Period u's CFADS as the rent in place at the test date t shows it, USD: the lease
    schedule's rent for u at the share of the scheduled rent the tenant pays in t (its
    payment status now: 0 for a tenant that is not paying), less the deal's base-case
    operating costs for u. No later stress or recovery of the scenario is foreseen."""
    return program.base_rent[u] * factor[ops.CH_RENT, t] - program.opex[u]


def noi(program, t: int, factor) -> float:
    """NOI on the rent in place at t: the in-place CFADS of the 12 months after t,
    annualised when fewer than 12 remain, USD a year."""
    n, ppy = program.n_periods, 12 // program.months_per_period
    w = min(ppy, n - t)
    total = 0.0
    for u in range(t + 1, t + w + 1):
        total += in_place(program, t, u, factor)
    return total * ppy / w


def appraisal(program, t: int, factor) -> float:
    """The appraised value a refinancing lender reads at t, USD: the valuation of the
    enforcement issue (workout.sale_values) with its income approach on the rent in
    place: the in-place share x the PV of the scheduled rent after t, less the PV of the
    base-case costs, plus the PV of the residual at the horizon (the scenario's market
    there), all at the appraisal rate; dark (no rent in place) the market rent
    capitalised after re-letting; at least the floor share of DRC; DRC before COD or on
    replacement-cost valuation."""
    n = program.n_periods
    drc = 0.0
    for c in range(len(ops.COMPONENTS)):
        drc += program.asset_value[c, t] * factor[ops.CH_VAL_LAND + c, t]
    if program.val_method == 0 or t < program.cod_period:
        return drc
    d = program.val_discount
    if program.base_rent[t] * factor[ops.CH_RENT, t] > 0.0:
        if program.exit_value_share > 0.0:
            horizon = 0.0
            for c in range(len(ops.COMPONENTS)):
                horizon += program.asset_value[c, n] * factor[ops.CH_VAL_LAND + c, n]
            residual = program.exit_value_share * horizon
        else:
            market = program.market_rent[n] * factor[ops.CH_MARKET_RENT, n]
            residual = capitalised_value(market - program.opex[n] * factor[ops.CH_OPEX, n] * program.periods_a_year[n],
                                    program.exit_cap + factor[ops.CH_CAP_ADD, n])
        rent = cost = 0.0
        for u in range(n - 1, t - 1, -1):
            rent = (program.base_rent[u + 1] + rent) * d
            cost = (program.opex[u + 1] + cost) * d
            residual = residual * d
        value = factor[ops.CH_RENT, t] * rent - cost + residual
    else:
        market = program.market_rent[t] * factor[ops.CH_MARKET_RENT, t]
        value = (capitalised_value(market - program.opex[t] * factor[ops.CH_OPEX, t] * program.periods_a_year[t],
                              program.exit_cap + factor[ops.CH_CAP_ADD, t]) * d ** program.relet_periods
                 - program.reletting_cost * market)
    return max(value, program.replacement_floor * drc, 0.0)


def other_service(program, k: int, t: int, balance, per_rate, sched, maturity) -> float:
    """The other tranches' debt service of period t+1 on their terms as they stand (cash
    interest unless capitalised, scheduled principal; none past a maturity), on their
    balances as they stand at tranche k's refinancing: what the SPV's CFADS must also
    cover over the new loan's life (held flat), USD."""
    total = 0.0
    u = t + 1
    for j in range(program.n_tranches):
        if j == k or u > maturity[j]:
            continue
        interest = 0.0 if program.capitalise[j, u] else balance[j] * per_rate[j, u]
        total += interest + min(sched[j, u], balance[j])
    return total


def dscr_capacity(program, k: int, t: int, per_rate_new, factor, others: float) -> float:
    """The most the new loan can be while the SPV's whole debt service, its straight-line
    service over `amort_periods` N at its own rate plus the other tranches' (`others`,
    held flat), keeps the in-place CFADS at `min_dscr` x it in every period up to the
    horizon: min over i = 1..min(N, T - t) of (CFADS(t+i) / min_dscr - others) x N /
    (1 + (N - i + 1) x r(t+i)), r the new loan's rate for the period (a unit loan's debt
    service in period i is (1 + (N - i + 1) r) / N: 1/N of principal and interest on
    (N - i + 1)/N outstanding)."""
    n, big_n = program.n_periods, int(program.refi_periods[k])
    dscr = program.refi_min_dscr[k]
    if program.refi_profile[k] == SCULPTED:
        return sculpted(program, k, t, per_rate_new, factor, others)[0]
    best = float("inf")
    for i in range(1, min(big_n, n - t) + 1):
        r = per_rate_new[i - 1]
        if program.refi_profile[k] == LEVEL_PAYMENT:
            before, principal = level_unit(program, k, per_rate_new[0], i)
            cap = (in_place(program, t, t + i, factor) / dscr - others) / (before * r + principal)
        else:
            cap = (in_place(program, t, t + i, factor) / dscr - others) * big_n / (1.0 + (big_n - i + 1) * r)
        if cap < best:
            best = cap
    return best


def size(program, k: int, t: int, balloon: float, other_debt: float, per_rate_new, factor,
         value: float, others: float) -> float:
    """The new loan (module doc): min(balloon, the LTV and debt-yield limits less the other
    debt, the DSCR limit beside the others' debt service), 0 when the result is dust."""
    loan = balloon
    if program.refi_max_ltv[k] > NO_TEST:
        loan = min(loan, program.refi_max_ltv[k] * value - other_debt)
    if program.refi_min_dy[k] > NO_TEST:
        loan = min(loan, noi(program, t, factor) / program.refi_min_dy[k] - other_debt)
    if program.refi_min_dscr[k] > NO_TEST:
        loan = min(loan, dscr_capacity(program, k, t, per_rate_new, factor, others))
    return loan if loan > ops.DUST else 0.0


def new_loan(program, k: int, t: int, balloon: float, other_debt: float, base, factor,
             value: float, others: float) -> tuple:
    """The refinancing on offer at tranche k's maturity t: (new loan, its annual and
    per-period rates for t+1..T), (0, None) where none can be made (no refinancing terms,
    no balloon, the market closed, or a loan sized at 0)."""
    n = program.n_periods
    if program.refi_periods[k] <= 0 or balloon <= ops.DUST or factor[ops.CH_REFI, t] <= 0.0:
        return 0.0, None
    rates = new_rates(program, k, t, base, factor)
    per_new = [rates[i] * program.accrual[k, u] for i, u in enumerate(range(t + 1, n + 1))]
    loan = size(program, k, t, balloon, other_debt, per_new, factor, value, others)
    if loan <= 0.0:
        return 0.0, None
    shape = sculpted(program, k, t, per_new, factor, others) if program.refi_profile[k] == SCULPTED else None
    return loan, (rates, per_new, shape)


def extension_paydown(program, k: int, t: int, balloon: float, other_debt: float, factor,
                      value: float, last_cfads: float, last_debt_service: float, last_rate: float) -> float:
    """What tranche k must pay down at maturity t for its extension tests to pass, USD; -1
    where it cannot extend (the paydown would exceed the balloon). The DSCR test reads the
    period before (CFADS / debt service, before any cure); a paydown X restores it on that
    basis, the debt service as it would have been on the balance less X: X less interest at
    the loan's rate of that period `last_rate` (per period; 0 where its interest was
    capitalised or it is not covenant debt), its instalments unchanged (a prepayment goes
    to the balloon), so X = (debt service - CFADS / min_dscr) / last_rate. The LTV and
    debt-yield limits are those of `size`: max LTV x value, NOI / min debt yield, less the
    other debt. The paydown is the largest the tests need."""
    pay = 0.0
    if program.ext_min_dscr[k] > NO_TEST and last_cfads < program.ext_min_dscr[k] * last_debt_service:
        if not last_rate > 0.0:
            return -1.0
        pay = (last_debt_service - last_cfads / program.ext_min_dscr[k]) / last_rate
    if program.ext_max_ltv[k] > NO_TEST:
        pay = max(pay, balloon - (program.ext_max_ltv[k] * value - other_debt))
    if program.ext_min_dy[k] > NO_TEST:
        pay = max(pay, balloon - (noi(program, t, factor) / program.ext_min_dy[k] - other_debt))
    if pay > balloon:
        return -1.0
    return pay if pay > ops.DUST else 0.0


def tested_rate(program, k: int, t: int, per_rate) -> float:
    """Tranche k's rate for period t-1 as its extension DSCR test at t counts it: the rate
    of its cash interest (per period) if it is covenant debt paying cash interest then,
    else 0 (a paydown of it would not lower the tested debt service)."""
    if t < 1 or not program.dscr_mask[k] or program.capitalise[k, t - 1]:
        return 0.0
    return float(per_rate[k, t - 1])


def at_maturity(program, st, k: int, t: int, balance: float, scheduled: float, other_debt: float) -> tuple:
    """Tranche k at its maturity t < T with refinancing or extension terms: returns (new
    loan, shortfall due now, extension fee due now), USD. An option left whose tests pass
    (after a paydown no larger than the refinancing's shortfall) extends the loan (its
    maturity, margin); else a refinancing > 0 rewrites its terms; else the balloon is due."""
    balloon = max(0.0, balance - scheduled)
    if balloon <= ops.DUST:
        return 0.0, balloon, 0.0
    value = appraisal(program, t, st.factor)
    others = other_service(program, k, t, st.balance, st.per_rate, st.sched, st.maturity)
    loan, terms = new_loan(program, k, t, balloon, other_debt, st.base, st.factor, value, others)
    short = balloon - loan
    if st.ext_left[k] > 0:
        last = st.ledger[t - 1] if t > 0 else None
        pay = extension_paydown(program, k, t, balloon, other_debt, st.factor, value,
                                0.0 if last is None else last[ops.G["cfads"]],
                                0.0 if last is None else last[ops.G["debt_service"]],
                                tested_rate(program, k, t, st.per_rate))
        if 0.0 <= pay <= short:
            st.ext_left[k] -= 1
            extend(program, k, t, st.annual, st.per_rate, st.maturity)
            st.ext_undo[k] = (t, loan, terms, short)   # the maturity without the option (unextend)
            return 0.0, pay, program.ext_fee[k] * balloon
    if loan > 0.0:
        apply(program, k, t, loan, terms, st.annual, st.per_rate, st.sched, st.maturity)
    return loan, short, 0.0


def extend(program, k: int, t: int, annual, per_rate, maturity) -> None:
    """Exercise an extension option of tranche k at t: the margin steps up from t+1 (annual
    and per period, added), the maturity moves on `ext_periods` (at most the horizon)."""
    n, step = program.n_periods, program.ext_step[k]
    for u in range(t + 1, n + 1):
        annual[k, u] += step
        per_rate[k, u] += step * program.accrual[k, u]
    maturity[k] = min(t + int(program.ext_periods[k]), n)


def unextend(program, st, k: int, t: int) -> tuple:
    """Undo the extension option tranche k exercised at t, its conditions not met at the
    maturity date (docs/credit.md, "Extension options": a paydown neither the period's cash
    nor a cure meets, or the lenders accelerate then): the option is left, the margin is
    not stepped up, the maturity stays at t, and the maturity is what it would have been
    without the option: a refinancing on offer (its terms kept from at_maturity) rewrites
    the loan, else the balloon is due. Returns (new loan, shortfall now due), USD."""
    _t, loan, terms, short = st.ext_undo[k][:4]
    st.ext_undo[k] = None
    st.ext_left[k] += 1
    n, step = program.n_periods, program.ext_step[k]
    for u in range(t + 1, n + 1):
        st.annual[k, u] -= step
        st.per_rate[k, u] -= step * program.accrual[k, u]
    st.maturity[k] = t
    if loan > 0.0:
        apply(program, k, t, loan, terms, st.annual, st.per_rate, st.sched, st.maturity)
    return loan, short


def apply(program, k: int, t: int, loan: float, terms, annual, per_rate, sched, maturity) -> None:
    """Put tranche k on the new loan's terms from t+1 (in place): its rates, its schedule
    for N periods (straight-line loan / N; level payment loan x the unit principal at the
    first period's rate; sculpted (loan / L) x P_i, the capacity's profile scaled), maturity
    min(t + N, T)."""
    n, periods = program.n_periods, int(program.refi_periods[k])
    rates, per_new, shape = terms
    amortisation = loan / periods
    profile = program.refi_profile[k]
    scale = loan / shape[0] if profile == SCULPTED else 0.0
    for i, u in enumerate(range(t + 1, n + 1)):
        annual[k, u] = rates[i]
        per_rate[k, u] = per_new[i]
        if u > t + periods:
            sched[k, u] = 0.0
        elif profile == LEVEL_PAYMENT:
            sched[k, u] = loan * level_unit(program, k, per_new[0], i + 1)[1]
        elif profile == SCULPTED:
            sched[k, u] = scale * shape[1][i]
        else:
            sched[k, u] = amortisation
    maturity[k] = min(t + periods, n)


def free_cash(program, t: int, cash: float, int_due, scheduled, hedge_due) -> float:
    """The period's cash after its fees, hedge settlements owed, cash interest (an extension
    fee included) and scheduled principal, USD (negative: they are not all covered)."""
    free = cash
    for f in range(program.n_fees):
        free -= program.fee_due[f, t]
    for due in hedge_due:
        free -= max(due, 0.0)
    for k in range(program.n_tranches):
        free -= int_due[k] + scheduled[k]
    return free


def uncovered(program, t: int, cash: float, int_due, scheduled, hedge_due, shortfall: float) -> float:
    """What the period's cash leaves of a refinancing (or extension) shortfall, USD: the
    shortfall less free_cash (never below zero)."""
    return shortfall - max(free_cash(program, t, cash, int_due, scheduled, hedge_due), 0.0)


def cure(program, st, t: int, cash: float, int_due, scheduled, hedge_due, shortfall: float) -> float:
    """The sponsors' equity cure of a refinancing shortfall: the cash the paydown needs
    beyond what the period leaves after its fees, hedge settlements owed, cash interest
    and scheduled principal (`uncovered`), paid in on the deal's equity-cure terms (a cure
    left, in time, within the per-cure cap; it counts as one of them). All or nothing: a
    cure that would not meet the whole paydown is not made. Returns the cure, USD."""
    need = uncovered(program, t, cash, int_due, scheduled, hedge_due, shortfall)
    if need <= ops.DUST or st.cures >= program.cure_max or t > program.cure_until:
        return 0.0
    if program.cure_max_amount >= 0.0 and need > program.cure_max_amount:
        return 0.0
    st.cures += 1
    return need
