"""The residual value guarantee, hand-worked: on an event of default up to `until_period`,
the guarantor pays the lenders what seizure and cash leave unpaid (unpaid interest plus
balance, less the pool), up to its cap (x the paid share if the guarantor itself
defaults); the pool then goes to the tranches, interest then principal.

Deal (USD millions, quarterly, 30/360 from the 15th: 0.25 a quarter):
  asset: shell 1,000 at close worth 1,000 x (1 - age/60 months): 900 at q2, 850 at q3;
  fire-sale 60% (no costs, sold at once). senior 800 at 4% fixed = 1% a quarter,
  straight-line over 4 = 200 a quarter; equity 200.
  rent 880 a year = 220 a quarter; opex 16 a year = 4; CFADS 216.
  guarantee: the tenant, cap 100, until q2.
  sponsor support: unlimited, stated explicitly (it is no longer automatic): the dark
  quarters' shortfall of 4 is the sponsors', so the test stays about the guarantee, not
  a protective advance (tests/steps/test_credit.py covers those).
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
name = "hand-guarantee"
kind = "example"

[timeline]
financial_close = 2026-01-15
period = "quarter"
operating_periods = 4

[[assets]]
name = "site"
shell = { cost = 1000.0, curve = { kind = "straight_line", life_months = 60 } }

[[leases]]
tenant = "Tenant"
annual_rent = 880.0
term_months = 12

[[opex]]
name = "opex"
annual_amount = 16.0

[[tranches]]
name = "senior"
amount = 800.0
rate = { kind = "fixed", annual = 0.04 }
day_count = "30/360"
amortisation = { kind = "straight_line", periods = 4 }
capitalise_interest = "never"

[sponsor_support]
kind = "unlimited"

[enforcement]
fire_sale_discount = 0.6
months_to_sale = 0

[residual_value_guarantee]
guarantor = "Tenant"
cap = 100.0
until_period = 2

[[waterfall]]
step = "interest"
tranche = "senior"

[[waterfall]]
step = "principal"
tranche = "senior"

[[waterfall]]
step = "distribute"

[[scenarios]]
name = "dark-q2"
adjustments = [{ kind = "rent_multiplier", from_period = 2, to_period = 2, multiplier = 0.0 }]

[[scenarios]]
name = "dark-q2-guarantor-half"
adjustments = [{ kind = "rent_multiplier", from_period = 2, to_period = 2, multiplier = 0.0 },
               { kind = "guarantor_default", from_period = 2, paid_share = 0.5 }]

[[scenarios]]
name = "short-q2"
adjustments = [{ kind = "rent_multiplier", from_period = 2, to_period = 2, multiplier = 0.9 }]

[[scenarios]]
name = "dark-q3"
adjustments = [{ kind = "rent_multiplier", from_period = 3, to_period = 3, multiplier = 0.0 }]
"""


@lru_cache(maxsize=None)
def deal():
    return deal_from_toml(DEAL, "tests/steps/test_guarantee.py")


# Base: q1 interest 8 + principal 200, equity 216 - 208 = 8; q2 6 + 200, equity 10;
# q3 4 + 200, equity 12; q4 2 + 200, equity 14. No default, no guarantee.
BASE = {
    "cfads": [0, 216, 216, 216, 216],
    "debt_service": [0, 208, 206, 204, 202],
    "senior.balance_close": [800, 600, 400, 200, 0],
    "guarantee_paid": [0, 0, 0, 0, 0],
    "equity_distribution": [0, 8, 10, 12, 14],
    "event_of_default": [0, 0, 0, 0, 0],
}

# dark-q2: q2 CFADS -4 (sponsor support 4), cash 0: interest 6 unpaid -> default.
#   seizure 900 x (1 - 0.6) = 360. owed: interest 6 + balance 600 = 606;
#   guarantee min(cap 100, 606 - 360 = 246) = 100; pool 460: interest 6, principal 454;
#   write-off 146. claim 606, received 460, loss 146.
DARK_Q2 = {
    "cfads": [0, 216, -4],
    "sponsor_support": [0, 0, 4],
    "dscr": [NAN, 216 / 208, -4 / 206],
    "senior.interest_paid": [0, 8, 0],
    "senior.principal_paid": [0, 200, 0],
    "seizure_gross": [0, 0, 900],
    "seizure_net": [0, 0, 360],
    "guarantee_paid": [0, 0, 100],
    "senior.recovery_interest": [0, 0, 6],
    "senior.recovery_principal": [0, 0, 454],
    "senior.write_off": [0, 0, 146],
    "senior.balance_close": [800, 600, 0],
    "equity_distribution": [0, 8, 0],
    "event_of_default": [0, 0, 1],
}

# dark-q2-guarantor-half: the guarantor pays half: min(100 x 0.5, 246) = 50; pool 410:
#   interest 6, principal 404, write-off 196.
GUARANTOR_HALF = {
    **DARK_Q2,
    "guarantee_paid": [0, 0, 50],
    "senior.recovery_principal": [0, 0, 404],
    "senior.write_off": [0, 0, 196],
}

# short-q2: q2 rent 220 x 0.9 = 198, CFADS 194: interest 6 paid -> 188; principal 200 due,
#   188 paid: hard shortfall -> default. owed: 0 interest + 600 - 188 = 412; seizure 360;
#   guarantee min(100, 412 - 360) = 52 (just the gap); pool 412: principal 412, no write-off.
#   claim 412 + 188 + 6 = 606, all received.
SHORT_Q2 = {
    "cfads": [0, 216, 194],
    "senior.interest_paid": [0, 8, 6],
    "senior.principal_paid": [0, 200, 188],
    "seizure_net": [0, 0, 360],
    "guarantee_paid": [0, 0, 52],
    "senior.recovery_interest": [0, 0, 0],
    "senior.recovery_principal": [0, 0, 412],
    "senior.write_off": [0, 0, 0],
    "equity_distribution": [0, 8, 0],
    "event_of_default": [0, 0, 1],
}

# dark-q3: q2 as base (balance 400); q3 cash 0: interest 4 unpaid -> default, after the
#   guarantee's until_period 2: no guarantee. seizure 850 x 0.4 = 340: interest 4,
#   principal 336, write-off 64.
DARK_Q3 = {
    "cfads": [0, 216, 216, -4],
    "seizure_gross": [0, 0, 0, 850],
    "seizure_net": [0, 0, 0, 340],
    "guarantee_paid": [0, 0, 0, 0],
    "senior.recovery_interest": [0, 0, 0, 4],
    "senior.recovery_principal": [0, 0, 0, 336],
    "senior.write_off": [0, 0, 0, 64],
    "senior.balance_close": [800, 600, 400, 0],
    "equity_distribution": [0, 8, 10, 0],
    "event_of_default": [0, 0, 0, 1],
}

EXPECTED = {"base": (BASE, {"default_period": None}),
            "dark-q2": (DARK_Q2, {"default_period": 2, "lender_claim": 606.0, "lender_received": 460.0,
                                  "lender_loss": 146.0}),
            "dark-q2-guarantor-half": (GUARANTOR_HALF, {"default_period": 2, "lender_received": 410.0,
                                                        "lender_loss": 196.0}),
            "short-q2": (SHORT_Q2, {"default_period": 2, "lender_claim": 606.0, "lender_loss": 0.0}),
            "dark-q3": (DARK_Q3, {"default_period": 3, "lender_claim": 404.0, "lender_received": 340.0,
                                  "lender_loss": 64.0})}


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize("scenario", EXPECTED)
def test_guarantee_ledger_by_hand(engine, scenario):
    lines, metrics = EXPECTED[scenario]
    result = run(deal(), scenario, engine)
    assert_lines(ledger_lines(result), lines, what=f"{scenario}/{engine}")
    assert_metrics(result, metrics)


def workbook_case():
    return deal(), "dark-q2-guarantor-half"


@needs_lo
def test_guarantee_workbook_recalculates_to_the_hand_ledger(lo_ledgers):
    assert_lines(workbook_lines(lo_ledgers, __name__), GUARANTOR_HALF, what="LibreOffice guarantor-half")
