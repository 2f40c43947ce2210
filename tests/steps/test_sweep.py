"""The `sweep` step, hand-worked: prepay min(cash left x share, balance) of the tranche,
with `share_locked` instead of `share` while the lock-up DSCR test fails.

Deal (USD millions, quarterly, 30/360 from the 15th: 0.25 a quarter):
  asset 1,000 at close; senior 400, 4% fixed = 1% a quarter, scheduled straight-line
  over 4 quarters = 100 a quarter (min(100, balance) once prepayments have cut it);
  equity 600. rent 616 a year = 154 a quarter; opex 16 a year = 4; CFADS 150.
  lock-up below DSCR 1.40. sweep share 0.5, share_locked 0.75.
  priority: interest, principal, sweep, distribute.
"""
from __future__ import annotations

from functools import lru_cache

import pytest

from .handworked import (
    ENGINES, NAN, assert_lines, deal_from_toml, ledger_lines, needs_lo, run, workbook_lines,
)

DEAL = """
[deal]
name = "hand-sweep"
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
annual_rent = 616.0
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

[covenants]
lock_up_dscr = 1.4

[[waterfall]]
step = "interest"
tranche = "senior"

[[waterfall]]
step = "principal"
tranche = "senior"

[[waterfall]]
step = "sweep"
tranche = "senior"
share = SHARE
share_locked = 0.75

[[waterfall]]
step = "distribute"

[[scenarios]]
name = "dip-q2"
description = "Rent x 0.75 in q2: 115.5."
adjustments = [{ kind = "rent_multiplier", from_period = 2, to_period = 2, multiplier = 0.75 }]
"""


@lru_cache(maxsize=None)
def deal(share: float = 0.5):
    return deal_from_toml(DEAL.replace("SHARE", repr(share)), "tests/steps/test_sweep.py")


# Base, share 0.5:
# q1: interest 400 x 1% = 4, principal 100: DS 104, DSCR 150/104 = 1.442 >= 1.40, not
#     locked. cash 150 - 104 = 46; sweep 0.5 x 46 = 23; balance 400 - 100 - 23 = 277;
#     equity 23.
# q2: interest 2.77, principal min(100, 277) = 100: DS 102.77, DSCR 1.460, not locked.
#     cash 47.23; sweep 23.615; balance 277 - 100 - 23.615 = 153.385; equity 23.615.
# q3: interest 1.53385, principal 100: DS 101.53385, DSCR 1.477. cash 48.46615;
#     sweep 24.233075; balance 153.385 - 100 - 24.233075 = 29.151925; equity 24.233075.
# q4: interest 0.29151925; principal min(100, 29.151925) = 29.151925 (also the balloon):
#     DS 29.44344425; cash 120.55655575; sweep min(60.28.., balance 0) = 0; all to equity.
BASE = {
    "cfads": [0, 150, 150, 150, 150],
    "debt_service": [0, 104, 102.77, 101.53385, 29.44344425],
    "dscr": [NAN, 150 / 104, 150 / 102.77, 150 / 101.53385, 150 / 29.44344425],
    "lock_up": [0, 0, 0, 0, 0],
    "senior.balance_open": [0, 400, 277, 153.385, 29.151925],
    "senior.interest_paid": [0, 4, 2.77, 1.53385, 0.29151925],
    "senior.principal_due": [0, 100, 100, 100, 29.151925],
    "senior.principal_paid": [0, 100, 100, 100, 29.151925],
    "senior.prepayment": [0, 23, 23.615, 24.233075, 0],
    "senior.balance_close": [400, 277, 153.385, 29.151925, 0],
    "equity_distribution": [0, 23, 23.615, 24.233075, 120.55655575],
}

# dip-q2: q2 rent 154 x 0.75 = 115.5, CFADS 111.5; DSCR 111.5/102.77 = 1.085 < 1.40: locked.
# q2: cash 111.5 - 102.77 = 8.73; sweep share_locked 0.75 x 8.73 = 6.5475;
#     balance 277 - 100 - 6.5475 = 170.4525; equity 8.73 - 6.5475 = 2.1825.
# q3: interest 1.704525, principal 100: DS 101.704525, DSCR 1.475, not locked.
#     cash 48.295475; sweep 0.5 x = 24.1477375; balance 170.4525 - 100 - 24.1477375
#     = 46.3047625; equity 24.1477375.
# q4: interest 0.463047625; principal 46.3047625: DS 46.767810125;
#     equity 150 - 46.767810125 = 103.232189875.
DIP_Q2 = {
    "cfads": [0, 150, 111.5, 150, 150],
    "debt_service": [0, 104, 102.77, 101.704525, 46.767810125],
    "dscr": [NAN, 150 / 104, 111.5 / 102.77, 150 / 101.704525, 150 / 46.767810125],
    "lock_up": [0, 0, 1, 0, 0],
    "senior.balance_open": [0, 400, 277, 170.4525, 46.3047625],
    "senior.interest_paid": [0, 4, 2.77, 1.704525, 0.463047625],
    "senior.principal_paid": [0, 100, 100, 100, 46.3047625],
    "senior.prepayment": [0, 23, 6.5475, 24.1477375, 0],
    "senior.balance_close": [400, 277, 170.4525, 46.3047625, 0],
    "equity_distribution": [0, 23, 2.1825, 24.1477375, 103.232189875],
}

# share 1.0 (base rent): the sweep is capped at the balance.
# q1: cash 46, sweep 46; balance 400 - 100 - 46 = 254; equity 0.
# q2: interest 2.54, principal 100: DS 102.54, DSCR 1.463; cash 47.46, sweep 47.46;
#     balance 254 - 100 - 47.46 = 106.54; equity 0.
# q3: interest 1.0654, principal 100 -> balance 6.54; DS 101.0654; cash 48.9346;
#     sweep min(48.9346, 6.54) = 6.54; balance 0; equity 48.9346 - 6.54 = 42.3946.
# q4: nothing owed: DS 0, DSCR undefined, no lock-up; equity 150.
FULL_SWEEP = {
    "debt_service": [0, 104, 102.54, 101.0654, 0],
    "dscr": [NAN, 150 / 104, 150 / 102.54, 150 / 101.0654, NAN],
    "lock_up": [0, 0, 0, 0, 0],
    "senior.interest_paid": [0, 4, 2.54, 1.0654, 0],
    "senior.principal_paid": [0, 100, 100, 100, 0],
    "senior.prepayment": [0, 46, 47.46, 6.54, 0],
    "senior.balance_close": [400, 254, 106.54, 0, 0],
    "equity_distribution": [0, 0, 0, 42.3946, 150],
}

CASES = {"share-0.5/base": (0.5, "base", BASE), "share-0.5/dip-q2": (0.5, "dip-q2", DIP_Q2),
         "share-1.0/base": (1.0, "base", FULL_SWEEP)}


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize("case", CASES)
def test_sweep_ledger_by_hand(engine, case):
    share, scenario, expected = CASES[case]
    result = run(deal(share), scenario, engine)
    assert_lines(ledger_lines(result), expected, what=f"{case}/{engine}")
    assert result.metrics["default_period"] is None


def workbook_case():
    return deal(0.5), "dip-q2"


@needs_lo
def test_sweep_workbook_recalculates_to_the_hand_ledger(lo_ledgers):
    assert_lines(workbook_lines(lo_ledgers, __name__), DIP_Q2, what="LibreOffice dip-q2")
