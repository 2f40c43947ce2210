"""Timeline and payment conventions (docs/conventions.md), hand-worked: annual periods,
in the reference, the kernel and the live-formula workbook recalculated by LibreOffice.

Every expected number is worked out by hand in the comments (or by the closed-form
annuity formula, independent of the engine's period loop); none is the engine's output."""
from __future__ import annotations

import datetime as dt

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


# --------------------------------------------------------------------------- workbooks
CASES = {"annual": lambda: (annual_deal(), "base")}


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
