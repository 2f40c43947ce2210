"""Timeline and payment conventions (docs/conventions.md), hand-worked: annual periods,
stub first and last periods on their real days under every day count, pro-rated rent
and opex in a stub, a stated level payment with the interest rounded to the cent, a
computed payment rounded to the cent; in the reference, the kernel and the live-formula
workbook recalculated by LibreOffice.

Every expected number is worked out by hand in the comments (or by the closed-form
annuity formula, independent of the engine's period loop); none is the engine's output."""
from __future__ import annotations

import datetime as dt
from decimal import ROUND_HALF_UP, Decimal

import pytest

from .steps.handworked import (
    ENGINES, assert_lines, assert_metrics, deal_from_toml, ledger_lines, needs_lo,
    recalculate_cases, run,
)

# --------------------------------------------------------------------------- annual periods
ANNUAL = """
[deal]
name = "hand-annual"
kind = "example"

[timeline]
financial_close = 2026-01-15
period = "year"
operating_periods = 5

[[assets]]
name = "site"
land = { cost = 1000.0 }

[[leases]]
tenant = "Tenant"
annual_rent = 160.0
term_months = 60
escalation = 0.02

[[opex]]
name = "opex"
annual_amount = 12.0

[[tranches]]
name = "loan"
amount = 500.0
rate = { kind = "fixed", annual = 0.06 }
day_count = "DAY_COUNT"
amortisation = { kind = "level_payment", periods = 5 }
maturity_period = 5

[[waterfall]]
step = "interest"
tranche = "loan"

[[waterfall]]
step = "principal"
tranche = "loan"

[[waterfall]]
step = "distribute"

[[scenarios]]
name = "base"
"""


def annual_deal(day_count: str = "30/360"):
    return deal_from_toml(ANNUAL.replace("DAY_COUNT", day_count), "<hand-annual>")


# Annual periods, 30/360 from the 15th: every period accrues exactly 1.0 year.
# Dates: 2026-01-15 (close), 2027-01-15, ..., 2031-01-15.
# Rent 160 a year (a full period = 12 months: 160 x 12/12), +2% every 12 months from COD:
#   160, 163.2, 166.464, 169.79328, 173.1891456; opex 12 a year; CFADS = rent - 12.
# Level payment of 500 over 5 years at 6%: A = 500 x 0.06 / (1 - 1.06^-5)
#   1.06^5 = 1.3382255776, so A = 30 / (1 - 1 / 1.3382255776) = 30 / 0.2527418 = 118.6982
#   year 1: interest 30.000000, principal A - 30, balance 500 - (A - 30)
#   year t: interest 6% of the opening balance, principal A - interest; the balance is
#   zero after year 5 (an annuity at the loan's own rate).
# Lender cash flows: -500 at close, +A in each year: IRR = 6.0% a period, and annualised
# with 1 period a year it stays 6.0% (with 4 periods a year it would be 26.2%).
def _annuity():
    a = 500 * 0.06 / (1 - 1.06 ** -5)
    balance, interest, principal = 500.0, [0.0], [0.0]
    for _ in range(5):
        interest.append(balance * 0.06)
        principal.append(a - balance * 0.06)
        balance -= principal[-1]
    return a, interest, principal


@pytest.mark.parametrize("engine", ENGINES)
def test_annual_periods_hand_worked(engine):
    result = run(annual_deal(), "base", engine)
    a, interest, principal = _annuity()
    assert [str(d) for d in result.cash_flows()["date"]] == [
        "2026-01-15", "2027-01-15", "2028-01-15", "2029-01-15", "2030-01-15", "2031-01-15"]
    rent = [0.0, 160.0, 163.2, 166.464, 169.79328, 173.1891456]
    assert_lines(ledger_lines(result), {
        "revenue": rent,
        "opex": [0.0] + [12.0] * 5,
        "loan.interest_paid": interest,
        "loan.principal_paid": principal,
        "equity_distribution": [0.0] + [r - 12.0 - a for r in rent[1:]],
    }, what=engine)
    # the published capital-recovery factor for 6%, 5 years is 0.237396: 500 x it = 118.698
    assert a == pytest.approx(500 * 0.237396, abs=1e-3)
    assert interest[1] == 30.0 and principal[5] == pytest.approx(a / 1.06, rel=1e-12)
    # DSCR year 1 = 148 / A; the lowest, as CFADS grows while A is level
    assert_metrics(result, {"lender_irr": 0.06, "min_dscr": 148.0 / a})


@pytest.mark.parametrize("engine", ENGINES)
def test_annual_periods_accrue_the_real_days(engine):
    # ACT/360 over whole years: 2026-01-15 -> 2027-01-15 is 365 days, and so is year 2;
    # year 3, 2028-01-15 -> 2029-01-15, is 366 (29 Feb 2028). Year 1 interest
    # 500 x 6% x 365/360 = 30.416667; years 2 and 3 are 6% x 365/360 and 6% x 366/360 of
    # their opening balances.
    result = run(annual_deal("ACT/360"), "base", engine)
    got = ledger_lines(result)
    paid = got["loan.principal_paid"]
    assert got["loan.interest_paid"][1] == pytest.approx(500 * 0.06 * 365 / 360, rel=1e-12)
    assert got["loan.interest_paid"][2] == pytest.approx((500.0 - paid[1]) * 0.06 * 365 / 360, rel=1e-12)
    assert got["loan.interest_paid"][3] == pytest.approx((500.0 - paid[1] - paid[2]) * 0.06 * 366 / 360,
                                                         rel=1e-12)


# --------------------------------------------------------------------------- stub periods
STUBS = """
[deal]
name = "hand-stubs"
kind = "example"

[timeline]
financial_close = CLOSE
period = "quarter"
operating_periods = 6
payment_day = 31
first_payment_date = FIRST
FINAL

[[assets]]
name = "site"
land = { cost = 2000.0 }

[[leases]]
tenant = "Tenant"
annual_rent = 400.0
term_months = 120

[[opex]]
name = "opex"
annual_amount = 40.0

[[tranches]]
name = "loan"
amount = 1000.0
rate = { kind = "fixed", annual = 0.06 }
day_count = "DAY_COUNT"
amortisation = { kind = "bullet" }

[[waterfall]]
step = "interest"
tranche = "loan"

[[waterfall]]
step = "principal"
tranche = "loan"

[[waterfall]]
step = "distribute"

[exit]
value_share = 1.0
cost_share = 0.0

[[scenarios]]
name = "base"
"""


def stub_deal(day_count: str, close="2026-01-10", first="2026-06-30", final='final_date = 2027-08-15'):
    text = (STUBS.replace("DAY_COUNT", day_count).replace("CLOSE", close).replace("FIRST", first)
            .replace("FINAL", final))
    return deal_from_toml(text, "<hand-stubs>")


# Close 2026-01-10, quarterly on the 31st (end of month), first payment 2026-06-30 (a long
# first period), final date 2027-08-15 (a short last one). Dates:
#   2026-01-10 | 06-30 | 09-30 | 12-31 | 2027-03-31 | 06-30 | 08-15
# Period 1, 2026-01-10 -> 06-30: 21 + 28 + 31 + 30 + 31 + 30 = 171 actual days;
#   30/360 and 30E/360: (6 - 1) x 30 + (30 - 10) = 170 days.
# Period 6, 2027-06-30 -> 08-15: 46 actual days; 30/360: 2 x 30 + (15 - 30) = 45 days.
# Periods 2-5 are regular: 92, 92, 90, 91 actual days; 90 days under 30/360 (30 Sep ->
# 31 Dec counts 90: the 31st after a 30th is the 30th) and under 30E/360.
# Interest on the 1,000 bullet at 6% = 60 x year fraction.
STUB_DAYS = {   # day count: (year fractions of periods 1..6)
    "ACT/360": (171 / 360, 92 / 360, 92 / 360, 90 / 360, 91 / 360, 46 / 360),
    "ACT/365F": (171 / 365, 92 / 365, 92 / 365, 90 / 365, 91 / 365, 46 / 365),
    "ACT/ACT ISDA": (171 / 365, 92 / 365, 92 / 365, 90 / 365, 91 / 365, 46 / 365),   # 2026-27: no leap day
    "30/360": (170 / 360, 90 / 360, 90 / 360, 90 / 360, 90 / 360, 45 / 360),
    "30E/360": (170 / 360, 90 / 360, 90 / 360, 90 / 360, 90 / 360, 45 / 360),
}


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize("day_count", sorted(STUB_DAYS))
def test_stub_interest_on_the_real_days(engine, day_count):
    result = run(stub_deal(day_count), "base", engine)
    assert [str(d) for d in result.cash_flows()["date"]] == [
        "2026-01-10", "2026-06-30", "2026-09-30", "2026-12-31", "2027-03-31", "2027-06-30", "2027-08-15"]
    interest = [0.0] + [60.0 * f for f in STUB_DAYS[day_count]]
    # Rent 400 a year = 100 a regular quarter; opex 40 a year = 10. A stub pays its share
    # of a regular quarter by actual days:
    #   period 1: 171 days / the 91 days of the regular quarter ending 30 Jun (31 Mar ->
    #   30 Jun) = 1.879121; period 6: 46 days / the 92 of the quarter starting 30 Jun
    #   (-> 30 Sep) = 0.5.
    share = [1.0, 171 / 91, 1.0, 1.0, 1.0, 1.0, 46 / 92]
    assert_lines(ledger_lines(result), {
        "loan.interest_paid": interest,
        "revenue": [0.0] + [100.0 * x for x in share[1:]],
        "opex": [0.0] + [10.0 * x for x in share[1:]],
        "loan.principal_paid": [0.0] * 6 + [1000.0],
    }, what=f"{engine} {day_count}")
    assert ledger_lines(result)["revenue"][6] == pytest.approx(50.0, rel=1e-12)


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize("day_count, fraction", [
    # close 2027-11-15, first payment 2028-02-29 (the payment day 31 in a leap February):
    # 47 days in 2027 (15 Nov -> 1 Jan), 59 in 2028 (1 Jan -> 29 Feb), 106 in all;
    # 30/360 and 30E/360: (2028 - 2027) x 360 + (2 - 11) x 30 + (29 - 15) = 104 days
    ("ACT/ACT ISDA", 47 / 365 + 59 / 366), ("ACT/360", 106 / 360), ("ACT/365F", 106 / 365),
    ("30/360", 104 / 360), ("30E/360", 104 / 360),
])
def test_stub_across_a_leap_year_end(engine, day_count, fraction):
    result = run(stub_deal(day_count, close="2027-11-15", first="2028-02-29", final=""), "base", engine)
    got = ledger_lines(result)
    assert str(result.cash_flows()["date"].iloc[1]) == "2028-02-29"
    assert got["loan.interest_paid"][1] == pytest.approx(60.0 * fraction, rel=1e-12)
    # the next period is regular: 29 Feb -> 31 May (payment day 31), 92 actual days
    assert str(result.cash_flows()["date"].iloc[2]) == "2028-05-31"


def test_30e_and_30_360_differ_on_a_31st():
    # monthly on the 31st from close 2026-02-28: period 1 ends 2026-03-31. 30/360 (bond
    # basis) keeps the 31st when the start is before the 30th: 30 + 3 = 33 days; 30E/360
    # makes every 31st the 30th: 30 + 2 = 32 days.
    text = STUBS.replace('period = "quarter"', 'period = "month"')
    for day_count, days in (("30/360", 33), ("30E/360", 32)):
        deal = deal_from_toml(text.replace("DAY_COUNT", day_count).replace("CLOSE", "2026-02-28")
                              .replace("first_payment_date = FIRST\n", "").replace("FINAL", ""), "<31st>")
        got = ledger_lines(run(deal, "base", "reference"))
        assert got["loan.interest_paid"][1] == pytest.approx(1000 * 0.06 * days / 360, rel=1e-12), day_count


# --------------------------------------------------------------------------- level payments
MORTGAGE = """
[deal]
name = "hand-mortgage"
kind = "example"
units = "USD"

[timeline]
financial_close = 2026-01-15
period = "month"
operating_periods = MONTHS

[[assets]]
name = "house"
land = { cost = 1000000.0 }

[[leases]]
tenant = "Tenant"
annual_rent = 60000.0
term_months = MONTHS

[[tranches]]
name = "loan"
amount = 500000.0
rate = { kind = "fixed", annual = 0.06 }
day_count = "30/360"
amortisation = AMORTISATION

[[waterfall]]
step = "interest"
tranche = "loan"

[[waterfall]]
step = "principal"
tranche = "loan"

[[waterfall]]
step = "distribute"

[exit]
value_share = 1.0
cost_share = 0.0

[[scenarios]]
name = "base"
"""


def mortgage(amortisation: str, months: int = 12):
    return deal_from_toml(MORTGAGE.replace("AMORTISATION", amortisation).replace("MONTHS", str(months)),
                          "<hand-mortgage>")


STATED = '{ kind = "level_payment", payment = 3125.00, round_to = "cent" }'


def _servicer_schedule(balance: str, monthly_rate: str, payment: str, months: int):
    """A servicer's schedule in decimal arithmetic (round half up to the cent), the
    independent peer: (interest, principal) of months 1..months-1 and the balloon."""
    cent, b, r, a = Decimal("0.01"), Decimal(balance), Decimal(monthly_rate), Decimal(payment)
    rows = []
    for _ in range(months - 1):
        interest = (b * r).quantize(cent, rounding=ROUND_HALF_UP)
        rows.append((float(interest), float(a - interest)))
        b -= a - interest
    interest = (b * r).quantize(cent, rounding=ROUND_HALF_UP)
    rows.append((float(interest), float(b)))     # maturity: interest and the whole balance
    return rows


@pytest.mark.parametrize("engine", ENGINES)
def test_stated_payment_rounded_to_the_cent(engine):
    # 500,000.00 at 6% (30/360 monthly from the 15th: 0.5% a month), paying 3,125.00 a
    # month, the rest a balloon at month 12 (paid by the exit sale of the 1,000,000 house).
    # By hand:
    #   month 1: interest 500,000.00 x 0.5% = 2,500.00; principal 625.00; balance 499,375.00
    #   month 2: 499,375.00 x 0.5% = 2,496.875 -> 2,496.88 (half a cent rounds up);
    #            principal 628.12; balance 498,746.88
    #   month 3: 498,746.88 x 0.5% = 2,493.7344 -> 2,493.73; principal 631.27; balance 498,115.61
    result = run(mortgage(STATED), "base", engine)
    got = ledger_lines(result)
    assert got["loan.interest_paid"][1:4] == [2500.00, 2496.88, 2493.73]
    assert got["loan.principal_paid"][1:4] == pytest.approx([625.00, 628.12, 631.27], abs=1e-9)
    assert got["loan.balance_close"][3] == pytest.approx(498115.61, abs=1e-9)
    peer = _servicer_schedule("500000.00", "0.005", "3125.00", 12)
    assert_lines(got, {"loan.interest_paid": [0.0] + [i for i, _ in peer],
                       "loan.principal_paid": [0.0] + [p for _, p in peer]}, abs_tol=1e-8, what=engine)
    # every interest amount a whole number of cents
    assert all(abs(x * 100 - round(x * 100)) < 1e-6 for x in got["loan.interest_paid"])
    assert result.metrics["default_period"] is None


@pytest.mark.parametrize("engine", ENGINES)
def test_computed_payment_rounded_to_the_cent(engine):
    # The published monthly payment on 500,000 at 6% over 30 years is 2,997.75
    # (500,000 x 0.005 / (1 - 1.005^-360) = 2,997.7526 -> 2,997.75). Month 1: interest
    # 2,500.00, principal 497.75; month 2: 499,502.25 x 0.5% = 2,497.51125 -> 2,497.51,
    # principal 500.24. The last month pays what is left (the rounding's residue).
    result = run(mortgage('{ kind = "level_payment", periods = 360, round_to = "cent" }', 360), "base", engine)
    got = ledger_lines(result)
    assert got["loan.interest_paid"][1:3] == [2500.00, 2497.51]
    assert got["loan.principal_paid"][1:3] == pytest.approx([497.75, 500.24], abs=1e-9)
    peer = _servicer_schedule("500000.00", "0.005", "2997.75", 360)
    assert_lines(got, {"loan.interest_paid": [0.0] + [i for i, _ in peer],
                       "loan.principal_paid": [0.0] + [p for _, p in peer]}, abs_tol=1e-7, what=engine)


def test_rounding_to_a_stated_increment_and_in_millions():
    # round_to a number rounds to that multiple (deal units); 'cent' in USD millions is
    # 1e-8: 500 (millions) x 0.5% = 2.5 exactly either way; month 2 on 499.375 is
    # 2.496875 -> 2.50 to the nearest 0.05 (2.496875 / 0.05 = 49.94 -> 50)
    text = MORTGAGE.replace('units = "USD"', 'units = "USD millions"').replace("1000000.0", "1000.0") \
        .replace("500000.0", "500.0").replace("60000.0", "60.0").replace("MONTHS", "12")
    deal = deal_from_toml(text.replace("AMORTISATION", '{ kind = "level_payment", payment = 3.125, round_to = 0.05 }'))
    got = ledger_lines(run(deal, "base", "reference"))
    assert got["loan.interest_paid"][2] == pytest.approx(2.50, abs=1e-12)
    deal = deal_from_toml(text.replace("AMORTISATION", '{ kind = "level_payment", payment = 3.125, round_to = "cent" }'))
    got = ledger_lines(run(deal, "base", "reference"))
    assert got["loan.interest_paid"][2] == pytest.approx(2.49687500, abs=1e-14)
    assert deal.tranches[0].amortisation.round_to == "cent"


# --------------------------------------------------------------------------- workbooks
CASES = {"annual": lambda: (annual_deal(), "base"),
         "stubs": lambda: (stub_deal("ACT/ACT ISDA"), "base"),
         "stated-payment": lambda: (mortgage(STATED), "base")}


@pytest.fixture(scope="module")
def lo_conventions(tmp_path_factory):
    """{case: recalculated ledger}: every workbook of this file in one LibreOffice start."""
    from waterfall.output.recalc import soffice
    if soffice() is None:
        pytest.skip("LibreOffice (soffice) is not installed")
    return recalculate_cases(CASES, tmp_path_factory.mktemp("conventions-lo"))


@needs_lo
@pytest.mark.parametrize("case", sorted(CASES))
def test_workbook_recalculates_to_the_engine(lo_conventions, case):
    got = lo_conventions[case]
    if isinstance(got, Exception):
        raise got
    deal, scenario = CASES[case]()
    want = ledger_lines(run(deal, scenario, "reference"))
    assert_lines(got, want, what=f"workbook {case}")
