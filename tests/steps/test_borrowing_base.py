"""The `borrowing_base` step, hand-worked: prepay the excess of the balance over
advance rate x value of the collateral components, as far as cash allows; an unpaid
excess is an event of default for a hard tranche (default_on_shortfall), else it waits.

Deal (USD millions, quarterly, 30/360 from the 15th: 0.25 a quarter):
  asset "campus": shell 500 (constant value) + IT 1,000 on a points curve (age in months
  -> share of cost) 0: 1.0, 3: 0.65, 6: 0.5, 9: 0.4, 12: 0.3, i.e. worth 1,000 at close,
  650 at q1, 500 at q2, 400 at q3, 300 at q4. Cost 1,500.
  "gpu" loan 400, 4% fixed = 1% a quarter, straight-line over 4 quarters = 100 a quarter;
  borrowing base 0.4 x IT value (the shell is not collateral). Equity 1,100.
  rent 616 a year = 154 a quarter; opex 16 a year = 4; CFADS 150.
  enforcement: fire-sale 50%, no costs, sold at once.
  priority: interest, principal, borrowing_base, distribute.
  scenario writedown: IT value x 0.4 from q2.
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
name = "hand-borrowing-base"
kind = "example"

[timeline]
financial_close = 2026-01-15
period = "quarter"
operating_periods = 4

[[assets]]
name = "campus"
shell = { cost = 500.0 }
it = { cost = 1000.0, curve = { kind = "points", points = [[0, 1.0], [3, 0.65], [6, 0.5], [9, 0.4], [12, 0.3]] } }

[[leases]]
tenant = "Tenant"
annual_rent = 616.0
term_months = 12

[[opex]]
name = "opex"
annual_amount = 16.0

[[tranches]]
name = "gpu"
amount = 400.0
rate = { kind = "fixed", annual = 0.04 }
day_count = "30/360"
amortisation = { kind = "straight_line", periods = 4 }
capitalise_interest = "never"
borrowing_base = { advance_rate = 0.4, components = ["it"] }
default_on_shortfall = HARD

[enforcement]
fire_sale_discount = 0.5

[[waterfall]]
step = "interest"
tranche = "gpu"

[[waterfall]]
step = "principal"
tranche = "gpu"

[[waterfall]]
step = "borrowing_base"
tranche = "gpu"

[[waterfall]]
step = "distribute"

[[scenarios]]
name = "writedown"
description = "IT value x 0.4 from q2."
adjustments = [{ kind = "asset_value_multiplier", component = "it", from_period = 2, multiplier = 0.4 }]
"""


@lru_cache(maxsize=None)
def deal(hard: bool = True):
    return deal_from_toml(DEAL.replace("HARD", "true" if hard else "false"), "tests/steps/test_borrowing_base.py")


# Base:
# t0: balance 400 = 0.4 x 1000: no excess (the step runs at close too, with cash 0: a
#     facility drawn above its borrowing base at close would default there).
# q1: interest 4, principal 100 -> balance 300; base 0.4 x 650 = 260; excess 40;
#     cash 150 - 104 = 46: prepay 40 -> balance 260; equity 6.
# q2: interest 2.6, principal min(100, 260) = 100 -> 160 <= 0.4 x 500 = 200: no
#     prepayment; equity 150 - 102.6 = 47.4.
# q3: interest 1.6, principal 100 -> 60 <= 160; equity 48.4.
# q4: interest 0.6, principal min(100, 60) = 60 (maturity) -> 0 <= 120; DS 60.6;
#     equity 89.4.
BASE = {
    "cfads": [0, 150, 150, 150, 150],
    "equity_in": [1100, 0, 0, 0, 0],
    "debt_service": [0, 104, 102.6, 101.6, 60.6],
    "dscr": [NAN, 150 / 104, 150 / 102.6, 150 / 101.6, 150 / 60.6],
    "gpu.balance_open": [0, 400, 260, 160, 60],
    "gpu.interest_paid": [0, 4, 2.6, 1.6, 0.6],
    "gpu.principal_paid": [0, 100, 100, 100, 60],
    "gpu.prepayment": [0, 40, 0, 0, 0],
    "gpu.balance_close": [400, 260, 160, 60, 0],
    "equity_distribution": [0, 6, 47.4, 48.4, 89.4],
    "event_of_default": [0, 0, 0, 0, 0],
}

# writedown, hard: q2 IT value 500 x 0.4 = 200, base 0.4 x 200 = 80.
# q2: after interest 2.6 and principal 100, balance 160: excess 80; cash 47.4 prepays
#     47.4; 32.6 unpaid -> event of default.
#   seizure gross: shell 500 + IT 200 = 700; net 700 x 0.5 = 350. pool 350: no unpaid
#   interest; principal 160 - 47.4 = 112.6 recovered; surplus 237.4 to equity.
#   claim 112.6 + paid 147.4 + interest 2.6 = 262.6, all received.
WRITEDOWN_HARD = {
    "cfads": [0, 150, 150],
    "gpu.interest_paid": [0, 4, 2.6],
    "gpu.principal_paid": [0, 100, 100],
    "gpu.prepayment": [0, 40, 47.4],
    "gpu.recovery_interest": [0, 0, 0],
    "gpu.recovery_principal": [0, 0, 112.6],
    "gpu.write_off": [0, 0, 0],
    "gpu.balance_close": [400, 260, 0],
    "seizure_gross": [0, 0, 700],
    "seizure_net": [0, 0, 350],
    "equity_distribution": [0, 6, 237.4],
    "event_of_default": [0, 0, 1],
}

# writedown, soft: the unpaid excess is no default.
# q2: prepay 47.4 -> balance 112.6; equity 0.
# q3: interest 1.126, principal min(100, 112.6) = 100 -> 12.6 <= 0.4 x 400 x 0.4 = 64;
#     DS 101.126; equity 48.874.
# q4: interest 0.126, principal 12.6 (<= 0.4 x 300 x 0.4 = 48 anyway); DS 12.726;
#     equity 137.274.
WRITEDOWN_SOFT = {
    **BASE,
    "debt_service": [0, 104, 102.6, 101.126, 12.726],
    "dscr": [NAN, 150 / 104, 150 / 102.6, 150 / 101.126, 150 / 12.726],
    "gpu.balance_open": [0, 400, 260, 112.6, 12.6],
    "gpu.interest_paid": [0, 4, 2.6, 1.126, 0.126],
    "gpu.principal_paid": [0, 100, 100, 100, 12.6],
    "gpu.prepayment": [0, 40, 47.4, 0, 0],
    "gpu.balance_close": [400, 260, 112.6, 12.6, 0],
    "equity_distribution": [0, 6, 0, 48.874, 137.274],
}

CASES = {"hard/base": (True, "base", BASE), "hard/writedown": (True, "writedown", WRITEDOWN_HARD),
         "soft/writedown": (False, "writedown", WRITEDOWN_SOFT)}


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize("case", CASES)
def test_borrowing_base_ledger_by_hand(engine, case):
    hard, scenario, expected = CASES[case]
    result = run(deal(hard), scenario, engine)
    assert_lines(ledger_lines(result), expected, what=f"{case}/{engine}")
    if case == "hard/writedown":
        assert_metrics(result, {"default_period": 2, "lender_claim": 262.6,
                                "lender_received": 262.6, "lender_loss": 0.0})
    else:
        assert result.metrics["default_period"] is None


def workbook_case():
    return deal(True), "writedown"


@needs_lo
def test_borrowing_base_workbook_recalculates_to_the_hand_ledger(lo_ledgers):
    assert_lines(workbook_lines(lo_ledgers, __name__), WRITEDOWN_HARD, what="LibreOffice writedown")
