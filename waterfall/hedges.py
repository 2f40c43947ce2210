"""Interest-rate hedges (swaps and caps): load-time checks and compile into the
Program's hedge arrays. The cash rules are the `hedge` step (steps/hedge.py), the
settlement and the termination value (`settlement`, `termination_value` below, the
reference's; the kernel has their twins); docs/credit.md explains them."""
from __future__ import annotations

import numpy as np

from . import dates
from .ops import DUST, HEDGE_RATIO_TOL

Problem = tuple[str, str, object]

HEDGE_KIND = {"swap": 0, "cap": 1}


def check_hedges(deal) -> list[Problem]:
    """Each hedge names a floating tranche and the deal's base-rate index, and every period
    it names lies within the horizon."""
    problems: list[Problem] = []
    n = deal.timeline.n_periods
    tranches = {t.name: t for t in deal.tranches}
    index = deal.base_rate.name if deal.base_rate is not None else None
    for i, h in enumerate(deal.hedges):
        where = f"hedges[{i}]"
        tranche = tranches.get(h.tranche)
        if tranche is None:
            problems.append((f"{where}.tranche", "unknown tranche", h.tranche))
        elif tranche.rate.kind != "floating":
            problems.append((f"{where}.tranche", "a hedge covers a floating-rate tranche; this one is fixed",
                             h.tranche))
        if not _same_index(h.index, index):
            problems.append((f"{where}.index", f"unknown index: the deal's floating rates are on "
                             f"{index or 'no base-rate curve (add base_rate)'}", h.index))
        if h.start_period > n:
            problems.append((f"{where}.start_period", f"after the horizon ({n} periods)", h.start_period))
        if h.end_period is not None and h.end_period > n:
            problems.append((f"{where}.end_period", f"after the horizon ({n} periods)", h.end_period))
        if h.fixed_rate == "par" and not _any_notional(h, n):
            problems.append((f"{where}.fixed_rate", "a par swap needs a notional after close to be struck on", "par"))
        for j, (period, _) in enumerate(h.notional or []):
            if period > n:
                problems.append((f"{where}.notional[{j}]", f"a notional schedule longer than the horizon "
                                 f"({n} periods)", period))
    return problems


def check_hedge_ratio(deal) -> list[Problem]:
    """A hedge-ratio covenant tests floating-rate covenant debt: the deal must have some,
    and its first period must lie within the horizon."""
    hr = deal.covenants.hedge_ratio
    if hr is None:
        return []
    problems: list[Problem] = []
    names = deal.covenants.dscr_tranches or [t.name for t in deal.tranches]
    if not any(t.rate.kind == "floating" for t in deal.tranches if t.name in names):
        problems.append(("covenants.hedge_ratio", "a hedge-ratio covenant needs a floating-rate covenant tranche",
                         hr.minimum))
    if hr.from_period > deal.timeline.n_periods:
        problems.append(("covenants.hedge_ratio.from_period", f"after the horizon ({deal.timeline.n_periods} "
                         "periods)", hr.from_period))
    return problems


def _any_notional(h, n: int) -> bool:
    """Whether the hedge states any notional in its periods (a share of the balance counts,
    unless it is zero; compile_deal still refuses a par swap on a tranche that draws nothing)."""
    if h.notional_share is not None:
        return h.notional_share > 0.0
    end = n if h.end_period is None else h.end_period
    schedule = sorted(h.notional)
    return any(amount > 0.0 and (nxt is None or nxt > h.start_period) and period <= end
               for (period, amount), nxt in zip(schedule, [p for p, _ in schedule[1:]] + [None]))


def _same_index(hedge_index: str, curve_name) -> bool:
    """The hedge names the deal's curve: its name, or a word of it ("SOFR" for "Term SOFR")."""
    if curve_name is None:
        return False
    return hedge_index == curve_name or hedge_index in curve_name.replace("(", " ").split()


def par_rate(notional, accrual, base_rate) -> float:
    """The fixed rate at which a swap on this notional schedule is worth nothing at close on
    the base-case curve: sum(N f acc DF) / sum(N acc DF), DF chained at the index."""
    discount, legs, annuity = 1.0, 0.0, 0.0
    for u in range(1, len(notional)):
        discount /= 1.0 + base_rate[u] * accrual[u]
        legs += notional[u] * base_rate[u] * accrual[u] * discount
        annuity += notional[u] * accrual[u] * discount
    return legs / annuity if annuity > 0.0 else float("nan")


def compile_hedges(deal, accrual_dates, opening_balance: np.ndarray, rank: np.ndarray,
                   base_rate: np.ndarray) -> dict:
    """The Program's hedge arrays: kind, hedged tranche, rank, fixed rate or strike,
    premium [H]; notional [H, T+1] (zero outside the hedge's periods) and accrual
    (years, by its day count) [H, T+1].
    `opening_balance` [K, T+1] is each tranche's base-case opening balance (what a
    notional share applies to), `rank` [K] the tranches' seniority and `base_rate` [T+1]
    the deal's curve (a "par" swap is struck on it). A par swap with no notional after
    close has no rate (NaN; compile_deal reports it)."""
    n = deal.timeline.n_periods
    names = [t.name for t in deal.tranches]
    h_count = len(deal.hedges)
    notional = np.zeros((h_count, n + 1))
    accrual = np.zeros((h_count, n + 1))
    kind = np.zeros(h_count, dtype=np.int64)
    tranche = np.zeros(h_count, dtype=np.int64)
    h_rank = np.zeros(h_count, dtype=np.int64)
    rate = np.zeros(h_count)
    for h, hedge in enumerate(deal.hedges):
        k = names.index(hedge.tranche)
        kind[h], tranche[h] = HEDGE_KIND[hedge.kind], k
        h_rank[h] = hedge.rank if hedge.rank is not None else rank[k]
        day_count = hedge.day_count or deal.tranches[k].day_count
        accrual[h] = dates.accrual_fractions(accrual_dates, day_count)
        end = n if hedge.end_period is None else hedge.end_period
        live = np.zeros(n + 1, dtype=bool)
        live[hedge.start_period:end + 1] = True
        if hedge.notional_share is not None:
            schedule = hedge.notional_share * opening_balance[k]
        else:
            schedule = np.zeros(n + 1)
            for period, amount in sorted(hedge.notional):
                schedule[period:] = amount
        notional[h] = np.where(live, schedule, 0.0)
        if hedge.kind == "cap":
            rate[h] = hedge.strike
        elif hedge.fixed_rate == "par":
            rate[h] = par_rate(notional[h], accrual[h], base_rate)
        else:
            rate[h] = hedge.fixed_rate
    return dict(hedge_kind=kind, hedge_tranche=tranche, hedge_rank=h_rank, hedge_rate=rate,
                hedge_notional=notional, hedge_accrual=accrual,
                hedge_premium=np.array([h.premium for h in deal.hedges], dtype=float))


def base_case_balances(draw, sched, maturity, capitalise, per_rate) -> np.ndarray:
    """Each tranche's opening balance [K, T+1] in the base case: draws, interest
    capitalised where the tranche capitalises, scheduled principal, the balloon at
    maturity (what a notional share is a share of)."""
    k_count, width = draw.shape
    out = np.zeros((k_count, width))
    for k in range(k_count):
        balance = 0.0
        for t in range(width):
            out[k, t] = balance
            if capitalise[k, t]:
                balance += balance * per_rate[k, t]
            balance += draw[k, t]
            balance = 0.0 if t >= maturity[k] else balance - min(sched[k, t], balance)
    return out


def settlement(kind: int, notional: float, accrual: float, index: float, rate: float) -> float:
    """Net amount the SPV owes the bank for one period (negative: the bank pays): a
    pay-fixed swap pays fixed and receives the index, notional x (fixed - index) x accrual;
    a bought cap receives notional x max(index - strike, 0) x accrual."""
    if kind == 0:
        return notional * (rate - index) * accrual
    return -notional * max(index - rate, 0.0) * accrual


def termination_value(program, h: int, t: int, index) -> float:
    """Mark-to-market after period t's settlement, owed by the SPV to the bank (negative:
    owed to the SPV): the remaining settlements on the scenario's index path `index`
    [T+1], each discounted on that path (the period's index x the hedge's accrual), i.e.
    the scenario's forward curve; a cap on a known path is worth its intrinsic value.
    Rolled back from the horizon, value(u-1) = (settlement(u) + value(u)) / (1 + index(u)
    x accrual(u)), in that order in every interpreter (the workbook has it as a row)."""
    value = 0.0
    for u in range(program.n_periods, t, -1):
        acc = program.hedge_accrual[h, u]
        leg = settlement(int(program.hedge_kind[h]), program.hedge_notional[h, u], acc, index[u],
                         program.hedge_rate[h])
        value = (leg + value) / (1.0 + index[u] * acc)
    return value


HEDGE_RATIO_TOLERANCE = HEDGE_RATIO_TOL   # a ratio this close under the minimum is rounding, no breach


def hedge_ratio(program, t: int, opening, notional) -> float:
    """The hedge-ratio covenant's ratio at period t: the notional of the live hedges on the
    floating-rate covenant tranches (`notional` [H], zero once terminated) over those
    tranches' opening balance (`opening` [K]), each summed in order; NaN where it is not
    tested (outside the covenant's periods, or no such balance above dust)."""
    if program.hedge_ratio_min < 0.0 or t < program.hedge_ratio_from or t > program.hedge_ratio_to:
        return float("nan")
    floating = 0.0
    for k in range(program.n_tranches):
        if program.dscr_mask[k] and program.is_floating[k]:
            floating += opening[k]
    if not floating > DUST:
        return float("nan")
    hedged = 0.0
    for h in range(program.n_hedges):
        k = int(program.hedge_tranche[h])
        if program.dscr_mask[k] and program.is_floating[k]:
            hedged += notional[h]
    return hedged / floating


def hedge_ratio_breached(program, ratio: float) -> bool:
    """Below the minimum (by more than rounding); False where the ratio is not tested (NaN)."""
    return ratio < program.hedge_ratio_min - HEDGE_RATIO_TOLERANCE
