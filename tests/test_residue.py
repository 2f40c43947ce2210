"""Debt service of rounding residue is no debt service (ops.DUST, a thousandth of a dollar
in USD millions). Found by the random-deal fuzz: a level-payment loan, sized, on an
annual timeline, is repaid in period 4, but floating-point arithmetic leaves ~1e-15 of
balance whose "interest" was counted as debt service in periods 5-9. With no CFADS left
(the 36-month lease has ended) each of those periods showed a DSCR of 0, which dragged
the average DSCR from 0.995 to 0.442 and would have read as a covenant breach had a
covenant run past repayment; LibreOffice, whose arithmetic leaves an exact 0 there,
showed no DSCR, so the live-formula workbook and the engine disagreed.
"""
from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest

import waterfall
from waterfall import ops
from waterfall.load import deal_from_data

DEAL = json.loads((Path(__file__).parent / "residue_deal.json").read_text())


def _run(engine):
    return waterfall.run(deal_from_data(DEAL, "tests/residue_deal.json"), "base", engine=engine)


@pytest.mark.parametrize("engine", ["reference", "compiled"])
def test_residue_debt_service_has_no_dscr(engine):
    result = _run(engine)
    flows = result.cash_flows()
    ds, dscr, cfads = flows["debt_service"].to_numpy(), flows["dscr"].to_numpy(), flows["cfads"].to_numpy()
    # periods 1-4 pay the level payment (28.114 a year) out of 37.314 of rent in 1-3 and
    # nothing in 4 (the lease has ended); 5-9 carry only residue below a thousandth of a dollar
    assert (ds[1:5] > 1.0).all() and (ds[5:] <= ops.DUST).all()
    assert np.isnan(dscr[5:]).all()
    by_hand = [cfads[t] / ds[t] for t in range(1, 5)]   # 1.327, 1.327, 1.327, 0
    assert by_hand[3] == 0.0
    assert result.metrics.avg_dscr == pytest.approx(sum(by_hand) / 4, rel=1e-12)   # 0.9954, was 0.4424
    assert result.metrics.min_dscr == 0.0
    assert not math.isnan(result.metrics.avg_dscr)


def test_residue_workbook_recalculates_to_the_engine(tmp_path):
    """The live-formula workbook applies the same rule (IF(debt service > DUST, ...))."""
    from waterfall.output.excel import write_workbook
    from waterfall.output.recalc import recalculate, soffice

    from .test_excel import _compare_recalculated
    if soffice() is None:
        pytest.skip("LibreOffice (soffice) is not installed")
    result = _run("reference")
    src = write_workbook(result, tmp_path / "residue.xlsx", formulas=True,
                         deal=deal_from_data(DEAL, "tests/residue_deal.json"))
    count, bad = _compare_recalculated(src, recalculate(src, tmp_path / "lo"))
    assert count > 100 and bad == []


def test_no_xirr_without_flows_of_both_signs(tmp_path):
    """Found by the formula fuzz (about one CI run in ten): equity flows 0, -613.19, 0, ...
    (the sponsors invest and never receive anything) have no IRR; the engine says none,
    while LibreOffice's XIRR, whose first flow is 0, "converged" to 2.06e13 (the NPV of
    -613/(1+r)^1 tends to 0 as r grows). The workbook now asks for flows of both signs
    before any IRR or XIRR, as the engine does (irr.NOISE)."""
    from waterfall.model import Scenario
    from waterfall.output.excel import write_workbook
    from waterfall.output.recalc import recalculate, soffice

    from .test_excel import _compare_recalculated
    if soffice() is None:
        pytest.skip("LibreOffice (soffice) is not installed")
    case = json.loads((Path(__file__).parent / "xirr_no_root_case.json").read_text())
    deal = deal_from_data(case["deal"], "tests/xirr_no_root_case.json")
    scenario = Scenario.model_validate(case["scenario"])
    result = waterfall.run(deal, scenario, engine="reference")
    flows = result.cash_flows()
    equity = (flows["equity_distribution"] - flows["equity_in"] - flows["sponsor_support"]
              - flows["equity_cure"]).to_numpy()
    assert (equity <= 0.0).all() and equity.min() < -600.0
    assert result.metrics.equity_xirr is None and result.metrics.equity_irr is None
    src = write_workbook(result, tmp_path / "no_root.xlsx", formulas=True, deal=deal, scenario=scenario)
    count, bad = _compare_recalculated(src, recalculate(src, tmp_path / "lo"))
    assert count > 100 and bad == []
