"""Period dates, business-day rolls and day counts, against values worked out by hand
from the conventions' definitions (ISDA 2006 4.16; the US SOFR/SIFMA holiday list)."""
from __future__ import annotations

import datetime as dt

import pytest

from waterfall import dates


def test_act_360_and_act_365f_count_actual_days():
    # 2026-01-15 -> 2026-04-15 is 90 actual days
    assert dates.year_fraction(dt.date(2026, 1, 15), dt.date(2026, 4, 15), "ACT/360") == 90 / 360
    assert dates.year_fraction(dt.date(2026, 1, 15), dt.date(2026, 4, 15), "ACT/365F") == 90 / 365
    # a leap year: 2028-01-31 -> 2028-03-31 is 60 days
    assert dates.year_fraction(dt.date(2028, 1, 31), dt.date(2028, 3, 31), "ACT/360") == 60 / 360


def test_30_360_bond_basis():
    # 360*(Y2-Y1) + 30*(M2-M1) + (D2-D1), D1 = min(D1, 30), D2 = 30 if D2 = 31 and D1 >= 30
    assert dates.year_fraction(dt.date(2026, 1, 31), dt.date(2026, 7, 31), "30/360") == 0.5
    assert dates.year_fraction(dt.date(2026, 2, 28), dt.date(2026, 8, 31), "30/360") == (180 + 3) / 360
    assert dates.year_fraction(dt.date(2025, 9, 26), dt.date(2026, 3, 26), "30/360") == 0.5


def test_period_dates_keep_the_day_or_go_to_month_end():
    raw = dates.unadjusted_dates(dt.date(2026, 1, 31), 1, 3)
    assert raw == [dt.date(2026, 1, 31), dt.date(2026, 2, 28), dt.date(2026, 3, 31), dt.date(2026, 4, 30)]


def test_business_day_rolls_on_the_sofr_calendar():
    # 2026-07-04 is a Saturday; Independence Day is observed on Friday 2026-07-03
    july4 = [dt.date(2026, 7, 4)]
    assert dates.adjust(july4, "us-sofr", "following") == [dt.date(2026, 7, 6)]
    assert dates.adjust(july4, "us-sofr", "preceding") == [dt.date(2026, 7, 2)]
    assert dates.adjust(july4, "weekends", "preceding") == [dt.date(2026, 7, 3)]
    # 2026-05-31 is a Sunday: following would leave the month, modified following goes back
    may31 = [dt.date(2026, 5, 31)]
    assert dates.adjust(may31, "us-sofr", "following") == [dt.date(2026, 6, 1)]
    assert dates.adjust(may31, "us-sofr", "modified-following") == [dt.date(2026, 5, 29)]
    assert dates.adjust(may31, "none", "following") == may31


def test_accrual_fractions_per_period():
    raw = dates.unadjusted_dates(dt.date(2026, 1, 15), 3, 4)
    fractions = dates.accrual_fractions(raw, "30/360")
    assert fractions[0] == 0.0 and list(fractions[1:]) == pytest.approx([0.25] * 4, abs=0)
