"""Per-period schedules built from the deal's terms: rent, opex, fees, capex, asset
values, base rates, base-case interest rates per period and scheduled principal. Pure
functions of the model, no state. compile.py and the structural scenarios
(scenarios/structural.py) both use them."""
from __future__ import annotations

import math

import numpy as np

from .level_payment import level_schedule
from .model.deal import Amortisation, Asset, BaseRateCurve, Deal, Lease, ValueCurve


def rent_schedule(lease: Lease, n_periods: int, months: int, cod: int,
                  scale: np.ndarray | None = None) -> np.ndarray:
    """Scheduled rent by period (USD per period): annual rent x months/12 x `scale[t]`
    (line_scale: the lease's escalation and the period's stub share; none: its yearly
    `escalation` in regular periods), from lease start, continued through renewals assumed
    exercised (each resets rent by `rent_reset`)."""
    out = np.zeros(n_periods + 1)
    start = lease.start_period or cod
    if scale is None:
        if lease.indexation is not None:
            raise ValueError(f"lease '{lease.tenant}' has indexation: give its scale (line_scale)")
        scale = _stepped_escalation(lease.escalation, lease.escalation_every_months, start, n_periods, months)
    per_period = lease.annual_rent * months / 12.0
    terms = [(lease.term_months, 1.0)]
    for renewal in lease.renewals:
        if not renewal.exercised:
            break
        terms.append((renewal.term_months, renewal.rent_reset))
    t, reset = start, 1.0
    for term_months, rent_reset in terms:
        reset *= rent_reset
        for _ in range(math.ceil(term_months / months)):
            if t > n_periods:
                return out
            out[t] = per_period * reset * scale[t]
            t += 1
    return out


def annual_flow(annual: float, first: int, last: int, n_periods: int, months: int,
                scale: np.ndarray | None = None) -> np.ndarray:
    """An annual amount paid per period in [first, last]: annual x months/12 x `scale[t]`
    (line_scale; none: flat)."""
    out = np.zeros(n_periods + 1)
    for t in range(max(first, 0), min(last, n_periods) + 1):
        out[t] = annual * months / 12.0 * (1.0 if scale is None else scale[t])
    return out


def _stepped_escalation(escalation: float, every_months: int, first: int, n_periods: int,
                        months: int) -> np.ndarray:
    """[T+1] (1 + escalation)^floor((t - first) x months / every_months) from `first` on."""
    return np.array([(1.0 + escalation) ** ((max(t - first, 0) * months) // every_months)
                     for t in range(n_periods + 1)])


def line_scale(deal: Deal, first: int, escalation: float = 0.0, every_months: int = 12,
               indexation=None) -> np.ndarray:
    """[T+1] what one regular period's amount of a revenue or cost line that starts in period
    `first` becomes in each period: its escalation (its `indexation` on its own dates,
    waterfall/escalation.py; else `escalation` every `every_months`, counted in periods
    from `first`) x the period's share of a regular period (a stub pays for its own length,
    payment_dates.period_shares). The one per-line rule of rent, opex and fees."""
    from . import payment_dates

    return line_escalation(deal, first, escalation, every_months, indexation) * payment_dates.period_shares(deal.timeline)


def line_escalation(deal: Deal, first: int, escalation: float = 0.0, every_months: int = 12,
                    indexation=None) -> np.ndarray:
    """[T+1] the escalation factor of a line that starts in period `first` (1 up to its
    first step): its `indexation` on its own dates, else `escalation` every `every_months`."""
    from . import payment_dates
    from .escalation import cpi_index, escalation_factors

    tl = deal.timeline
    n, months = tl.n_periods, tl.months_per_period
    if indexation is not None:
        ends = payment_dates.period_end_dates(tl)
        return escalation_factors(indexation, ends[max(first - 1, 0)], ends, cpi_index(deal, ends))
    return _stepped_escalation(escalation, every_months, first, n, months)


def lease_rents(deal: Deal, n_periods: int, months: int) -> np.ndarray:
    """[L, T+1] scheduled rent of each lease, each on its own line_scale."""
    cod = deal.timeline.cod_period
    out = np.zeros((len(deal.leases), n_periods + 1))
    for i, lease in enumerate(deal.leases):
        start = lease.start_period or cod
        scale = line_scale(deal, start, lease.escalation, lease.escalation_every_months, lease.indexation)
        out[i] = rent_schedule(lease, n_periods, months, cod, scale)
    return out


def spend_shares(asset: Asset, construction_periods: int, n_periods: int) -> np.ndarray:
    """Share of the asset's cost paid in each period."""
    out = np.zeros(n_periods + 1)
    if asset.spend == "at_close":
        out[0] = 1.0
    elif asset.spend == "over_construction":
        if construction_periods == 0:
            out[0] = 1.0
        else:
            out[1:construction_periods + 1] = 1.0 / construction_periods
    else:
        for period, share in asset.spend:
            out[period] += share
    return out


def curve_value(curve: ValueCurve, age_months: float) -> float:
    """Fraction of cost an asset component is worth at `age_months`."""
    if curve.kind == "constant":
        return curve.level
    if curve.kind == "straight_line":
        return curve.salvage + (1.0 - curve.salvage) * max(0.0, 1.0 - age_months / curve.life_months)
    ages = [a for a, _ in curve.points]
    values = [v for _, v in curve.points]
    return float(np.interp(age_months, ages, values))


def asset_values(assets: list[Asset], n_periods: int, months: int, construction_periods: int = 0) -> np.ndarray:
    """Depreciated replacement cost [4, T+1] by component class (land, shell, mep, it),
    USD: the cost spent up to each period (work in progress is worth what was spent) x
    its value curve at its age in months since the in-service date (the end of
    construction; nothing depreciates before it is built)."""
    out = np.zeros((4, n_periods + 1))
    ages = np.maximum(0, np.arange(n_periods + 1) - construction_periods) * months
    for asset in assets:
        spent = np.cumsum(spend_shares(asset, construction_periods, n_periods))
        for c, name in enumerate(("land", "shell", "mep", "it")):
            component = getattr(asset, name)
            if component is None:
                continue
            for t in range(n_periods + 1):
                out[c, t] += component.cost * spent[t] * curve_value(component.curve, float(ages[t]))
    return out


def rate_curve(curve: BaseRateCurve | None, n_periods: int) -> np.ndarray:
    """Base rate by period (annual), flat beyond the first and last points."""
    if curve is None:
        return np.zeros(n_periods + 1)
    return interpolate_points(curve.points, curve.interpolation, n_periods)


def interpolate_points(points, interpolation: str, n_periods: int) -> np.ndarray:
    periods = np.array([p for p, _ in points], dtype=float)
    rates = np.array([r for _, r in points], dtype=float)
    grid = np.arange(n_periods + 1, dtype=float)
    if interpolation == "linear":
        return np.interp(grid, periods, rates)
    idx = np.searchsorted(periods, grid, side="right") - 1
    return rates[np.clip(idx, 0, len(rates) - 1)]


def principal_schedule(am: Amortisation, principal: float, start: int, maturity: int,
                       per_rate: np.ndarray, cfads: np.ndarray, inc: float = 0.0,
                       short: np.ndarray | None = None) -> np.ndarray:
    """Scheduled principal by period for a balance `principal` outstanding at the start
    of period `start`, with per-period rates `per_rate` (base case). The balloon at
    `maturity` is not in the schedule: the waterfall pays the whole balance then.
    `inc` > 0: interest and a computed level payment rounded to it (level_payment.py).
    `short` (a sculpted loan sized with `when_short = "capitalise"`, [T+1] int flags):
    where CFADS / target is below the period's interest, the period is marked 1 in it
    (its interest is capitalised) and CFADS / target is scheduled against the balance."""
    n = len(per_rate) - 1
    out = np.zeros(n + 1)
    if am.kind == "bullet" or principal <= 0:
        return out
    last = min(maturity, n)
    if am.kind == "straight_line":
        for t in range(start, min(start + am.periods - 1, last) + 1):
            out[t] = principal / am.periods
    elif am.kind == "custom":
        for i, share in enumerate(am.shares):
            if start + i <= last:
                out[start + i] = principal * share
    elif am.kind == "level_payment":
        # the annuity runs over all its periods, past the horizon if it must (at the last
        # known rate): a 25-year profile on a 6-year loan leaves a balloon, not a 6-year annuity
        return level_schedule(am, principal, start, last, per_rate, inc)
    elif am.kind == "sculpted":
        balance = principal
        for t in range(start, last + 1):
            cover = max(cfads[t], 0.0) / am.target_dscr
            if short is not None and cover < balance * per_rate[t]:   # interest capitalised, cover paid
                short[t] = 1
                balance += balance * per_rate[t]
                out[t] = min(balance, cover)
            else:
                out[t] = min(balance, max(0.0, cfads[t] / am.target_dscr - balance * per_rate[t]))
            balance -= out[t]
            if 0.0 < balance <= 1e-12 * principal:  # rounding residue of a loan sculpted to close
                out[t] += balance                   # here (a re-solved DSCR): repaid, not a 1e-14 tail
                balance = 0.0
    return out


def base_cfads(deal: Deal, n_periods: int, months: int) -> tuple[np.ndarray, np.ndarray]:
    """Contracted rent and opex by period (base case), USD."""
    cod = deal.timeline.cod_period
    rent = lease_rents(deal, n_periods, months).sum(axis=0)
    opex = np.zeros(n_periods + 1)
    for item in deal.opex:
        first = cod if item.from_period is None else item.from_period
        opex += annual_flow(item.annual_amount, first, n_periods, n_periods, months,
                            line_scale(deal, first, item.escalation, 12, item.indexation))
    return rent, opex


def base_per_rate(base_rate, is_floating, fixed_rate, spread, floor, accrual) -> np.ndarray:
    """[K, T+1] base-case interest rate of each tranche for each period: fixed, or
    max(base rate, floor) + spread, at least zero, times the period's accrual fraction."""
    annual = np.where(is_floating[:, None] == 1,
                      np.maximum(base_rate[None, :], floor[:, None]) + spread, fixed_rate)
    return np.maximum(annual, 0.0) * accrual


def balance_at_amortisation(tr, draw, capitalise, per_rate, cod):
    """Balance when amortisation starts (draws plus base-case capitalised interest) and
    the first amortising period (after the last draw, COD and any interest-only time)."""
    last_draw = int(np.nonzero(draw)[0].max()) if draw.any() else 0
    start = max(cod, last_draw + 1) + tr.interest_only_periods
    balance = 0.0
    for t in range(min(start, len(draw))):
        if capitalise[t]:
            balance += balance * per_rate[t]
        balance += draw[t]
    return balance, start
