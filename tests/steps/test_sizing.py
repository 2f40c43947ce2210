"""Debt sizing with sculpted amortisation, hand-worked. The commitment is the largest
amount whose base-case debt service, sculpted over `tenor_periods` from the start of
amortisation, keeps DSCR at the target: PV at the loan's rate of CFADS / target DSCR,
capped at max_gearing x asset cost. Sculpted principal is CFADS / target - interest
(at most the balance). Both are fixed at compile time on the base case.

Deal (USD millions, quarterly, 30/360 from the 15th: 0.25 a quarter; 4 quarters):
  asset 1,000 at close. rent 520 a year = 130 a quarter; opex 20 a year = 5; CFADS 125.
  senior: 4% fixed = 1% a quarter, sized at DSCR 1.25 over a 3-quarter tenor (maturity
  is the horizon, q4), sculpted at 1.25: debt service 125 / 1.25 = 100 a quarter.
  priority: interest, principal, distribute.
"""
from __future__ import annotations

from functools import lru_cache

import pytest

from .handworked import (
    ENGINES, NAN, assert_lines, deal_from_toml, ledger_lines, needs_lo, run, workbook_lines,
)

DEAL = """
[deal]
name = "hand-sizing"
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
annual_rent = 520.0
term_months = 12

[[opex]]
name = "opex"
annual_amount = 20.0

[[tranches]]
name = "senior"
sizing = { target_dscr = 1.25, max_gearing = GEARING, tenor_periods = 3EXTRA }
rate = { kind = "fixed", annual = 0.04 }
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

[[scenarios]]
name = "rent-up"
description = "Rent x 1.2 from q1: 156, CFADS 151 (sizing and schedule stay on the base case)."
adjustments = [{ kind = "rent_multiplier", from_period = 1, multiplier = 1.2 }]
"""


@lru_cache(maxsize=None)
def deal(gearing: float = 1.0, extra: str = "", tranche: str = ""):
    text = DEAL.replace("GEARING", repr(gearing)).replace("EXTRA", extra)
    text = text.replace('capitalise_interest = "never"', 'capitalise_interest = "never"\n' + tranche)
    return deal_from_toml(text, "tests/steps/test_sizing.py")


# Sized by DSCR (gearing 100% does not bind):
#   amount A = 100/1.01 + 100/1.01^2 + 100/1.01^3 (= 294.0985..., < 1,000), drawn at close;
#   equity 1000 - A.
# q1: interest 1% x A; principal 100 - 1% x A; balance 1.01 A - 100 = 100/1.01 + 100/1.01^2 = B1.
# q2: interest 1% x B1; principal 100 - 1% x B1; balance 1.01 B1 - 100 = 100/1.01 = B2.
# q3: interest 1% x B2 = 1/1.01; principal 100 - 1/1.01 = B2: balance 0.
#     DS 100 in q1-q3: DSCR exactly 1.25; equity 125 - 100 = 25.
# q4: nothing owed: DS 0, DSCR undefined; equity 125.
A = 100 / 1.01 + 100 / 1.01 ** 2 + 100 / 1.01 ** 3
B1 = 100 / 1.01 + 100 / 1.01 ** 2
B2 = 100 / 1.01
SIZED = {
    "cfads": [0, 125, 125, 125, 125],
    "draws": [A, 0, 0, 0, 0],
    "equity_in": [1000 - A, 0, 0, 0, 0],
    "debt_service": [0, 100, 100, 100, 0],
    "dscr": [NAN, 1.25, 1.25, 1.25, NAN],
    "senior.balance_open": [0, A, B1, B2, 0],
    "senior.interest_paid": [0, 0.01 * A, 0.01 * B1, 0.01 * B2, 0],
    "senior.principal_paid": [0, 100 - 0.01 * A, 100 - 0.01 * B1, 100 - 0.01 * B2, 0],
    "senior.balance_close": [A, B1, B2, 0, 0],
    "equity_distribution": [0, 25, 25, 25, 125],
}

# rent-up: rent 130 x 1.2 = 156, CFADS 151; amount and schedule unchanged (base
# case): DS 100, DSCR 1.51; equity 51, 51, 51, then 151.
RENT_UP = {
    **SIZED,
    "cfads": [0, 151, 151, 151, 151],
    "dscr": [NAN, 1.51, 1.51, 1.51, NAN],
    "equity_distribution": [0, 51, 51, 51, 151],
}

# Capped by gearing 25%: amount min(0.25 x 1000 = 250, A) = 250; equity 750.
# q1: interest 2.5, principal 100 - 2.5 = 97.5 -> 152.5; DSCR 1.25.
# q2: interest 1.525, principal 98.475 -> 54.025; DSCR 1.25.
# q3: interest 0.54025, principal min(54.025, 100 - 0.54025) = 54.025 -> 0;
#     DS 54.56525, DSCR 125/54.56525; equity 125 - 54.56525 = 70.43475.
# q4: nothing owed; equity 125.
CAPPED = {
    "draws": [250, 0, 0, 0, 0],
    "equity_in": [750, 0, 0, 0, 0],
    "debt_service": [0, 100, 100, 54.56525, 0],
    "dscr": [NAN, 1.25, 1.25, 125 / 54.56525, NAN],
    "senior.interest_paid": [0, 2.5, 1.525, 0.54025, 0],
    "senior.principal_paid": [0, 97.5, 98.475, 54.025, 0],
    "senior.balance_close": [250, 152.5, 54.025, 0, 0],
    "equity_distribution": [0, 25, 25, 70.43475, 125],
}

CASES = {"dscr-sized/base": (1.0, "base", SIZED, A), "dscr-sized/rent-up": (1.0, "rent-up", RENT_UP, A),
         "gearing-capped/base": (0.25, "base", CAPPED, 250.0)}


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize("case", CASES)
def test_sizing_ledger_by_hand(engine, case):
    gearing, scenario, expected, amount = CASES[case]
    result = run(deal(gearing), scenario, engine)
    assert result.program.amounts[0] == pytest.approx(amount, rel=1e-12)
    assert_lines(ledger_lines(result), expected, what=f"{case}/{engine}")
    assert result.metrics["default_period"] is None


def workbook_case():
    return deal(1.0), "base"


@needs_lo
def test_sizing_workbook_recalculates_to_the_hand_ledger(lo_ledgers):
    assert_lines(workbook_lines(lo_ledgers, __name__), SIZED, what="LibreOffice base")


# Capped at 25% and re-sculpted (`when_capped = "resculpt"`): the sculpting DSCR is
# re-solved so that 250 amortises over the same 3-quarter tenor. On flat CFADS a sculpted
# loan is an annuity: debt service P = 250 x 0.01 / (1 - 1.01^-3) = 85.0055 a quarter,
# DSCR 125 / P = 1.4705 in q1-q3 (the sizing's 1.25 x A / 250, A the DSCR-sized amount).
# q1: interest 2.5, principal P - 2.5, balance 252.5 - P = C1.
# q2: interest 0.01 C1, principal P - 0.01 C1, balance 1.01 C1 - P = C2 (= P / 1.01).
# q3: interest 0.01 C2, principal C2: balance 0. Equity 125 - P in q1-q3, 125 in q4.
P = 250 * 0.01 / (1 - 1.01 ** -3)
C1 = 252.5 - P
C2 = 1.01 * C1 - P
RESCULPTED = {
    "draws": [250, 0, 0, 0, 0],
    "debt_service": [0, P, P, P, 0],
    "dscr": [NAN, 125 / P, 125 / P, 125 / P, NAN],
    "senior.interest_paid": [0, 2.5, 0.01 * C1, 0.01 * C2, 0],
    "senior.principal_paid": [0, P - 2.5, P - 0.01 * C1, C2, 0],
    "senior.balance_close": [250, C1, C2, 0, 0],
    "equity_distribution": [0, 125 - P, 125 - P, 125 - P, 125],
}


@pytest.mark.parametrize("engine", ENGINES)
def test_gearing_cap_resculpts_over_the_tenor(engine):
    result = run(deal(0.25, ', when_capped = "resculpt"'), "base", engine)
    assert result.program.amounts[0] == pytest.approx(250.0, rel=1e-12)
    assert C2 == pytest.approx(P / 1.01, rel=1e-12)          # the annuity closes by hand
    assert 125 / P == pytest.approx(1.25 * A / 250, rel=1e-12)
    assert_lines(ledger_lines(result), RESCULPTED, what=f"resculpt/{engine}")
    assert result.metrics["default_period"] is None


def test_notional_tenor_past_the_legal_maturity_leaves_a_balloon():
    """Sized over a 3-quarter notional tenor, legal maturity q2: the amount is A as for the
    3-quarter loan; the schedule is sculpted to q2 (q1: 100 - 0.01 A; q2: 100 - 0.01 B1)
    and the rest, B2 = 100 / 1.01, is the balloon at q2. Without a refinancing the base
    case cannot pay it (CFADS 125 against 1.01 x B1 = 199.0 due): the lender's notional
    tenor assumes the balloon is refinanced."""
    sized = deal(1.0, tranche="maturity_period = 2")
    result = run(sized, "base", "reference")
    assert result.program.amounts[0] == pytest.approx(A, rel=1e-12)
    assert list(result.program.sched[0]) == pytest.approx([0, 100 - 0.01 * A, 100 - 0.01 * B1, 0, 0], rel=1e-12)
    assert B1 - result.program.sched[0, 2] == pytest.approx(B2, rel=1e-12)
    assert result.metrics["default_period"] == 2
