"""Period dates, business-day calendars and day counts: the one place for them.

Calendars and day counters come from QuantLib (a well-kept implementation of the
market conventions); this module only maps the deal file's names onto it.
"""
from __future__ import annotations

import calendar
import datetime as dt

import numpy as np
import QuantLib as ql

_CALENDARS = {
    "none": lambda: ql.NullCalendar(),
    "weekends": lambda: ql.WeekendsOnly(),
    "us-sofr": lambda: ql.UnitedStates(ql.UnitedStates.SOFR),
    "us-government-bond": lambda: ql.UnitedStates(ql.UnitedStates.GovernmentBond),
    "us-nyse": lambda: ql.UnitedStates(ql.UnitedStates.NYSE),
    "target": lambda: ql.TARGET(),
    "uk": lambda: ql.UnitedKingdom(ql.UnitedKingdom.Settlement),
}
_ROLLS = {
    "unadjusted": ql.Unadjusted,
    "following": ql.Following,
    "modified-following": ql.ModifiedFollowing,
    "preceding": ql.Preceding,
}
_DAY_COUNTS = {
    "ACT/360": lambda: ql.Actual360(),
    "30/360": lambda: ql.Thirty360(ql.Thirty360.BondBasis),
    "ACT/365F": lambda: ql.Actual365Fixed(),
    "ACT/ACT ISDA": lambda: ql.ActualActual(ql.ActualActual.ISDA),
    "30E/360": lambda: ql.Thirty360(ql.Thirty360.European),
}


def to_ql(date: dt.date) -> ql.Date:
    return ql.Date(date.day, date.month, date.year)


def from_ql(date: ql.Date) -> dt.date:
    return dt.date(date.year(), date.month(), date.dayOfMonth())


def unadjusted_dates(close: dt.date, months_per_period: int, n_periods: int) -> list[dt.date]:
    """Period-end dates before any business-day roll: close + k x months (k = 0..n),
    keeping the close's day of month where the month has it (end-of-month otherwise)."""
    start = to_ql(close)
    return [from_ql(start + ql.Period(k * months_per_period, ql.Months)) for k in range(n_periods + 1)]


def on_day(year: int, month: int, day: int) -> dt.date:
    """`day` of the month, or the month's last day where it has fewer days (the 31st in
    April is 30 April, in February the 28th or 29th)."""
    return dt.date(year, month, min(day, calendar.monthrange(year, month)[1]))


def months_later(anchor: dt.date, months: int, day: int) -> dt.date:
    """The payment date `months` after `anchor`'s month, on `day` (end-of-month clamp)."""
    index = anchor.year * 12 + anchor.month - 1 + months
    return on_day(index // 12, index % 12 + 1, day)


def adjust(dates: list[dt.date], calendar: str, roll: str) -> list[dt.date]:
    """Roll each date onto a business day of `calendar` by the `roll` convention."""
    cal = _CALENDARS[calendar]()
    return [from_ql(cal.adjust(to_ql(d), _ROLLS[roll])) for d in dates]


def year_fraction(start: dt.date, end: dt.date, day_count: str) -> float:
    """Accrual year fraction between two dates under `day_count`."""
    return _DAY_COUNTS[day_count]().yearFraction(to_ql(start), to_ql(end))


def accrual_fractions(dates: list[dt.date], day_count: str) -> np.ndarray:
    """Year fraction accrued in each period: index t covers dates[t-1] -> dates[t];
    index 0 (financial close) accrues nothing."""
    counter = _DAY_COUNTS[day_count]()
    out = np.zeros(len(dates))
    for t in range(1, len(dates)):
        out[t] = counter.yearFraction(to_ql(dates[t - 1]), to_ql(dates[t]))
    return out


def years_from(dates: list[dt.date]) -> np.ndarray:
    """ACT/365F years from dates[0] to each date: (days between) / 365, the times of a
    date-based IRR (XIRR: pyxirr's default day count and the spreadsheet XIRR's)."""
    return np.array([(d - dates[0]).days / 365.0 for d in dates], dtype=float)
