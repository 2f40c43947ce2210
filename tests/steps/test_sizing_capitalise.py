"""Sizing by target DSCR that capitalises the interest CFADS / target cannot pay
(`sizing.when_short = "capitalise"`, issue 14, item 5), hand-worked on the deal of
tests/steps/test_sizing_feasibility.py: reference, kernel and the live-formula workbook
recalculated by LibreOffice.

c_t = CFADS_t / 1.25 = 14, 334, 334, 334 at 2% a quarter (the other file's numbers).
The capacity is now the plain PV, with no interest bound:
  U3 = 334 / 1.02 = 327.45098; U2 = (327.45098 + 334) / 1.02 = 648.48135;
  U1 = (648.48135 + 334) / 1.02 = 963.21701; U0 = (963.21701 + 14) / 1.02 = 958.05590.
  amount 958.05590 (instead of 700); equity in 1,000 - 958.05590 = 41.94410.
Ledger:
  q1 interest 2% x 958.05590 = 19.16112 > c_1 = 14: the interest is capitalised and 14 is
     paid against the balance: 958.05590 + 19.16112 - 14 = 963.21701 (= U1): the balance
     grows by the 5.16112 of interest left unpaid. Debt service 14, DSCR 17.5 / 14 = 1.25,
     equity 3.5. No event of default.
  q2 interest 2% x 963.21701 = 19.26434 paid; principal 334 - 19.26434 = 314.73566;
     balance 648.48135 (= U2); DSCR 1.25; equity 83.5.
  q3 interest 12.96963; principal 321.03037; balance 327.45098; equity 83.5.
  q4 interest 6.54902; principal 327.45098; balance 0; DSCR 1.25; equity 83.5.
"""
from __future__ import annotations

from functools import lru_cache

import pytest

from waterfall.compile import compile_deal

from .handworked import ENGINES, NAN, assert_lines, deal_from_toml, ledger_lines, needs_lo, run, workbook_lines
from .test_sizing_feasibility import DEAL

U3 = 334 / 1.02
U2 = (U3 + 334) / 1.02
U1 = (U2 + 334) / 1.02
U0 = (U1 + 14) / 1.02

CAPITALISED = {
    "cfads": [0, 17.5, 417.5, 417.5, 417.5],
    "draws": [U0, 0, 0, 0, 0],
    "equity_in": [1000 - U0, 0, 0, 0, 0],
    "debt_service": [0, 14, 334, 334, 334],
    "dscr": [NAN, 1.25, 1.25, 1.25, 1.25],
    "senior.interest_capitalised": [0, 0.02 * U0, 0, 0, 0],
    "senior.interest_paid": [0, 0, 0.02 * U1, 0.02 * U2, 0.02 * U3],
    "senior.principal_paid": [0, 14, 334 - 0.02 * U1, 334 - 0.02 * U2, U3],
    "senior.balance_close": [U0, U1, U2, U3, 0],
    "equity_distribution": [0, 3.5, 83.5, 83.5, 83.5],
}


@lru_cache(maxsize=None)
def deal():
    text = DEAL.replace("sizing = { target_dscr = 1.25 }", 'sizing = { target_dscr = 1.25, when_short = "capitalise" }')
    return deal_from_toml(text, "tests/steps/test_sizing_capitalise.py")


def test_capitalising_sizes_the_plain_pv():
    program = compile_deal(deal())
    assert U0 == pytest.approx(958.05590, rel=1e-7) and U1 == pytest.approx(963.21701, rel=1e-7)
    assert program.amounts[0] == pytest.approx(U0, rel=1e-12)
    assert list(program.capitalise[0]) == [0, 1, 0, 0, 0]   # q1 capitalises its interest


@pytest.mark.parametrize("engine", ENGINES)
def test_capitalising_loan_never_defaults_in_its_base_case(engine):
    result = run(deal(), "base", engine)
    assert_lines(ledger_lines(result), CAPITALISED, what=f"capitalise/{engine}")
    assert result.metrics["default_period"] is None


def workbook_case():
    return deal(), "base"


@needs_lo
def test_capitalising_sizing_workbook_recalculates_to_the_hand_ledger(lo_ledgers):
    assert_lines(workbook_lines(lo_ledgers, __name__), CAPITALISED, what="LibreOffice capitalise")
