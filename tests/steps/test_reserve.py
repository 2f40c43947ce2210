"""The `reserve` step, hand-worked: every reserve balance is released into cash at the
start of the period; the step then sets the account to min(target, cash), which refills
a shortfall and releases a surplus. A DSRA's target is the scheduled debt service
(cash interest + scheduled principal, no balloon) of the next `target_periods` periods on
its tranches, projected from the balance after this period's payments; a fixed reserve
targets its amount; every target is zero at the last period.

Deal (USD millions, quarterly, 30/360 from the 15th: 0.25 a quarter):
  asset 1,000 at close; senior 400, 4% fixed = 1% a quarter, straight-line over 4
  quarters = 100 a quarter; equity 600. rent 640 a year = 160 a quarter; opex 16 a year
  = 4; CFADS 156.
  accounts: dsra (2 periods of senior debt service), maintenance (fixed 10).
  priority: interest, principal, reserve dsra, reserve maintenance, distribute.
"""
from __future__ import annotations

from functools import lru_cache

import pytest

from .handworked import (
    ENGINES, NAN, assert_lines, deal_from_toml, ledger_lines, needs_lo, run, workbook_lines,
)

DEAL = """
[deal]
name = "hand-reserve"
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
annual_rent = 640.0
term_months = 12

[[opex]]
name = "opex"
annual_amount = 16.0

[[tranches]]
name = "senior"
amount = 400.0
rate = { kind = "fixed", annual = 0.04 }
day_count = "30/360"
amortisation = { kind = "straight_line", periods = 4 }
capitalise_interest = "never"

[[accounts]]
name = "dsra"
kind = "dsra"
target_periods = 2
tranches = ["senior"]

[[accounts]]
name = "maintenance"
kind = "fixed"
target = 10.0

[[waterfall]]
step = "interest"
tranche = "senior"

[[waterfall]]
step = "principal"
tranche = "senior"

[[waterfall]]
step = "reserve"
account = "dsra"

[[waterfall]]
step = "reserve"
account = "maintenance"

[[waterfall]]
step = "distribute"

[[scenarios]]
name = "half-q3"
description = "Rent x 0.5 in q3: 80."
adjustments = [{ kind = "rent_multiplier", from_period = 3, to_period = 3, multiplier = 0.5 }]

[[scenarios]]
name = "dark-q4"
description = "No rent in q4."
adjustments = [{ kind = "rent_multiplier", from_period = 4, to_period = 4, multiplier = 0.0 }]
"""


@lru_cache(maxsize=None)
def deal():
    return deal_from_toml(DEAL, "tests/steps/test_reserve.py")


# Base:
# t0: cash 0. dsra target from balance 400: q1 4 + 100, q2 3 + 100 = 207; funded
#     min(207, 0) = 0. maintenance min(10, 0) = 0.
# q1: release 0; cash 156; interest 4, principal 100 -> 52; balance 300.
#     dsra target: q2 3 + 100 + q3 2 + 100 = 205; funded min(205, 52) = 52 -> cash 0.
#     maintenance 0; equity 0.
# q2: release 52 -> cash 156 + 52 = 208; interest 3, principal 100 -> 105; balance 200.
#     dsra target: q3 2 + 100 + q4 1 + 100 = 203; funded 105 -> 0. maintenance 0.
# q3: release 105 -> cash 261; interest 2, principal 100 -> 159; balance 100.
#     dsra target: q4 1 + 100 = 101 only (q5 is past the horizon): 101, so 4 of the 105
#     released stays in cash -> 58; maintenance 10 -> 48 to equity.
# q4 (last): release 101 + 10 = 111 -> cash 267; interest 1, principal 100 -> 166;
#     every target 0: both accounts close at 0; equity 166.
#   check: equity 48 + 166 = 214 = CFADS 4 x 156 - debt service 410.
BASE = {
    "cfads": [0, 156, 156, 156, 156],
    "reserve_release": [0, 0, 52, 105, 111],
    "cash_available": [0, 156, 208, 261, 267],
    "debt_service": [0, 104, 103, 102, 101],
    "dscr": [NAN, 156 / 104, 156 / 103, 156 / 102, 156 / 101],
    "senior.interest_paid": [0, 4, 3, 2, 1],
    "senior.principal_paid": [0, 100, 100, 100, 100],
    "senior.balance_close": [400, 300, 200, 100, 0],
    "dsra.balance_open": [0, 0, 52, 105, 101],
    "dsra.balance_close": [0, 52, 105, 101, 0],
    "maintenance.balance_open": [0, 0, 0, 0, 10],
    "maintenance.balance_close": [0, 0, 0, 10, 0],
    "reserve_funding": [0, 52, 105, 111, 0],
    "sponsor_support": [0, 0, 0, 0, 0],
    "equity_distribution": [0, 0, 0, 48, 166],
    "event_of_default": [0, 0, 0, 0, 0],
}

# half-q3: q3 rent 80, CFADS 76, DSCR 76/102.
# q3: release 105 -> cash 181; interest 2, principal 100 -> 79; dsra refilled only
#     min(101, 79) = 79 -> 0; maintenance (behind it) min(10, 0) = 0; equity 0.
# q4: release 79 -> cash 156 + 79 = 235; debt service 101 -> 134 to equity.
HALF_Q3 = {
    **BASE,
    "cfads": [0, 156, 156, 76, 156],
    "reserve_release": [0, 0, 52, 105, 79],
    "cash_available": [0, 156, 208, 181, 235],
    "dscr": [NAN, 156 / 104, 156 / 103, 76 / 102, 156 / 101],
    "dsra.balance_open": [0, 0, 52, 105, 79],
    "dsra.balance_close": [0, 52, 105, 79, 0],
    "maintenance.balance_open": [0, 0, 0, 0, 0],
    "maintenance.balance_close": [0, 0, 0, 0, 0],
    "reserve_funding": [0, 52, 105, 79, 0],
    "equity_distribution": [0, 0, 0, 0, 134],
}

# dark-q4: q4 rent 0, CFADS -4, DSCR -4/101. The released reserves 111 meet it: cash
# -4 + 111 = 107 >= 0, so no sponsor support; interest 1 -> 106, principal 100 -> 6 to equity.
DARK_Q4 = {
    **BASE,
    "cfads": [0, 156, 156, 156, -4],
    "cash_available": [0, 156, 208, 261, 107],
    "dscr": [NAN, 156 / 104, 156 / 103, 156 / 102, -4 / 101],
    "equity_distribution": [0, 0, 0, 48, 6],
}

EXPECTED = {"base": BASE, "half-q3": HALF_Q3, "dark-q4": DARK_Q4}


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize("scenario", EXPECTED)
def test_reserve_ledger_by_hand(engine, scenario):
    result = run(deal(), scenario, engine)
    assert_lines(ledger_lines(result), EXPECTED[scenario], what=f"{scenario}/{engine}")
    assert result.metrics["default_period"] is None


def workbook_case():
    return deal(), "base"


@needs_lo
def test_reserve_workbook_recalculates_to_the_hand_ledger(lo_ledgers):
    assert_lines(workbook_lines(lo_ledgers, __name__), BASE, what="LibreOffice base")
