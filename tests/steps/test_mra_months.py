"""A maintenance reserve (a fixed reserve) whose target is stated in months of a cost line
(issue 14, item 4): the same target in USD whatever the period length, hand-worked on
quarterly and on monthly periods: reference, kernel and the live-formula workbook
recalculated by LibreOffice.

Deal (USD millions, 2 years from 2026-01-15, no construction): asset 1,000 at close;
senior 100 at 4% (30/360), a bullet at the end; lease 800 a year; opex "O&M" 120 a year
escalating 5% a year from operation. The MRA targets 6 months of O&M:
6 / 12 x 120 = 60 in year 1 and 6 / 12 x 126 = 63 in year 2 (0 in the last period, when
every reserve is released), on quarters and on months alike.
priority: interest, principal, reserve mra, distribute.

Quarters (rent 200, O&M 30 then 31.5, interest 1 a quarter; equity in 900 at close):
q1: CFADS 170 - 1 = 169; MRA 60; equity 109.
q2-q4: 170 + 60 released - 1 = 229; MRA 60; equity 169.
q5: CFADS 200 - 31.5 = 168.5, + 60 - 1 = 227.5; MRA 63; equity 164.5.
q6-q7: 168.5 + 63 - 1 = 230.5; MRA 63; equity 167.5.
q8: 168.5 + 63 - 1 - 100 (the bullet) = 130.5; MRA 0; equity 130.5.
Months (rent 66.667, O&M 10 then 10.5, interest 1/3 a month):
m1: 66.667 - 10 - 0.333 = 56.333 < 60: MRA 56.333, equity 0.
m2: 56.667 + 56.333 - 0.333 = 112.667: MRA 60, equity 52.667.
m12: MRA 60; m13: MRA 63 (cash 56.167 + 60 - 0.333 = 115.833: equity 52.833); m23: 63; m24: 0.
"""
from __future__ import annotations

from functools import lru_cache

import pytest

from tests.invariants import assert_conserved

from .handworked import ENGINES, assert_lines, deal_from_toml, ledger_lines, needs_lo, run, workbook_lines

DEAL = """
[deal]
name = "hand-mra-months"
kind = "example"

[timeline]
financial_close = 2026-01-15
period = "quarter"
operating_periods = 8

[[assets]]
name = "site"
shell = { cost = 1000.0 }

[[leases]]
tenant = "Tenant"
annual_rent = 800.0
term_months = 24

[[opex]]
name = "O&M"
annual_amount = 120.0
escalation = 0.05

[[tranches]]
name = "senior"
amount = 100.0
rate = { kind = "fixed", annual = 0.04 }
day_count = "30/360"
amortisation = { kind = "bullet" }
capitalise_interest = "never"

[[accounts]]
name = "mra"
kind = "fixed"
target_months = 6
target_opex = ["O&M"]

[[waterfall]]
step = "interest"
tranche = "senior"

[[waterfall]]
step = "principal"
tranche = "senior"

[[waterfall]]
step = "reserve"
account = "mra"

[[waterfall]]
step = "distribute"
"""

QUARTERS = {
    "equity_in": [900, 0, 0, 0, 0, 0, 0, 0, 0],
    "mra.balance_close": [0, 60, 60, 60, 60, 63, 63, 63, 0],
    "equity_distribution": [0, 109, 169, 169, 169, 164.5, 167.5, 167.5, 130.5],
}


@lru_cache(maxsize=None)
def deal(period: str = "quarter"):
    text = DEAL if period == "quarter" else DEAL.replace('period = "quarter"', 'period = "month"').replace(
        "operating_periods = 8", "operating_periods = 24")
    return deal_from_toml(text, "tests/steps/test_mra_months.py")


@pytest.mark.parametrize("engine", ENGINES)
def test_mra_of_six_months_of_om_on_quarters(engine):
    result = run(deal(), "base", engine)
    assert_lines(ledger_lines(result), QUARTERS, what=f"MRA quarters/{engine}")
    assert_conserved(result.program, result.ledger)


@pytest.mark.parametrize("engine", ENGINES)
def test_mra_target_is_the_same_usd_on_months(engine):
    result = run(deal("month"), "base", engine)
    lines = ledger_lines(result)
    balance = lines["mra.balance_close"]
    assert balance[1] == pytest.approx(800 / 12 - 10 - 100 * 0.04 / 12, rel=1e-12)   # 56.333, short of 60
    assert balance[2:13] == pytest.approx([60.0] * 11, rel=1e-12)
    assert balance[13:24] == pytest.approx([63.0] * 11, rel=1e-12)
    assert balance[24] == 0.0
    assert lines["equity_distribution"][2] == pytest.approx(112.0 + 2 / 3 - 60, rel=1e-12)
    assert lines["equity_distribution"][13] == pytest.approx(800 / 12 - 10.5 + 60 - 1 / 3 - 63, rel=1e-12)
    # the same calendar year, the same USD: month 12 = quarter 4, month 13 = quarter 5
    q = run(deal(), "base", engine).program.acct_target[0]
    m = result.program.acct_target[0]
    assert (m[12], m[13]) == pytest.approx((q[4], q[5]), rel=1e-12)
    assert_conserved(result.program, result.ledger)


def workbook_case():
    return deal(), "base"


@needs_lo
def test_mra_months_workbook_recalculates_to_the_hand_ledger(lo_ledgers):
    assert_lines(workbook_lines(lo_ledgers, __name__), QUARTERS, what="LibreOffice MRA in months")
