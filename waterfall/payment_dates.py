"""Payment dates of a timeline: a stated payment day, a first and a last period that may
be a stub (shorter or longer than a regular period, at most STUB_LIMIT of them), and each
period's length as a share of a regular one, by which flows stated a year are pro-rated
(docs/conventions.md). Dates are unadjusted here; dates.adjust rolls them."""
from __future__ import annotations

import datetime as dt

import numpy as np

from .dates import months_later, on_day
from .model.deal import LAST_DATE

STUB_LIMIT = 2
"""A stub (the first or the last period) is at most two regular periods long."""


def _day(tl) -> int:
    return tl.payment_day or (tl.first_payment_date or tl.financial_close).day


def regular_dates(tl) -> list[dt.date]:
    """Period ends before any final stub, index 0 = financial close. Period 1 ends on
    `first_payment_date` where stated, else one period after the close's month on the
    payment day; period t > 1 ends t - 1 periods after period 1's month, on the payment
    day (end-of-month clamp). With no payment day, first payment or final date this is
    close + t periods (dates.unadjusted_dates)."""
    m, n = tl.months_per_period, tl.n_periods
    anchor, day = tl.first_payment_date or tl.financial_close, _day(tl)
    shift = 0 if tl.first_payment_date is not None else 1
    return [tl.financial_close] + [months_later(anchor, (t - 1 + shift) * m, day) for t in range(1, n + 1)]


def period_end_dates(tl) -> list[dt.date]:
    """Unadjusted period-end dates: regular_dates with the last replaced by `final_date`."""
    out = regular_dates(tl)
    if tl.final_date is not None:
        out[-1] = tl.final_date
    return out


def latest_stub_end(start: dt.date, months_per_period: int, day: int) -> dt.date:
    """The latest end of a stub starting on `start`: STUB_LIMIT regular periods later,
    on the payment day (end-of-month clamp) or on `start`'s own day, whichever is later."""
    return max(months_later(start, STUB_LIMIT * months_per_period, day),
               months_later(start, STUB_LIMIT * months_per_period, start.day))


def _first_is_regular(tl, end: dt.date) -> bool:
    close, day = tl.financial_close, _day(tl)
    return close == on_day(close.year, close.month, day) and end == months_later(close, tl.months_per_period, day)


def period_shares(tl) -> np.ndarray:
    """[T+1] each period's length as a share of a regular period: 1.0 for a regular one;
    a first stub's actual days / the days of the regular period ending on its end date;
    a last stub's actual days / the days of the regular period starting on its start
    date. Index 0 (financial close) is 1: what falls at close is not pro-rated."""
    m, n, day = tl.months_per_period, tl.n_periods, _day(tl)
    ends = period_end_dates(tl)
    out = np.ones(n + 1)
    if tl.final_date is not None and tl.final_date != regular_dates(tl)[-1]:
        start = ends[n - 1]
        out[n] = (ends[n] - start).days / (months_later(start, m, day) - start).days
    if not _first_is_regular(tl, ends[1]) and not (n == 1 and tl.final_date is not None):
        full = ends[1] - months_later(ends[1], -m, day)
        out[1] = (ends[1] - tl.financial_close).days / full.days
    return out


def check_timeline(tl) -> list[tuple[str, str, object]]:
    """Stubs within STUB_LIMIT periods and in order: (field, message, value) each."""
    m, n, day = tl.months_per_period, tl.n_periods, _day(tl)
    problems = []
    first, final = tl.first_payment_date, tl.final_date
    if first is not None:
        limit = latest_stub_end(tl.financial_close, m, day)
        if first <= tl.financial_close:
            problems.append(("timeline.first_payment_date", f"must be after financial_close "
                             f"({tl.financial_close})", first))
        elif first > limit:
            problems.append(("timeline.first_payment_date", f"a first period longer than {STUB_LIMIT} "
                             f"{tl.period}s (the latest is {limit})", first))
        elif tl.payment_day is not None and first != on_day(first.year, first.month, tl.payment_day):
            problems.append(("timeline.first_payment_date", f"must fall on the payment day "
                             f"({tl.payment_day}, or the month's last day where it has fewer)", first))
    if final is not None:
        if n == 1 and first is not None:
            problems.append(("timeline.final_date", "a one-period horizon takes first_payment_date "
                             "or final_date, not both", final))
            return problems
        start = regular_dates(tl)[n - 1]
        limit = latest_stub_end(start, m, day)
        if final <= start:
            problems.append(("timeline.final_date", f"must be after the period before it ends ({start})", final))
        elif final > limit:
            problems.append(("timeline.final_date", f"a last period longer than {STUB_LIMIT} {tl.period}s "
                             f"(from {start}; the latest is {limit})", final))
    if not problems and period_end_dates(tl)[-1] > LAST_DATE:
        problems.append(("timeline.final_date" if final else "timeline.first_payment_date",
                         f"the horizon ends after the last supported date {LAST_DATE}", final or first))
    return problems
