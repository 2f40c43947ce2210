"""Escalation of revenue and cost lines on their own dates (`indexation` of a lease, an
opex line or a fee): a factor per period that multiplies the line's unescalated amount.

Escalation dates are the line's `anniversary` + k x `every_months` (k = 0, 1, ...; none
given: the line's start date + k x every_months, k >= 1); only dates after the line's
start count. A period's amount carries every escalation dated on or before the period's
start (the previous period-end date, unadjusted): an escalation inside a period takes
effect from the next one, with no pro-rating. `fixed` escalates by `rate` each time.
`cpi` by CPI's change over the `every_months` before the escalation date, clamped to
[floor, cap]. The CPI index is 1 at financial close and grows over each period at that
period's annual inflation (the deal's `[cpi]` curve, or a scenario's `cpi_path`),
compounded over the period's ACT/365F length; before close it is extrapolated at the
first period's rate, after the horizon at the last's.

Compile-time only: the interpreters (reference, kernel, workbook) read the escalated
rent and opex per period from the program, as they read the lease escalation.
"""
from __future__ import annotations

import datetime as dt
import math

import numpy as np
import QuantLib as ql

from .dates import from_ql, to_ql


def add_months(date: dt.date, months: int) -> dt.date:
    """`date` + `months`, keeping the day of month where the month has it (end of month
    otherwise), as the period dates are built."""
    return from_ql(to_ql(date) + ql.Period(months, ql.Months))


class CpiIndex:
    """The CPI index as a function of the date (module doc), from annual inflation per
    period `inflation` [T+1] (index 0 unused) and the unadjusted period-end dates."""

    def __init__(self, inflation: np.ndarray, period_ends: list[dt.date]):
        self.close = period_ends[0]
        self.years = np.array([(d - self.close).days / 365.0 for d in period_ends])
        growth = np.log1p(np.asarray(inflation, dtype=float))
        growth[0] = growth[1] if len(growth) > 1 else 0.0
        self.growth = growth
        self.log_level = np.concatenate([[0.0], np.cumsum(growth[1:] * np.diff(self.years))])

    def log_at(self, date: dt.date) -> float:
        tau = (date - self.close).days / 365.0
        if tau <= 0.0:
            return self.growth[0] * tau
        if tau >= self.years[-1]:
            return self.log_level[-1] + self.growth[-1] * (tau - self.years[-1])
        return float(np.interp(tau, self.years, self.log_level))

    def change(self, start: dt.date, end: dt.date) -> float:
        """CPI's change from `start` to `end` as a decimal (0.025 is 2.5%)."""
        return math.expm1(self.log_at(end) - self.log_at(start))


def cpi_index(deal, period_ends: list[dt.date]) -> CpiIndex | None:
    """The deal's CPI index, None without a `[cpi]` curve."""
    from .schedules import interpolate_points  # lazily: schedules uses this module

    if deal.cpi is None:
        return None
    return CpiIndex(interpolate_points(deal.cpi.points, "step", len(period_ends) - 1), period_ends)


def escalation_dates(ind, line_start: dt.date, last: dt.date) -> list[dt.date]:
    """The line's escalation dates after its start, up to `last`."""
    first = ind.anniversary or add_months(line_start, ind.every_months)
    out, k = [], 0
    while True:
        d = add_months(first, k * ind.every_months)
        if d > last:
            return out
        if d > line_start:
            out.append(d)
        k += 1


def escalation_factors(ind, line_start: dt.date, period_ends: list[dt.date], cpi: CpiIndex | None) -> np.ndarray:
    """[T+1] factor on the line's unescalated amount in each period (module doc);
    period t starts at period_ends[t - 1] (period 0 at close)."""
    starts = [period_ends[0]] + list(period_ends[:-1])
    steps = escalation_dates(ind, line_start, starts[-1])
    if ind.kind == "fixed":
        rises = [ind.rate] * len(steps)
    else:
        lo = -math.inf if ind.floor is None else ind.floor
        hi = math.inf if ind.cap is None else ind.cap
        rises = [min(max(cpi.change(add_months(d, -ind.every_months), d), lo), hi) for d in steps]
    levels = np.cumprod([1.0] + [1.0 + r for r in rises])
    start_ord = np.array([d.toordinal() for d in starts])
    step_ord = np.array([d.toordinal() for d in steps], dtype=np.int64)
    return levels[np.searchsorted(step_ord, start_ord, side="right")]
