"""Capitalised interest (PIK), hand-worked: in a capitalised period the interest accrued
on the opening balance is added to the balance instead of being due in cash. A tranche
with capitalise_interest = "construction" capitalises during construction (interest
during construction, IDC) and pays cash from COD, amortising the balance it has then;
one with "always" capitalises every period (a PIK note) and repays the grown balance at
maturity. Capitalised interest is not debt service (DSCR). (A soft tranche's cash
shortfall capitalised is anchored in test_interest.py.)

Deal (USD millions, quarterly, 30/360 from the 15th: 0.25 a quarter):
  2 construction quarters then 4 operating (COD q3, horizon q6).
  asset 1,000 paid over construction: 500 in q1, 500 in q2. Funding pro rata to the spend:
  senior 500 (4% = 1% a quarter, capitalise in construction, straight-line over 4 from COD)
  draws 250 + 250; mezz 100 (8% = 2% a quarter, capitalise always, bullet at q6) draws
  50 + 50; equity 200 + 200.
  rent 1,040 a year = 260 a quarter from COD (q3-q6); opex 16 a year = 4 from COD; CFADS 256.
  priority: interest senior, principal senior, interest mezz, principal mezz, distribute.
"""
from __future__ import annotations

from functools import lru_cache

import pytest

from .handworked import (
    ENGINES, NAN, assert_lines, deal_from_toml, ledger_lines, needs_lo, run, workbook_lines,
)

DEAL = """
funding = "pro_rata"

[deal]
name = "hand-pik"
kind = "example"

[timeline]
financial_close = 2026-01-15
period = "quarter"
construction_periods = 2
operating_periods = 4

[[assets]]
name = "site"
spend = "over_construction"
shell = { cost = 1000.0 }

[[leases]]
tenant = "Tenant"
annual_rent = 1040.0
term_months = 12

[[opex]]
name = "opex"
annual_amount = 16.0

[[tranches]]
name = "senior"
amount = 500.0
rate = { kind = "fixed", annual = 0.04 }
day_count = "30/360"
amortisation = { kind = "straight_line", periods = 4 }
capitalise_interest = "construction"

[[tranches]]
name = "mezz"
amount = 100.0
rate = { kind = "fixed", annual = 0.08 }
day_count = "30/360"
amortisation = { kind = "bullet" }
capitalise_interest = "always"

[[waterfall]]
step = "interest"
tranche = "senior"

[[waterfall]]
step = "principal"
tranche = "senior"

[[waterfall]]
step = "interest"
tranche = "mezz"

[[waterfall]]
step = "principal"
tranche = "mezz"

[[waterfall]]
step = "distribute"
"""


@lru_cache(maxsize=None)
def deal():
    return deal_from_toml(DEAL, "tests/steps/test_pik.py")


# t0: nothing spent, nothing drawn.
# q1: capex 500 = senior 250 + mezz 50 + equity 200; interest on opening 0 is 0; cash 0.
# q2: senior: 250 x 1% = 2.5 capitalised -> 252.5, + draw 250 -> 502.5.
#     mezz: 50 x 2% = 1 capitalised -> 51, + draw 50 -> 101. equity 200; cash 0.
#     No cash debt service in construction: DS 0, DSCR undefined.
#   senior schedule: 502.5 at COD / 4 = 125.625 a quarter in q3-q6.
# q3: senior interest 502.5 x 1% = 5.025 in cash; principal 125.625 -> 376.875.
#     mezz 101 x 2% = 2.02 capitalised -> 103.02; no principal (bullet).
#     DS 5.025 + 125.625 = 130.65; equity 256 - 130.65 = 125.35.
# q4: senior 376.875 x 1% = 3.76875 + 125.625 -> 251.25; DS 129.39375; equity 126.60625.
#     mezz 103.02 x 2% = 2.0604 -> 105.0804.
# q5: senior 2.5125 + 125.625 -> 125.625; DS 128.1375; equity 127.8625.
#     mezz 105.0804 x 2% = 2.101608 -> 107.182008.
# q6: senior 1.25625 + 125.625 -> 0; mezz 107.182008 x 2% = 2.14364016 capitalised ->
#     109.32564816, all due at maturity (the balloon is not in DS): DS 126.88125;
#     equity 256 - 126.88125 - 109.32564816 = 19.79310184.
BASE = {
    "capex": [0, 500, 500, 0, 0, 0, 0],
    "draws": [0, 300, 300, 0, 0, 0, 0],
    "equity_in": [0, 200, 200, 0, 0, 0, 0],
    "cfads": [0, 0, 0, 256, 256, 256, 256],
    "cash_available": [0, 0, 0, 256, 256, 256, 256],
    "debt_service": [0, 0, 0, 130.65, 129.39375, 128.1375, 126.88125],
    "dscr": [NAN, NAN, NAN, 256 / 130.65, 256 / 129.39375, 256 / 128.1375, 256 / 126.88125],
    "senior.draw": [0, 250, 250, 0, 0, 0, 0],
    "senior.balance_open": [0, 0, 250, 502.5, 376.875, 251.25, 125.625],
    "senior.interest_due": [0, 0, 2.5, 5.025, 3.76875, 2.5125, 1.25625],
    "senior.interest_capitalised": [0, 0, 2.5, 0, 0, 0, 0],
    "senior.interest_paid": [0, 0, 0, 5.025, 3.76875, 2.5125, 1.25625],
    "senior.principal_due": [0, 0, 0, 125.625, 125.625, 125.625, 125.625],
    "senior.principal_paid": [0, 0, 0, 125.625, 125.625, 125.625, 125.625],
    "senior.balance_close": [0, 250, 502.5, 376.875, 251.25, 125.625, 0],
    "mezz.draw": [0, 50, 50, 0, 0, 0, 0],
    "mezz.balance_open": [0, 0, 50, 101, 103.02, 105.0804, 107.182008],
    "mezz.interest_due": [0, 0, 1, 2.02, 2.0604, 2.101608, 2.14364016],
    "mezz.interest_capitalised": [0, 0, 1, 2.02, 2.0604, 2.101608, 2.14364016],
    "mezz.interest_paid": [0, 0, 0, 0, 0, 0, 0],
    "mezz.principal_due": [0, 0, 0, 0, 0, 0, 109.32564816],
    "mezz.principal_paid": [0, 0, 0, 0, 0, 0, 109.32564816],
    "mezz.balance_close": [0, 50, 101, 103.02, 105.0804, 107.182008, 0],
    "equity_distribution": [0, 0, 0, 125.35, 126.60625, 127.8625, 19.79310184],
    "sponsor_support": [0, 0, 0, 0, 0, 0, 0],
    "event_of_default": [0, 0, 0, 0, 0, 0, 0],
}


@pytest.mark.parametrize("engine", ENGINES)
def test_pik_ledger_by_hand(engine):
    result = run(deal(), "base", engine)
    assert_lines(ledger_lines(result), BASE, what=f"base/{engine}")
    assert result.metrics["default_period"] is None


def workbook_case():
    return deal(), "base"


@needs_lo
def test_pik_workbook_recalculates_to_the_hand_ledger(lo_ledgers):
    assert_lines(workbook_lines(lo_ledgers, __name__), BASE, what="LibreOffice base")
