"""Sources and uses at close with upfront fees, closing costs and a DSRA funded from the
sources at close, its target stated in months (issue 14, item 4), hand-worked: the ledger
(reference and kernel), the run summary and the workbook's Summary recalculated by
LibreOffice.

Deal (USD millions, quarterly, 30/360 from the 15th: 0.25 a quarter; 4 quarters, no
construction, so "at close" is period 0):
  asset 1,000 at close; closing costs 20; senior 600 at 4% (1% a quarter), straight line
  over 4 quarters (150 a quarter), upfront fee 2% = 12. Lease 800 a year = 200 a quarter.
  DSRA: 6 months of debt service = 2 quarters, funded at close.
  priority: interest, principal, reserve (dsra), distribute.
q0: capex 1,000 + 20 + 12 = 1,032; debt 600; the DSRA target at close is the next two
    quarters' debt service from 600: (6 + 150) + (4.5 + 150) = 310.5; equity in
    1,032 - 600 + 310.5 = 742.5; the reserve step fills the DSRA with it; nothing left.
q1: CFADS 200 + release 310.5 = 510.5; interest 6, principal 150 -> 354.5; target from
    450: (4.5 + 150) + (3 + 150) = 307.5 refilled; equity 47.
q2: 200 + 307.5 = 507.5; 4.5 + 150 -> 353; target from 300: 153 + 151.5 = 304.5; equity 48.5.
q3: 200 + 304.5 = 504.5; 3 + 150 -> 351.5; target from 150: only q4 is left, 151.5; equity 200.
q4: the last period: target 0; 200 + 151.5 = 351.5; 1.5 + 150 -> equity 200.
Sources at close: debt 600 + equity 742.5 = 1,342.5.
Uses at close: construction spend 1,000 + upfront fees 12 + closing costs 20 + DSRA 310.5 = 1,342.5.
"""
from __future__ import annotations

from functools import lru_cache

import pytest

from tests.invariants import assert_conserved

from .handworked import ENGINES, assert_lines, deal_from_toml, ledger_lines, needs_lo, run

DEAL = """
closing_costs = 20.0   # legal and advisory, at close

[deal]
name = "hand-sources-uses"
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
annual_rent = 800.0
term_months = 12

[[tranches]]
name = "senior"
amount = 600.0
upfront_fee = 0.02
rate = { kind = "fixed", annual = 0.04 }
day_count = "30/360"
amortisation = { kind = "straight_line", periods = 4 }
capitalise_interest = "never"

[[accounts]]
name = "dsra"
kind = "dsra"
target_months = 6
tranches = ["senior"]
funded_at_close = true

[[waterfall]]
step = "interest"
tranche = "senior"

[[waterfall]]
step = "principal"
tranche = "senior"

[[waterfall]]
step = "reserve"
account = "dsra"

[[waterfall]]
step = "distribute"
"""


@lru_cache(maxsize=None)
def deal():
    return deal_from_toml(DEAL, "tests/steps/test_sources_uses.py")


LEDGER = {
    "capex": [1032, 0, 0, 0, 0],
    "draws": [600, 0, 0, 0, 0],
    "equity_in": [742.5, 0, 0, 0, 0],
    "reserve_release": [0, 310.5, 307.5, 304.5, 151.5],
    "reserve_funding": [310.5, 307.5, 304.5, 151.5, 0],
    "dsra.balance_close": [310.5, 307.5, 304.5, 151.5, 0],
    "senior.interest_paid": [0, 6, 4.5, 3, 1.5],
    "senior.principal_paid": [0, 150, 150, 150, 150],
    "equity_distribution": [0, 47, 48.5, 200, 200],
}
SOURCES = {"Debt drawn: senior": 600.0, "Equity contributions": 742.5}
USES = {"Construction spend (capex)": 1000.0, "Upfront fees at close": 12.0, "Closing costs at close": 20.0,
        "Reserves funded (balance at the end)": 310.5}


@pytest.mark.parametrize("engine", ENGINES)
def test_funded_dsra_and_costs_at_close_by_hand(engine):
    result = run(deal(), "base", engine)
    assert_lines(ledger_lines(result), LEDGER, what=f"sources-uses/{engine}")
    assert_conserved(result.program, result.ledger)
    assert result.program.acct_periods[0] == 2          # 6 months of quarters
    assert result.metrics["default_period"] is None


def test_sources_and_uses_lines_and_the_run_summary():
    from waterfall.output.summary import summary_rows
    from waterfall.report.figures import sources_and_uses

    result = run(deal(), "base", "reference")
    su = sources_and_uses(result, 0)
    assert {l.label: l.value for l in su.sources} == pytest.approx(SOURCES, rel=1e-12)
    assert {l.label: l.value for l in su.uses} == pytest.approx(USES, rel=1e-12)
    assert su.total_sources == pytest.approx(1342.5) and su.total_uses == pytest.approx(1342.5)
    rows = dict(summary_rows(result, "USD millions"))
    assert rows["sources at close (USD millions)"].endswith("total 1,342.500")
    assert "Upfront fees at close 12.000" in rows["uses at close (USD millions)"]


@needs_lo
def test_sources_and_uses_on_the_recalculated_summary(tmp_path):
    import openpyxl

    from waterfall.output.excel import write_workbook
    from waterfall.output.recalc import recalculate

    result = run(deal(), "base", "reference")
    src = write_workbook(result, tmp_path / "su.xlsx", formulas=True, deal=deal())
    ws = openpyxl.load_workbook(recalculate(src, tmp_path / "lo"), data_only=True)["Summary"]
    got = {row[0]: row[1] for row in ws.iter_rows(values_only=True) if row[0]}
    for label, value in {**SOURCES, **USES, "Total sources": 1342.5, "Total uses": 1342.5}.items():
        assert got[label] == pytest.approx(value, rel=1e-12), label
    formulas = {row[0].value: row[1].value for row in openpyxl.load_workbook(src)["Summary"].iter_rows() if row[0].value}
    assert str(formulas["Construction spend (capex)"]).startswith("=SUM('Cash flows'!")
    assert str(formulas["Reserves funded (balance at the end)"]).startswith("='Cash flows'!")


# Interest on the DSRA at 3.65% a year, ACT/365F on its opening balance (0.0001 a day):
# q1 (2026-01-15 -> 04-15, 90 days) 310.5 x 0.009 = 2.7945; q2 (91 days) 307.5 x 0.0091
# = 2.79825; q3 (92 days) 304.5 x 0.0092 = 2.8014; q4 (92 days) 151.5 x 0.0092 = 1.3938.
# It is cash of the period (not CFADS: the DSCR is unchanged); the DSRA targets are the
# same, so each period's distribution grows by exactly that interest.
EARNING = {
    **LEDGER,
    "reserve_interest": [0, 2.7945, 2.79825, 2.8014, 1.3938],
    "dscr": [float("nan"), 200 / 156, 200 / 154.5, 200 / 153, 200 / 151.5],
    "equity_distribution": [0, 49.7945, 51.29825, 202.8014, 201.3938],
}


@lru_cache(maxsize=None)
def earning_deal():
    text = DEAL.replace("funded_at_close = true", "funded_at_close = true\ninterest_rate = 0.0365")
    return deal_from_toml(text, "tests/steps/test_sources_uses.py (interest)")


@pytest.mark.parametrize("engine", ENGINES)
def test_interest_earned_on_the_dsra_by_hand(engine):
    result = run(earning_deal(), "base", engine)
    assert_lines(ledger_lines(result), EARNING, what=f"reserve interest/{engine}")
    assert_conserved(result.program, result.ledger)


def workbook_case():
    return earning_deal(), "base"


@needs_lo
def test_reserve_interest_workbook_recalculates_to_the_hand_ledger(lo_ledgers):
    from .handworked import workbook_lines
    assert_lines(workbook_lines(lo_ledgers, __name__), EARNING, what="LibreOffice reserve interest")

