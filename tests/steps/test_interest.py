"""The `interest` step, hand-worked: pay the cash interest due on the opening balance as
far as cash allows; a shortfall is an event of default for a tranche with
default_on_shortfall (hard), else it is capitalised (PIK) onto the balance. Also the
event of default and enforcement: seizure value net of the fire-sale discount and costs,
sold at once; recovery in tranche order, interest then principal; the surplus to equity.
(The workout before a later sale is tests/steps/test_credit.py's.)

Deal (USD millions, quarterly, 30/360 from the 15th: 0.25 a quarter):
  asset: shell 1,000 at close, worth 1,000 x (1 - age/60 months) (straight line, no salvage).
  senior 400, 4% fixed = 1% a quarter, hard (default_on_shortfall, the default),
         straight-line over 4 quarters = 100 a quarter.
  junior 100, 8% fixed = 2% a quarter, soft (default_on_shortfall = false),
         straight-line over 4 quarters = 25 a quarter.
  equity 1,000 - 500 = 500. rent 640 a year = 160 a quarter; opex 16 a year = 4; CFADS 156.
  enforcement: fire-sale 50%, costs 2% of gross + 2.0, sold at once (months_to_sale = 0:
  the old one-lump sale; the time-to-sale discount no longer exists).
  sponsor support: unlimited, stated explicitly (it is no longer automatic), so a
  negative CFADS is the sponsors' and the default below is the interest step's.
  priority: interest senior, principal senior, interest junior, principal junior, distribute.
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
name = "hand-interest"
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
default_on_shortfall = true

[[tranches]]
name = "junior"
amount = 100.0
rate = { kind = "fixed", annual = 0.08 }
day_count = "30/360"
amortisation = { kind = "straight_line", periods = 4 }
capitalise_interest = "never"
default_on_shortfall = false

[sponsor_support]
kind = "unlimited"

[enforcement]
fire_sale_discount = 0.5
cost_share = 0.02
cost_fixed = 2.0
months_to_sale = 0

[[waterfall]]
step = "interest"
tranche = "senior"

[[waterfall]]
step = "principal"
tranche = "senior"

[[waterfall]]
step = "interest"
tranche = "junior"

[[waterfall]]
step = "principal"
tranche = "junior"

[[waterfall]]
step = "distribute"

[[scenarios]]
name = "junior-squeeze"
description = "Rent x 0.675 in q2: 108."
adjustments = [{ kind = "rent_multiplier", from_period = 2, to_period = 2, multiplier = 0.675 }]

[[scenarios]]
name = "senior-default"
description = "No rent in q2."
adjustments = [{ kind = "rent_multiplier", from_period = 2, to_period = 2, multiplier = 0.0 }]
"""


@lru_cache(maxsize=None)
def deal():
    return deal_from_toml(DEAL, "tests/steps/test_interest.py")


# Base:
# t0: capex 1000 = draws 400 + 100 + equity 500.
# q1: CFADS 156. senior interest 400 x 1% = 4, principal 100; junior interest 100 x 2% = 2,
#     principal 25. DS 131, DSCR 156/131; equity 156 - 131 = 25. balances 300 / 75.
# q2: senior 3 + 100; junior 75 x 2% = 1.5 + 25; DS 129.5; equity 26.5. balances 200 / 50.
# q3: senior 2 + 100; junior 1 + 25; DS 128; equity 28. balances 100 / 25.
# q4: senior 1 + 100; junior 0.5 + 25; DS 126.5; equity 29.5. balances 0 / 0.
BASE = {
    "revenue": [0, 160, 160, 160, 160],
    "cfads": [0, 156, 156, 156, 156],
    "equity_in": [500, 0, 0, 0, 0],
    "draws": [500, 0, 0, 0, 0],
    "debt_service": [0, 131, 129.5, 128, 126.5],
    "dscr": [NAN, 156 / 131, 156 / 129.5, 156 / 128, 156 / 126.5],
    "senior.balance_open": [0, 400, 300, 200, 100],
    "senior.interest_due": [0, 4, 3, 2, 1],
    "senior.interest_paid": [0, 4, 3, 2, 1],
    "senior.principal_paid": [0, 100, 100, 100, 100],
    "senior.balance_close": [400, 300, 200, 100, 0],
    "junior.balance_open": [0, 100, 75, 50, 25],
    "junior.interest_due": [0, 2, 1.5, 1, 0.5],
    "junior.interest_paid": [0, 2, 1.5, 1, 0.5],
    "junior.interest_capitalised": [0, 0, 0, 0, 0],
    "junior.principal_due": [0, 25, 25, 25, 25],
    "junior.principal_paid": [0, 25, 25, 25, 25],
    "junior.balance_close": [100, 75, 50, 25, 0],
    "equity_distribution": [0, 25, 26.5, 28, 29.5],
    "event_of_default": [0, 0, 0, 0, 0],
}

# junior-squeeze: q2 rent 160 x 0.675 = 108, CFADS 104, DSCR 104/129.5 (DS as base).
# q2: senior interest 3 -> 101; senior principal 100 -> 1.
#     junior interest due 1.5, paid 1: the 0.5 shortfall is capitalised (soft tranche):
#     balance 75 + 0.5 = 75.5. junior principal due 25, paid 0: deferred, no default
#     (soft, not its maturity). equity 0. junior closes 75.5.
# q3: senior 2 + 100. junior interest 75.5 x 2% = 1.51; principal min(25, 75.5) = 25.
#     DS 2 + 100 + 1.51 + 25 = 128.51. cash 156 - 102 - 1.51 - 25 = 27.49 to equity.
#     junior closes 50.5.
# q4: senior 1 + 100. junior interest 50.5 x 2% = 1.01; principal due the whole 50.5
#     (maturity); DS counts only the schedule: 1 + 100 + 1.01 + min(25, 50.5) = 127.01.
#     cash 156 - 101 - 1.01 - 50.5 = 3.49 to equity.
JUNIOR_SQUEEZE = {
    **BASE,
    "revenue": [0, 160, 108, 160, 160],
    "cfads": [0, 156, 104, 156, 156],
    "debt_service": [0, 131, 129.5, 128.51, 127.01],
    "dscr": [NAN, 156 / 131, 104 / 129.5, 156 / 128.51, 156 / 127.01],
    "junior.balance_open": [0, 100, 75, 75.5, 50.5],
    "junior.interest_due": [0, 2, 1.5, 1.51, 1.01],
    "junior.interest_paid": [0, 2, 1, 1.51, 1.01],
    "junior.interest_capitalised": [0, 0, 0.5, 0, 0],
    "junior.principal_due": [0, 25, 25, 25, 50.5],
    "junior.principal_paid": [0, 25, 0, 25, 50.5],
    "junior.balance_close": [100, 75, 75.5, 50.5, 0],
    "equity_distribution": [0, 25, 0, 27.49, 3.49],
}

# senior-default: q2 rent 0: CFADS 0 - 4 = -4; the sponsors meet the -4 (sponsor
# support 4, unlimited), cash 0. DS 129.5 (as base), DSCR -4/129.5.
# q2: senior interest due 3, paid 0: hard tranche -> event of default; no later step runs.
#   seizure, sold at once: gross 1000 x (1 - 6/60) = 900;
#            net 900 x (1 - 0.5) - 0.02 x 900 - 2 = 450 - 18 - 2 = 430.
#   pool = cash 0 + reserves 0 + 430 = 430.
#   senior: unpaid interest 3 -> 427 left; principal 300 -> 127 left; write-off 0.
#   junior: unpaid interest 1.5 -> 125.5 left; principal 75 -> 50.5 left; write-off 0.
#   the surplus 50.5 goes to equity. The deal ends: q3 and q4 are all zero.
#   claim = (300 + 3) + (75 + 1.5) = 379.5; received 3 + 300 + 1.5 + 75 = 379.5; loss 0.
SENIOR_DEFAULT = {
    "revenue": [0, 160, 0],
    "opex": [0, 4, 4],
    "cfads": [0, 156, -4],
    "sponsor_support": [0, 0, 4],
    "cash_available": [0, 156, 0],
    "debt_service": [0, 131, 129.5],
    "dscr": [NAN, 156 / 131, -4 / 129.5],
    "senior.balance_open": [0, 400, 300],
    "senior.interest_due": [0, 4, 3],
    "senior.interest_paid": [0, 4, 0],
    "senior.principal_due": [0, 100, 100],
    "senior.principal_paid": [0, 100, 0],
    "senior.recovery_interest": [0, 0, 3],
    "senior.recovery_principal": [0, 0, 300],
    "senior.write_off": [0, 0, 0],
    "senior.balance_close": [400, 300, 0],
    "junior.balance_open": [0, 100, 75],
    "junior.interest_due": [0, 2, 1.5],
    "junior.interest_paid": [0, 2, 0],
    "junior.interest_capitalised": [0, 0, 0],
    "junior.principal_paid": [0, 25, 0],
    "junior.recovery_interest": [0, 0, 1.5],
    "junior.recovery_principal": [0, 0, 75],
    "junior.write_off": [0, 0, 0],
    "junior.balance_close": [100, 75, 0],
    "seizure_gross": [0, 0, 900],
    "seizure_net": [0, 0, 430],
    "guarantee_paid": [0, 0, 0],
    "equity_distribution": [0, 25, 50.5],
    "event_of_default": [0, 0, 1],
    "workout": [0, 0, 0],
}
SENIOR_DEFAULT_METRICS = {"default_period": 2, "lender_claim": 379.5, "lender_received": 379.5,
                          "recovery_rate": 1.0, "lender_loss": 0.0, "recovery_periods": 0}

EXPECTED = {"base": BASE, "junior-squeeze": JUNIOR_SQUEEZE, "senior-default": SENIOR_DEFAULT}


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize("scenario", EXPECTED)
def test_interest_ledger_by_hand(engine, scenario):
    result = run(deal(), scenario, engine)
    assert_lines(ledger_lines(result), EXPECTED[scenario], what=f"{scenario}/{engine}")
    if scenario == "senior-default":
        assert_metrics(result, SENIOR_DEFAULT_METRICS)
        assert result.metrics["default_cause"] == "payment"
    else:
        assert result.metrics["default_period"] is None


def workbook_case():
    return deal(), "senior-default"


@needs_lo
def test_interest_workbook_recalculates_to_the_hand_ledger(lo_ledgers):
    assert_lines(workbook_lines(lo_ledgers, __name__), SENIOR_DEFAULT, what="LibreOffice senior-default")
