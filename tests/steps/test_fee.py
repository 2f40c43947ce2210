"""The `fee` step, hand-worked: pay the fee due this period as far as cash allows; a
shortfall is dropped (not carried to the next period). A fee is due only in
[from_period, to_period], at annual amount x months / 12.

Deal (USD millions, quarterly, 30/360 from the 15th: every quarter accrues exactly 0.25):
  asset 1,000 paid at close; senior 400 drawn at close, 4% fixed = 1% a quarter,
  straight-line over 4 quarters = 100 a quarter; equity 1,000 - 400 = 600.
  rent 480 a year = 120 a quarter (q1-q4); opex 20 a year = 5 a quarter; CFADS 115.
  fees: agency 8 a year = 2 a quarter in q1-q3 (to_period 3);
        trustee 4 a year = 1 a quarter from q2 (from_period 2) to the end.
  priority: fee agency, interest, principal, fee trustee, distribute.
"""
from __future__ import annotations

from functools import lru_cache

import pytest

from .handworked import (
    ENGINES, NAN, assert_lines, deal_from_toml, ledger_lines, needs_lo, run, workbook_lines,
)

DEAL = """
[deal]
name = "hand-fee"
kind = "example"

[timeline]
financial_close = 2026-01-15
period = "quarter"
operating_periods = 4

[[assets]]
name = "site"
shell = { cost = 1000.0 }

[[leases]]
tenant = "Tenant"
annual_rent = 480.0
term_months = 12

[[opex]]
name = "opex"
annual_amount = 20.0

[[tranches]]
name = "senior"
amount = 400.0
rate = { kind = "fixed", annual = 0.04 }
day_count = "30/360"
amortisation = { kind = "straight_line", periods = 4 }
capitalise_interest = "never"

[[fees]]
name = "agency"
annual_amount = 8.0
to_period = 3

[[fees]]
name = "trustee"
annual_amount = 4.0
from_period = 2

[[waterfall]]
step = "fee"
fee = "agency"

[[waterfall]]
step = "interest"
tranche = "senior"

[[waterfall]]
step = "principal"
tranche = "senior"

[[waterfall]]
step = "fee"
fee = "trustee"

[[waterfall]]
step = "distribute"

[[scenarios]]
name = "squeeze"
description = "Rent x 0.9125 in q3 only: 109.5 instead of 120."
adjustments = [{ kind = "rent_multiplier", from_period = 3, to_period = 3, multiplier = 0.9125 }]
"""


@lru_cache(maxsize=None)
def deal():
    return deal_from_toml(DEAL, "tests/steps/test_fee.py")


# Base, period by period (t0 = financial close):
# t0: capex 1000 = draw 400 + equity 600; cash 0; nothing due; balance 400.
# q1: rent 120 - opex 5 = CFADS 115; cash 115.
#     agency due 2 (in [1, 3]) paid 2 -> 113; interest 400 x 1% = 4 -> 109;
#     principal 100 -> 9; trustee due 0 (from q2) -> equity 9. balance 300.
#     debt service 4 + 100 = 104 (fees are not debt service): DSCR 115/104.
# q2: agency 2 -> 113; interest 300 x 1% = 3 -> 110; principal 100 -> 10;
#     trustee 1 -> 9 to equity. balance 200. DS 103, DSCR 115/103.
# q3: agency 2 -> 113; interest 2 -> 111; principal 100 -> 11; trustee 1 -> 10 equity.
#     balance 100. DS 102.
# q4: agency due 0 (to_period 3); interest 1 -> 114; principal 100 (maturity: the whole
#     balance, = the schedule) -> 14; trustee 1 -> 13 equity. balance 0. DS 101.
BASE = {
    "revenue": [0, 120, 120, 120, 120],
    "opex": [0, 5, 5, 5, 5],
    "cfads": [0, 115, 115, 115, 115],
    "capex": [1000, 0, 0, 0, 0],
    "equity_in": [600, 0, 0, 0, 0],
    "draws": [400, 0, 0, 0, 0],
    "cash_available": [0, 115, 115, 115, 115],
    "debt_service": [0, 104, 103, 102, 101],
    "dscr": [NAN, 115 / 104, 115 / 103, 115 / 102, 115 / 101],
    "agency.due": [0, 2, 2, 2, 0],
    "agency.paid": [0, 2, 2, 2, 0],
    "trustee.due": [0, 0, 1, 1, 1],
    "trustee.paid": [0, 0, 1, 1, 1],
    "fees_paid": [0, 2, 3, 3, 1],
    "senior.balance_open": [0, 400, 300, 200, 100],
    "senior.interest_due": [0, 4, 3, 2, 1],
    "senior.interest_paid": [0, 4, 3, 2, 1],
    "senior.principal_due": [0, 100, 100, 100, 100],
    "senior.principal_paid": [0, 100, 100, 100, 100],
    "senior.balance_close": [400, 300, 200, 100, 0],
    "equity_distribution": [0, 9, 9, 10, 13],
    "sponsor_support": [0, 0, 0, 0, 0],
    "event_of_default": [0, 0, 0, 0, 0],
}

# squeeze: q3 rent 120 x 0.9125 = 109.5, CFADS 104.5, DSCR 104.5/102.
# q3: agency 2 -> 102.5; interest 2 -> 100.5; principal 100 -> 0.5;
#     trustee due 1, paid 0.5: the 0.5 shortfall is dropped, no default; equity 0.
# q4: as base: trustee due 1 (not 1.5: nothing carried), paid 1; equity 13.
SQUEEZE = {
    **BASE,
    "revenue": [0, 120, 120, 109.5, 120],
    "cfads": [0, 115, 115, 104.5, 115],
    "cash_available": [0, 115, 115, 104.5, 115],
    "dscr": [NAN, 115 / 104, 115 / 103, 104.5 / 102, 115 / 101],
    "trustee.paid": [0, 0, 1, 0.5, 1],
    "fees_paid": [0, 2, 3, 2.5, 1],
    "equity_distribution": [0, 9, 9, 0, 13],
}

EXPECTED = {"base": BASE, "squeeze": SQUEEZE}


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize("scenario", EXPECTED)
def test_fee_ledger_by_hand(engine, scenario):
    result = run(deal(), scenario, engine)
    assert_lines(ledger_lines(result), EXPECTED[scenario], what=f"{scenario}/{engine}")
    assert result.metrics["default_period"] is None


def workbook_case():
    return deal(), "squeeze"


@needs_lo
def test_fee_workbook_recalculates_to_the_hand_ledger(lo_ledgers):
    assert_lines(workbook_lines(lo_ledgers, __name__), SQUEEZE, what="LibreOffice squeeze")
