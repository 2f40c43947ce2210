"""The `distribute` step and the lock-up, hand-worked: all cash left goes to equity, or,
while the lock-up DSCR test fails and the step names a lock-up account, into that
account, which is released into the waterfall at the start of the next period like
every reserve. DSCR (and so the lock-up test) is CFADS over debt service: released
cash does not count. At the last period the lock-up no longer applies.

Deal (USD millions, quarterly, 30/360 from the 15th: 0.25 a quarter):
  asset 1,000 at close; senior 400, 4% fixed = 1% a quarter, straight-line over 4
  quarters = 100 a quarter; equity 600. rent 616 a year = 154 a quarter; opex 16 a year
  = 4; CFADS 150. Lock-up below DSCR 1.40; account "trap" (kind lockup).
  priority: interest, principal, distribute (into "trap" while locked, unless the test
  says the step names no account).
"""
from __future__ import annotations

from functools import lru_cache

import pytest

from .handworked import (
    ENGINES, NAN, assert_lines, deal_from_toml, ledger_lines, needs_lo, run, workbook_lines,
)

DEAL = """
[deal]
name = "hand-distribute"
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

[[accounts]]
name = "trap"
kind = "lockup"

[covenants]
lock_up_dscr = 1.4

[[waterfall]]
step = "interest"
tranche = "senior"

[[waterfall]]
step = "principal"
tranche = "senior"

[[waterfall]]
step = "distribute"
DISTRIBUTE_ACCOUNT

[[scenarios]]
name = "dip"
description = "Rent x 0.75 in q2 and q3: 115.5."
adjustments = [{ kind = "rent_multiplier", from_period = 2, to_period = 3, multiplier = 0.75 }]

[[scenarios]]
name = "late-dip"
description = "Rent x 0.75 in q4 (the last period): 115.5."
adjustments = [{ kind = "rent_multiplier", from_period = 4, to_period = 4, multiplier = 0.75 }]
"""


@lru_cache(maxsize=None)
def deal(trap: bool = True):
    return deal_from_toml(DEAL.replace("DISTRIBUTE_ACCOUNT", 'account = "trap"' if trap else ""),
                          "tests/steps/test_distribute.py")


# Base: DSCR 150/104 = 1.442, 150/103 = 1.456, 150/102 = 1.471, 150/101 = 1.485, never
# below 1.40: cash after debt service 46, 47, 48, 49 all to equity; the trap stays empty.
BASE = {
    "cfads": [0, 150, 150, 150, 150],
    "debt_service": [0, 104, 103, 102, 101],
    "dscr": [NAN, 150 / 104, 150 / 103, 150 / 102, 150 / 101],
    "lock_up": [0, 0, 0, 0, 0],
    "cash_available": [0, 150, 150, 150, 150],
    "reserve_release": [0, 0, 0, 0, 0],
    "trap.balance_open": [0, 0, 0, 0, 0],
    "trap.balance_close": [0, 0, 0, 0, 0],
    "reserve_funding": [0, 0, 0, 0, 0],
    "equity_distribution": [0, 46, 47, 48, 49],
}

# dip (with the trap): q2 and q3 rent 115.5, CFADS 111.5.
# q2: DSCR 111.5/103 = 1.083 < 1.40: locked. cash 111.5 - 103 = 8.5 into the trap; equity 0.
# q3: the trap's 8.5 released: cash 111.5 + 8.5 = 120. DSCR 111.5/102 = 1.093 (the
#     release is not CFADS): locked; cash 120 - 102 = 18 into the trap; equity 0.
# q4: release 18: cash 150 + 18 = 168; DSCR 1.485, not locked; 168 - 101 = 67 to equity.
DIP = {
    "cfads": [0, 150, 111.5, 111.5, 150],
    "debt_service": [0, 104, 103, 102, 101],
    "dscr": [NAN, 150 / 104, 111.5 / 103, 111.5 / 102, 150 / 101],
    "lock_up": [0, 0, 1, 1, 0],
    "cash_available": [0, 150, 111.5, 120, 168],
    "reserve_release": [0, 0, 0, 8.5, 18],
    "trap.balance_open": [0, 0, 0, 8.5, 18],
    "trap.balance_close": [0, 0, 8.5, 18, 0],
    "reserve_funding": [0, 0, 8.5, 18, 0],
    "senior.balance_close": [400, 300, 200, 100, 0],
    "equity_distribution": [0, 46, 0, 0, 67],
}

# dip, the distribute step naming no account: locked all the same (lock_up 1 in q2, q3),
# but the cash goes to equity: 111.5 - 103 = 8.5, 111.5 - 102 = 9.5, then 49.
DIP_NO_ACCOUNT = {
    "lock_up": [0, 0, 1, 1, 0],
    "cash_available": [0, 150, 111.5, 111.5, 150],
    "reserve_release": [0, 0, 0, 0, 0],
    "trap.balance_close": [0, 0, 0, 0, 0],
    "equity_distribution": [0, 46, 8.5, 9.5, 49],
}

# late-dip: q4 CFADS 111.5, DSCR 111.5/101 = 1.104 < 1.40, but q4 is the last period:
# no lock-up; 111.5 - 101 = 10.5 to equity.
LATE_DIP = {
    **BASE,
    "cfads": [0, 150, 150, 150, 111.5],
    "cash_available": [0, 150, 150, 150, 111.5],
    "dscr": [NAN, 150 / 104, 150 / 103, 150 / 102, 111.5 / 101],
    "equity_distribution": [0, 46, 47, 48, 10.5],
}

CASES = {"trap/base": (True, "base", BASE), "trap/dip": (True, "dip", DIP),
         "no-account/dip": (False, "dip", DIP_NO_ACCOUNT), "trap/late-dip": (True, "late-dip", LATE_DIP)}


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize("case", CASES)
def test_distribute_ledger_by_hand(engine, case):
    trap, scenario, expected = CASES[case]
    result = run(deal(trap), scenario, engine)
    assert_lines(ledger_lines(result), expected, what=f"{case}/{engine}")
    assert result.metrics["default_period"] is None


def workbook_case():
    return deal(True), "dip"


@needs_lo
def test_distribute_workbook_recalculates_to_the_hand_ledger(lo_ledgers):
    assert_lines(workbook_lines(lo_ledgers, __name__), DIP, what="LibreOffice dip")
