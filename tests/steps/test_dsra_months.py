"""A DSRA target in months that is not a whole number of periods (issue 14, item 4), hand-
worked on the deal of tests/steps/test_sources_uses.py: reference, kernel and the
live-formula workbook recalculated by LibreOffice."""
from __future__ import annotations

from functools import lru_cache

import pytest

from tests.invariants import assert_conserved

from .handworked import ENGINES, assert_lines, deal_from_toml, ledger_lines, needs_lo, run, workbook_lines
from .test_sources_uses import DEAL

# A DSRA of 4 months on quarterly periods: one quarter's debt service and a third of the
# next one's (a target in months whatever the period length).
# q0: from 600: 156 + 154.5 / 3 = 207.5; equity in 432 + 207.5 = 639.5.
# q1: cash 200 + 207.5 = 407.5, debt service 156 -> 251.5; target from 450: 154.5 + 153 / 3
#     = 205.5; equity 46.
# q2: 200 + 205.5 - 154.5 = 251; target from 300: 153 + 151.5 / 3 = 203.5; equity 47.5.
# q3: 200 + 203.5 - 153 = 250.5; target from 150: q4 only (the horizon ends the window
#     before the partial period): 151.5; equity 99.
# q4: 200 + 151.5 - 151.5: equity 200.
FOUR_MONTHS = {
    "equity_in": [639.5, 0, 0, 0, 0],
    "dsra.balance_close": [207.5, 205.5, 203.5, 151.5, 0],
    "equity_distribution": [0, 46, 47.5, 99, 200],
}


@lru_cache(maxsize=None)
def deal():
    return deal_from_toml(DEAL.replace("target_months = 6", "target_months = 4"), "tests/steps/test_dsra_months.py")


@pytest.mark.parametrize("engine", ENGINES)
def test_dsra_target_of_four_months_on_quarters(engine):
    result = run(deal(), "base", engine)
    assert result.program.acct_periods[0] == 2 and result.program.acct_last_weight[0] == pytest.approx(1 / 3)
    assert_lines(ledger_lines(result), FOUR_MONTHS, what=f"4 months/{engine}")
    assert_conserved(result.program, result.ledger)


def workbook_case():
    return deal(), "base"


@needs_lo
def test_four_month_dsra_workbook_recalculates_to_the_hand_ledger(lo_ledgers):
    assert_lines(workbook_lines(lo_ledgers, __name__), FOUR_MONTHS, what="LibreOffice 4-month DSRA")
