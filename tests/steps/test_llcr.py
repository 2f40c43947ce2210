"""The LLCR path, hand-worked: the loan life cover ratio at each calculation date from COD
to the tranche's notional (banking-case) maturity, and its minimum.

Deal (USD millions, quarterly, 30/360 from the 15th: every quarter accrues 0.25): asset
1,000 at close; senior 400 drawn at close, 4% fixed = 1% a quarter, straight-line 100 a
quarter over 4 quarters; rent 480 a year, opex 20 a year: CFADS 115 a quarter from q1 (COD).
The notional maturity is stated as q3, before the legal maturity q4, so the LLCR runs to q3.
"""
from __future__ import annotations

from functools import lru_cache

import pytest

from .handworked import (
    ENGINES, NAN, assert_lines, assert_metrics, deal_from_toml, ledger_lines, needs_lo, run, workbook_lines,
)

DEAL = """
[deal]
name = "hand-llcr"
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
annual_rent = 480.0
term_months = 12

[[opex]]
name = "opex"
annual_amount = 20.0

[[tranches]]
name = "senior"
amount = 400.0
rate = { kind = "fixed", annual = 0.04 }
day_count = "30/360"
amortisation = { kind = "straight_line", periods = 4 }
capitalise_interest = "never"
notional_maturity_period = 3

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
    return deal_from_toml(DEAL, "tests/steps/test_llcr.py")


# v = 1 / 1.01 a quarter. At each date t the NPV of the CFADS of quarters t..3, each
# discounted through its own quarter, over the opening balance at t:
# t1: 115 (v + v^2 + v^3) / 400 = 115 x 2.940985207 / 400 = 0.845533247
# t2: 115 (v + v^2) / 300      = 115 x 1.970395059 / 300 = 0.755318106
# t3: 115 v / 200              = 113.861386139 / 200    = 0.569306931
# t4: after the notional maturity: none. Minimum: 0.569306931 (q3).
V = 1 / 1.01
PATH = [NAN, 115 * (V + V**2 + V**3) / 400, 115 * (V + V**2) / 300, 115 * V / 200, NAN]


@pytest.mark.parametrize("engine", ENGINES)
def test_llcr_path_to_the_notional_maturity(engine):
    result = run(deal(), "base", engine)
    assert_lines(ledger_lines(result), {"llcr": PATH}, what=engine)
    assert_metrics(result, {"llcr": PATH[1], "min_llcr": PATH[3]})


@pytest.mark.parametrize("engine", ENGINES)
def test_without_a_notional_maturity_the_llcr_runs_to_the_legal_one(engine):
    plain = deal_from_toml(DEAL.replace("notional_maturity_period = 3\n", ""), "tests/steps/test_llcr.py (legal)")
    result = run(plain, "base", engine)
    # t1: 115 (v + v^2 + v^3 + v^4) / 400 = 1.12182; t2: 115 (v + v^2 + v^3) / 300 = 1.12733;
    # t3: 115 (v + v^2) / 200 = 1.13298; t4: 115 v / 100 = 1.13861: the minimum is at COD
    first = 115 * (V + V**2 + V**3 + V**4) / 400
    assert_lines(ledger_lines(result), {"llcr": [NAN, first, 115 * (V + V**2 + V**3) / 300,
                                                 115 * (V + V**2) / 200, 115 * V / 100]}, what=engine)
    assert_metrics(result, {"llcr": first, "min_llcr": first})


def workbook_case():
    return deal(), "base"


@needs_lo
def test_llcr_workbook_recalculates_to_the_hand_path(lo_ledgers):
    assert_lines(workbook_lines(lo_ledgers, __name__), {"llcr": PATH}, what="LibreOffice")
