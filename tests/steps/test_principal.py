"""The `principal` step, hand-worked: pay the scheduled principal min(schedule, balance),
the whole balance at maturity (a balloon); a shortfall is an event of default if the
tranche is hard (default_on_shortfall) or at maturity, else it is deferred (stays on
the balance). DSCR counts the schedule, never the balloon. Enforcement after a balloon
default: the seizure value more than covers the lenders, the surplus goes to equity.

Deal (USD millions, quarterly, 30/360 from the 15th: 0.25 a quarter):
  assets: land 200 (constant value) + shell 800 worth 800 x (1 - age/120 months); cost 1,000.
  senior 200, 4% fixed = 1% a quarter; straight-line over 8 quarters = 25 a quarter, but
  maturity_period 2 + extension_periods 1 = q3: a balloon of what is left at q3.
  The tranche is soft (default_on_shortfall = false) unless the test says hard.
  equity 800. rent 800 a year = 200 a quarter; opex 40 a year = 10; CFADS 190.
  enforcement: fire-sale 50%, no costs, sold at once.
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
name = "hand-principal"
kind = "example"

[timeline]
financial_close = 2026-01-15
period = "quarter"
operating_periods = 4

[[assets]]
name = "site"
land = { cost = 200.0 }
shell = { cost = 800.0, curve = { kind = "straight_line", life_months = 120 } }

[[leases]]
tenant = "Tenant"
annual_rent = 800.0
term_months = 12

[[opex]]
name = "opex"
annual_amount = 40.0

[[tranches]]
name = "senior"
amount = 200.0
rate = { kind = "fixed", annual = 0.04 }
day_count = "30/360"
amortisation = { kind = "straight_line", periods = 8 }
maturity_period = 2
extension_periods = 1
capitalise_interest = "never"
default_on_shortfall = HARD

[enforcement]
fire_sale_discount = 0.5

[[waterfall]]
step = "interest"
tranche = "senior"

[[waterfall]]
step = "principal"
tranche = "senior"

[[waterfall]]
step = "distribute"

[[scenarios]]
name = "deferred"
description = "Rent x 0.1 in q2: 20."
adjustments = [{ kind = "rent_multiplier", from_period = 2, to_period = 2, multiplier = 0.1 }]

[[scenarios]]
name = "balloon-short"
description = "Rent x 0.5 in q3 (the maturity): 100."
adjustments = [{ kind = "rent_multiplier", from_period = 3, to_period = 3, multiplier = 0.5 }]
"""


@lru_cache(maxsize=None)
def deal(hard: bool = False):
    return deal_from_toml(DEAL.replace("HARD", "true" if hard else "false"), "tests/steps/test_principal.py")


# Base (soft or hard alike):
# t0: capex 1000 = draw 200 + equity 800.
# q1: CFADS 190; interest 200 x 1% = 2; principal 25 (200/8); DS 27, DSCR 190/27;
#     equity 190 - 27 = 163. balance 175.
# q2: interest 1.75; principal 25; DS 26.75; equity 163.25. balance 150.
# q3 (maturity 2 + 1 extension): interest 1.5; principal due the whole 150 (balloon);
#     DS counts only the schedule: 1.5 + min(25, 150) = 26.5, DSCR 190/26.5;
#     equity 190 - 1.5 - 150 = 38.5. balance 0.
# q4: nothing owed: DS 0, DSCR undefined; equity 190.
BASE = {
    "cfads": [0, 190, 190, 190, 190],
    "equity_in": [800, 0, 0, 0, 0],
    "debt_service": [0, 27, 26.75, 26.5, 0],
    "dscr": [NAN, 190 / 27, 190 / 26.75, 190 / 26.5, NAN],
    "senior.balance_open": [0, 200, 175, 150, 0],
    "senior.interest_due": [0, 2, 1.75, 1.5, 0],
    "senior.interest_paid": [0, 2, 1.75, 1.5, 0],
    "senior.principal_due": [0, 25, 25, 150, 0],
    "senior.principal_paid": [0, 25, 25, 150, 0],
    "senior.balance_close": [200, 175, 150, 0, 0],
    "equity_distribution": [0, 163, 163.25, 38.5, 190],
    "event_of_default": [0, 0, 0, 0, 0],
}

# deferred (soft): q2 rent 20, CFADS 10, DSCR 10/26.75.
# q2: interest 1.75 -> 8.25; principal due 25, paid 8.25: 16.75 deferred (soft, not the
#     maturity): balance 175 - 8.25 = 166.75. equity 0.
# q3: interest 166.75 x 1% = 1.6675; balloon 166.75; DS 1.6675 + 25 = 26.6675;
#     equity 190 - 1.6675 - 166.75 = 21.5825.
# q4: equity 190.
DEFERRED = {
    **BASE,
    "cfads": [0, 190, 10, 190, 190],
    "debt_service": [0, 27, 26.75, 26.6675, 0],
    "dscr": [NAN, 190 / 27, 10 / 26.75, 190 / 26.6675, NAN],
    "senior.balance_open": [0, 200, 175, 166.75, 0],
    "senior.interest_due": [0, 2, 1.75, 1.6675, 0],
    "senior.interest_paid": [0, 2, 1.75, 1.6675, 0],
    "senior.principal_due": [0, 25, 25, 166.75, 0],
    "senior.principal_paid": [0, 25, 8.25, 166.75, 0],
    "senior.balance_close": [200, 175, 166.75, 0, 0],
    "equity_distribution": [0, 163, 0, 21.5825, 190],
}

# deferred on a HARD tranche: the q2 principal shortfall of 16.75 is an event of default.
#   seizure gross: land 200 + shell 800 x (1 - 6/120) = 200 + 760 = 960; net 960 x 0.5 = 480.
#   pool 480: unpaid interest 0; principal 175 - 8.25 = 166.75 recovered in full;
#   the surplus 480 - 166.75 = 313.25 goes to equity. No write-off.
DEFERRED_HARD = {
    "cfads": [0, 190, 10],
    "senior.interest_paid": [0, 2, 1.75],
    "senior.principal_due": [0, 25, 25],
    "senior.principal_paid": [0, 25, 8.25],
    "senior.recovery_interest": [0, 0, 0],
    "senior.recovery_principal": [0, 0, 166.75],
    "senior.write_off": [0, 0, 0],
    "senior.balance_close": [200, 175, 0],
    "seizure_gross": [0, 0, 960],
    "seizure_net": [0, 0, 480],
    "equity_distribution": [0, 163, 313.25],
    "event_of_default": [0, 0, 1],
}

# balloon-short (soft): q3 rent 100, CFADS 90, DSCR 90/26.5.
# q3: interest 1.5 -> 88.5; balloon 150 due, 88.5 paid: a shortfall at maturity is an
#     event of default even on a soft tranche.
#   seizure gross: 200 + 800 x (1 - 9/120) = 200 + 740 = 940; net 470. pool 470:
#   principal 150 - 88.5 = 61.5 recovered; surplus 470 - 61.5 = 408.5 to equity.
#   claim 61.5 + 88.5 + 1.5 = 151.5, all received: recovery 100%, loss 0.
BALLOON_SHORT = {
    "cfads": [0, 190, 190, 90],
    "debt_service": [0, 27, 26.75, 26.5],
    "dscr": [NAN, 190 / 27, 190 / 26.75, 90 / 26.5],
    "senior.balance_open": [0, 200, 175, 150],
    "senior.interest_paid": [0, 2, 1.75, 1.5],
    "senior.principal_due": [0, 25, 25, 150],
    "senior.principal_paid": [0, 25, 25, 88.5],
    "senior.recovery_interest": [0, 0, 0, 0],
    "senior.recovery_principal": [0, 0, 0, 61.5],
    "senior.write_off": [0, 0, 0, 0],
    "senior.balance_close": [200, 175, 150, 0],
    "seizure_gross": [0, 0, 0, 940],
    "seizure_net": [0, 0, 0, 470],
    "equity_distribution": [0, 163, 163.25, 408.5],
    "event_of_default": [0, 0, 0, 1],
}

CASES = {
    "soft/base": (False, "base", BASE),
    "hard/base": (True, "base", BASE),
    "soft/deferred": (False, "deferred", DEFERRED),
    "hard/deferred": (True, "deferred", DEFERRED_HARD),
    "soft/balloon-short": (False, "balloon-short", BALLOON_SHORT),
}


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize("case", CASES)
def test_principal_ledger_by_hand(engine, case):
    hard, scenario, expected = CASES[case]
    result = run(deal(hard), scenario, engine)
    assert_lines(ledger_lines(result), expected, what=f"{case}/{engine}")
    default = {"hard/deferred": 2, "soft/balloon-short": 3}.get(case)
    assert result.metrics["default_period"] == default
    if case == "soft/balloon-short":
        assert_metrics(result, {"lender_claim": 151.5, "lender_received": 151.5,
                                "recovery_rate": 1.0, "lender_loss": 0.0})


def workbook_case():
    return deal(False), "balloon-short"


@needs_lo
def test_principal_workbook_recalculates_to_the_hand_ledger(lo_ledgers):
    assert_lines(workbook_lines(lo_ledgers, __name__), BALLOON_SHORT, what="LibreOffice balloon-short")
