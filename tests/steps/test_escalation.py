"""Escalation of each revenue and cost line at its own rate, frequency and anniversary,
and CPI-linked escalation with floor and cap on a CPI path that scenarios replace (issue
14, item 3; waterfall/escalation.py), hand-worked.

Deal (USD millions, quarterly from 2026-01-15, 8 quarters; periods start on 01-15,
04-15, 07-15, 10-15 of 2026, then of 2027):
  asset 1,000 at close; senior 100 at 4% (30/360: 1 a quarter), bullet at q8.
  lease: 400 a year = 100 a quarter, +5% every 6 months from the anniversary 2026-05-01:
    escalation dates 2026-05-01, 2026-11-01, 2027-05-01, 2027-11-01; a quarter carries
    those on or before its start: q1-q2 none, q3-q4 one, q5-q6 two, q7-q8 three:
    rent 100, 100, 105, 105, 110.25, 110.25, 115.7625, 115.7625.
  opex: 40 a year = 10 a quarter, CPI-linked every 12 months from its start (first
    escalation 2027-01-15, the start of q5), floor 0%, cap 3%. CPI 5% a year: the index
    rises 1.05^(365/365) - 1 = 5% over 2026-01-15 .. 2027-01-15, capped at 3%:
    opex 10 in q1-q4, 10.3 in q5-q8.
  fee: 4 a year = 1 a quarter from q1, +10% every 12 months from 2026-07-01:
    q1-q2 1, q3-q6 1.1, q7-q8 1.21.
  priority: interest, fee, principal, distribute.
Base: CFADS = rent - opex = 90, 90, 95, 95, 99.95, 99.95, 105.4625, 105.4625;
  equity = CFADS - 1 - fee (- 100 at q8) = 88, 88, 92.9, 92.9, 97.85, 97.85, 103.2525, 3.2525.
Scenario mid-cpi (cpi_path 2%): the change is 2% (inside the collar): opex 10.2 in q5-q8;
  CFADS 100.05, 100.05, 105.5625, 105.5625; equity 97.95, 97.95, 103.3525, 3.3525.
Scenario deflation (cpi_path -1%): floored at 0%: opex 10 throughout;
  CFADS 100.25, 100.25, 105.7625, 105.7625; equity 98.15, 98.15, 103.5525, 3.5525.
"""
from __future__ import annotations

from functools import lru_cache

import pytest

from .handworked import ENGINES, assert_lines, deal_from_toml, ledger_lines, needs_lo, run, workbook_lines

DEAL = """
[deal]
name = "hand-escalation"
kind = "example"

[timeline]
financial_close = 2026-01-15
period = "quarter"
operating_periods = 8

[cpi]
points = [[0, 0.05]]

[[assets]]
name = "site"
shell = { cost = 1000.0 }

[[leases]]
tenant = "Tenant"
annual_rent = 400.0
term_months = 24
indexation = { kind = "fixed", rate = 0.05, every_months = 6, anniversary = 2026-05-01 }

[[opex]]
name = "opex"
annual_amount = 40.0
indexation = { kind = "cpi", every_months = 12, floor = 0.0, cap = 0.03 }

[[fees]]
name = "agency"
annual_amount = 4.0
indexation = { kind = "fixed", rate = 0.10, anniversary = 2026-07-01 }

[[tranches]]
name = "senior"
amount = 100.0
rate = { kind = "fixed", annual = 0.04 }
day_count = "30/360"
amortisation = { kind = "bullet" }
capitalise_interest = "never"

[[waterfall]]
step = "interest"
tranche = "senior"

[[waterfall]]
step = "fee"
fee = "agency"

[[waterfall]]
step = "principal"
tranche = "senior"

[[waterfall]]
step = "distribute"

[[scenarios]]
name = "mid-cpi"
adjustments = [{ kind = "cpi_path", points = [[0, 0.02]] }]

[[scenarios]]
name = "deflation"
adjustments = [{ kind = "cpi_path", points = [[0, -0.01]] }]
"""


@lru_cache(maxsize=None)
def deal():
    return deal_from_toml(DEAL, "tests/steps/test_escalation.py")


RENT = [0, 100, 100, 105, 105, 110.25, 110.25, 115.7625, 115.7625]
FEES = [0, 1, 1, 1.1, 1.1, 1.1, 1.1, 1.21, 1.21]
BASE = {
    "revenue": RENT,
    "opex": [0, 10, 10, 10, 10, 10.3, 10.3, 10.3, 10.3],
    "cfads": [0, 90, 90, 95, 95, 99.95, 99.95, 105.4625, 105.4625],
    "fees_paid": FEES,
    "equity_distribution": [0, 88, 88, 92.9, 92.9, 97.85, 97.85, 103.2525, 3.2525],
}
MID = {
    "revenue": RENT,
    "opex": [0, 10, 10, 10, 10, 10.2, 10.2, 10.2, 10.2],
    "cfads": [0, 90, 90, 95, 95, 100.05, 100.05, 105.5625, 105.5625],
    "fees_paid": FEES,
    "equity_distribution": [0, 88, 88, 92.9, 92.9, 97.95, 97.95, 103.3525, 3.3525],
}
DEFLATION = {
    "revenue": RENT,
    "opex": [0] + [10] * 8,
    "cfads": [0, 90, 90, 95, 95, 100.25, 100.25, 105.7625, 105.7625],
    "fees_paid": FEES,
    "equity_distribution": [0, 88, 88, 92.9, 92.9, 98.15, 98.15, 103.5525, 3.5525],
}
CASES = {"base": BASE, "mid-cpi": MID, "deflation": DEFLATION}


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize("scenario", CASES)
def test_escalation_ledger_by_hand(engine, scenario):
    result = run(deal(), scenario, engine)
    assert_lines(ledger_lines(result), CASES[scenario], what=f"{scenario}/{engine}")
    assert result.metrics["default_period"] is None


def workbook_case():
    return deal(), "mid-cpi"


@needs_lo
def test_escalation_workbook_recalculates_to_the_hand_ledger(lo_ledgers):
    assert_lines(workbook_lines(lo_ledgers, __name__), MID, what="LibreOffice mid-cpi")


def test_fixed_indexation_from_the_line_start_is_the_yearly_escalation():
    """Indexation at 2% every 12 months from the lease's start (no anniversary) is the
    lease's own `escalation = 0.02` (x 1.02^floor((q - 1) / 4)), and a CPI collar pinned
    at 2% (floor = cap = 0.02) on the opex the same as its yearly `escalation = 0.02`,
    period by period, on the tie-out deal (40 quarters)."""
    import numpy as np

    from waterfall.compile import compile_deal
    from waterfall.load import deal_from_data, read_document, resolve_deal_path

    data = read_document(resolve_deal_path("tieout"))
    data["opex"][0]["escalation"] = 0.02
    legacy = compile_deal(deal_from_data(data, "<legacy>"))
    data["leases"][0].pop("escalation")
    data["leases"][0].pop("escalation_every_months")
    data["leases"][0]["indexation"] = {"kind": "fixed", "rate": 0.02, "every_months": 12}
    data["opex"][0].pop("escalation")
    data["opex"][0]["indexation"] = {"kind": "cpi", "floor": 0.02, "cap": 0.02}
    data["cpi"] = {"points": [[0, 0.0]]}
    indexed = compile_deal(deal_from_data(data, "<indexed>"))
    assert np.allclose(legacy.base_rent, indexed.base_rent, rtol=1e-14, atol=0)  # 1.02^k vs a running product
    assert np.allclose(legacy.opex, indexed.opex, rtol=1e-15, atol=0)
    assert legacy.base_rent[40] == pytest.approx(40 * 1.02 ** 9)


def test_escalation_and_a_stub_compose_per_line():
    """A last stub (final_date 2027-02-15 after the regular 2027-01-15: 123 days of a
    92-day regular quarter from 2026-10-15) and a 10% escalation dated 2026-10-01 (before
    q4 starts on 2026-10-15) meet in q4's rent: 100 x 1.10 x 123/92 = 147.0652...; the
    opex (CPI 5% capped at 3%, first escalation 2027-01-15, after q4 starts) is only
    pro-rated: 10 x 123/92; the fee (10% from 2026-07-01) 1.1 x 123/92."""
    from waterfall.compile import compile_deal

    text = DEAL.replace("operating_periods = 8", "operating_periods = 4\nfinal_date = 2027-02-15")
    text = text.replace("every_months = 6, anniversary = 2026-05-01", "rate_placeholder")
    text = text.replace('rate = 0.05, rate_placeholder', 'rate = 0.10, anniversary = 2026-10-01')
    text = text.replace("term_months = 24", "term_months = 15")
    program = compile_deal(deal_from_toml(text, "tests/steps/test_escalation.py (stub)"))
    assert list(program.base_rent) == pytest.approx([0, 100, 100, 100, 110 * 123 / 92], rel=1e-12)
    assert list(program.opex) == pytest.approx([0, 10, 10, 10, 10 * 123 / 92], rel=1e-12)
    assert list(program.fee_due[0]) == pytest.approx([0, 1, 1, 1.1, 1.1 * 123 / 92], rel=1e-12)
