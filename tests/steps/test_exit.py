"""The exit sale at the last period, hand-worked: value_share x the assets' curve value
(after scenario multipliers) less cost_share of it is cash in the last period; it can
repay the balloon there and the rest goes to equity. If the deal still defaults in the
last period the assets are already sold: no seizure value on top. A default before the
last period seizes the assets instead (no exit).

Deal (USD millions, quarterly, 30/360 from the 15th: 0.25 a quarter):
  asset: shell 1,000 at close worth 1,000 x (1 - age/40 months): 850 at q2, 700 at q4.
  senior 600 at 4% fixed = 1% a quarter, bullet at q4; equity 400.
  rent 160 a year = 40 a quarter; opex 16 a year = 4; CFADS 36.
  exit: value_share 0.9, cost_share 0.05: 0.9 x 0.95 = 0.855 of the value.
  enforcement: fire-sale 50%, no costs, sold at once (months_to_sale = 0).
  sponsor support: unlimited, stated explicitly (it is no longer automatic): the dark-q2
  shortfall of 4 is the sponsors', so the test stays about the exit, not a protective
  advance (tests/steps/test_credit.py covers those).
  priority: interest, principal, distribute.
"""
from __future__ import annotations

from functools import lru_cache

import pytest

from .handworked import (
    ENGINES, NAN, assert_lines, assert_metrics, deal_from_toml, ledger_lines, needs_lo, run,
    workbook_lines,
)

DEAL = """
[deal]
name = "hand-exit"
kind = "example"

[timeline]
financial_close = 2026-01-15
period = "quarter"
operating_periods = 4

[[assets]]
name = "site"
shell = { cost = 1000.0, curve = { kind = "straight_line", life_months = 40 } }

[[leases]]
tenant = "Tenant"
annual_rent = 160.0
term_months = 12

[[opex]]
name = "opex"
annual_amount = 16.0

[[tranches]]
name = "senior"
amount = 600.0
rate = { kind = "fixed", annual = 0.04 }
day_count = "30/360"
amortisation = { kind = "bullet" }
capitalise_interest = "never"

[exit]
value_share = 0.9
cost_share = 0.05

[sponsor_support]
kind = "unlimited"

[enforcement]
fire_sale_discount = 0.5
months_to_sale = 0

[[waterfall]]
step = "interest"
tranche = "senior"

[[waterfall]]
step = "principal"
tranche = "senior"

[[waterfall]]
step = "distribute"

[[scenarios]]
name = "value-down"
description = "Every asset value x 0.8 from q1."
adjustments = [{ kind = "asset_value_multiplier", component = "all", from_period = 1, multiplier = 0.8 }]

[[scenarios]]
name = "dark-q2"
adjustments = [{ kind = "rent_multiplier", from_period = 2, to_period = 2, multiplier = 0.0 }]
"""


@lru_cache(maxsize=None)
def deal():
    return deal_from_toml(DEAL, "tests/steps/test_exit.py")


# Base:
# q1-q3: interest 6, no principal (bullet): DS 6, DSCR 6; equity 30 a quarter.
# q4: exit 700 x 0.855 = 598.5; cash 36 + 598.5 = 634.5; interest 6; balloon 600 (not in
#     DS: DS 6, DSCR 6); equity 634.5 - 606 = 28.5.
BASE = {
    "cfads": [0, 36, 36, 36, 36],
    "exit_proceeds": [0, 0, 0, 0, 598.5],
    "cash_available": [0, 36, 36, 36, 634.5],
    "debt_service": [0, 6, 6, 6, 6],
    "dscr": [NAN, 6, 6, 6, 6],
    "senior.interest_paid": [0, 6, 6, 6, 6],
    "senior.principal_due": [0, 0, 0, 0, 600],
    "senior.principal_paid": [0, 0, 0, 0, 600],
    "senior.balance_close": [600, 600, 600, 600, 0],
    "seizure_gross": [0, 0, 0, 0, 0],
    "equity_distribution": [0, 30, 30, 30, 28.5],
    "event_of_default": [0, 0, 0, 0, 0],
}

# value-down: q4 value 700 x 0.8 = 560; exit 560 x 0.855 = 478.8; cash 514.8; interest 6
#   -> 508.8 of the 600 balloon: 91.2 unpaid at maturity -> default. The assets are sold
#   already: seizure 0; pool 0; write-off 91.2; equity 0.
#   claim 91.2 + 508.8 + 6 = 606; received 514.8; loss 91.2.
VALUE_DOWN = {
    **BASE,
    "exit_proceeds": [0, 0, 0, 0, 478.8],
    "cash_available": [0, 36, 36, 36, 514.8],
    "senior.principal_paid": [0, 0, 0, 0, 508.8],
    "senior.recovery_interest": [0, 0, 0, 0, 0],
    "senior.recovery_principal": [0, 0, 0, 0, 0],
    "senior.write_off": [0, 0, 0, 0, 91.2],
    "seizure_gross": [0, 0, 0, 0, 0],
    "seizure_net": [0, 0, 0, 0, 0],
    "equity_distribution": [0, 30, 30, 30, 0],
    "event_of_default": [0, 0, 0, 0, 1],
}

# dark-q2: q2 CFADS -4 (sponsor support 4), interest 6 unpaid -> default at q2: no exit;
#   seizure 850 x 0.5 = 425: interest 6, principal 419, write-off 181.
DARK_Q2 = {
    "cfads": [0, 36, -4],
    "sponsor_support": [0, 0, 4],
    "exit_proceeds": [0, 0, 0],
    "seizure_gross": [0, 0, 850],
    "seizure_net": [0, 0, 425],
    "senior.recovery_interest": [0, 0, 6],
    "senior.recovery_principal": [0, 0, 419],
    "senior.write_off": [0, 0, 181],
    "senior.balance_close": [600, 600, 0],
    "equity_distribution": [0, 30, 0],
    "event_of_default": [0, 0, 1],
}

EXPECTED = {"base": (BASE, {"default_period": None}),
            "value-down": (VALUE_DOWN, {"default_period": 4, "lender_claim": 606.0,
                                        "lender_received": 514.8, "lender_loss": 91.2}),
            "dark-q2": (DARK_Q2, {"default_period": 2, "lender_claim": 606.0, "lender_received": 425.0,
                                  "lender_loss": 181.0})}


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize("scenario", EXPECTED)
def test_exit_ledger_by_hand(engine, scenario):
    lines, metrics = EXPECTED[scenario]
    result = run(deal(), scenario, engine)
    assert_lines(ledger_lines(result), lines, what=f"{scenario}/{engine}")
    assert_metrics(result, metrics)


def workbook_case():
    return deal(), "value-down"


@needs_lo
def test_exit_workbook_recalculates_to_the_hand_ledger(lo_ledgers):
    assert_lines(workbook_lines(lo_ledgers, __name__), VALUE_DOWN, what="LibreOffice value-down")
