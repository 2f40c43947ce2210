"""Sizing by target DSCR when CFADS / target does not cover the interest on the PV-sized
loan (issue 14, item 5), hand-worked. Before the fix the commitment was the plain PV of
CFADS / target: a loan whose first-period interest exceeded that period's CFADS, so it
defaulted in period 1 of its own base case. Now the sizing is the backward recursion of
waterfall/sizing.py (docs/sizing.md): U_{t-1} = min((U_t + c_t) / (1 + r), c_t / r).

Deal (USD millions, quarterly, 30/360 from the 15th: 0.25 a quarter; 4 quarters):
  asset 1,000 at close, gearing cap 100% (does not bind).
  lease A: 70 a year = 17.5 a quarter, q1-q4; lease B: 1,600 a year = 400 a quarter from
  q2 (9 months): CFADS 17.5, 417.5, 417.5, 417.5.
  senior: 8% fixed = 2% a quarter, sized at DSCR 1.25 over the horizon (maturity q4),
  sculpted at 1.25; c_t = CFADS_t / 1.25 = 14, 334, 334, 334.
  priority: interest, principal, distribute.

The old sizing, by hand: PV = 14/1.02 + 334/1.02^2 + 334/1.02^3 + 334/1.02^4
  = 13.72549 + 321.03037 + 314.73566 + 308.56437 = 958.05590; its q1 interest
  2% x 958.05 = 19.16 > CFADS 17.5: a payment default in q1.

The capacity, backward (r = 0.02):
  U4 = 0
  U3 = min((0 + 334)/1.02, 334/0.02) = 327.45098
  U2 = min((327.45098 + 334)/1.02, 16,700) = 648.48135
  U1 = min((648.48135 + 334)/1.02, 16,700) = 963.21701
  U0 = min((963.21701 + 14)/1.02 = 958.05590, 14/0.02 = 700) = 700   <- the interest bound binds
  amount 700 (any larger loan's q1 interest exceeds c_1 = 14: DSCR below 1.25).
Ledger: q1 interest 2% x 700 = 14, principal max(0, 14 - 14) = 0, balance 700, DSCR
  17.5/14 = 1.25; equity 3.5.
  q2 interest 14, principal 334 - 14 = 320, balance 380; DSCR 1.25; equity 83.5.
  q3 interest 7.6, principal 326.4, balance 53.6; DSCR 1.25; equity 83.5.
  q4 interest 1.072, principal min(53.6, 334 - 1.072) = 53.6: DS 54.672, balance 0;
  DSCR 417.5/54.672; equity 417.5 - 54.672 = 362.828.
"""
from __future__ import annotations

from functools import lru_cache

import pytest

from waterfall.compile import compile_deal

from .handworked import ENGINES, NAN, assert_lines, deal_from_toml, ledger_lines, needs_lo, run, workbook_lines

DEAL = """
[deal]
name = "hand-sizing-feasibility"
kind = "example"

[timeline]
financial_close = 2026-01-15
period = "quarter"
operating_periods = 4

[[assets]]
name = "site"
shell = { cost = 1000.0 }

[[leases]]
tenant = "A"
annual_rent = 70.0
term_months = 12

[[leases]]
tenant = "B"
annual_rent = 1600.0
start_period = 2
term_months = 9

[[tranches]]
name = "senior"
sizing = { target_dscr = 1.25 }
rate = { kind = "fixed", annual = 0.08 }
day_count = "30/360"
amortisation = { kind = "sculpted", target_dscr = 1.25 }
capitalise_interest = "never"

[[waterfall]]
step = "interest"
tranche = "senior"

[[waterfall]]
step = "principal"
tranche = "senior"

[[waterfall]]
step = "distribute"
"""


@lru_cache(maxsize=None)
def deal():
    return deal_from_toml(DEAL, "tests/steps/test_sizing_feasibility.py")


FEASIBLE = {
    "cfads": [0, 17.5, 417.5, 417.5, 417.5],
    "draws": [700, 0, 0, 0, 0],
    "equity_in": [300, 0, 0, 0, 0],
    "debt_service": [0, 14, 334, 334, 54.672],
    "dscr": [NAN, 1.25, 1.25, 1.25, 417.5 / 54.672],
    "senior.interest_paid": [0, 14, 14, 7.6, 1.072],
    "senior.principal_paid": [0, 0, 320, 326.4, 53.6],
    "senior.balance_close": [700, 700, 380, 53.6, 0],
    "equity_distribution": [0, 3.5, 83.5, 83.5, 362.828],
}


def test_old_pv_sizing_is_not_the_amount():
    """The plain PV (958.06, by hand above) would default in q1; the sized loan is 700."""
    program = compile_deal(deal())
    assert program.amounts[0] == pytest.approx(700.0, rel=1e-12)
    old_pv = 14 / 1.02 + 334 / 1.02 ** 2 + 334 / 1.02 ** 3 + 334 / 1.02 ** 4
    assert old_pv == pytest.approx(958.05590, rel=1e-7) and 0.02 * old_pv > 17.5


@pytest.mark.parametrize("engine", ENGINES)
def test_sized_loan_never_defaults_in_its_base_case(engine):
    result = run(deal(), "base", engine)
    assert_lines(ledger_lines(result), FEASIBLE, what=f"feasible/{engine}")
    assert result.metrics["default_period"] is None


def workbook_case():
    return deal(), "base"


@needs_lo
def test_feasible_sizing_workbook_recalculates_to_the_hand_ledger(lo_ledgers):
    assert_lines(workbook_lines(lo_ledgers, __name__), FEASIBLE, what="LibreOffice base")
