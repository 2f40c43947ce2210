"""The live-formula workbook on random deals: each random (deal, scenario) the parity test
draws is written with --formulas, LibreOffice recalculates it, and every formula cell
must equal the engine's value (rel 1e-9). A fresh sample each run (hypothesis), all
workbooks recalculated one by one."""
from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import waterfall
from waterfall.load import deal_from_data
from waterfall.model import Scenario
from waterfall.output.excel import write_workbook
from waterfall.output.recalc import recalculate, soffice

from .strategies import deals, scenarios
from .test_excel import _compare_recalculated

SAMPLE = 8  # workbooks per run

needs_lo = pytest.mark.skipif(soffice() is None, reason="LibreOffice (soffice) is not installed")


@needs_lo
@settings(max_examples=SAMPLE, deadline=None, database=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(data=st.data())
def test_random_deals_tie_out_in_libreoffice(tmp_path, data):
    deal = deal_from_data(data.draw(deals(max_operating=16)), "<random>")
    scenario = Scenario.model_validate(data.draw(scenarios(deal.timeline.n_periods)))
    result = waterfall.run(deal, scenario, engine="reference")
    src = write_workbook(result, tmp_path / "random.xlsx", formulas=True, deal=deal, scenario=scenario)
    out = recalculate(src, tmp_path / "lo")
    count, bad = _compare_recalculated(src, out)
    assert count > 100
    assert bad == [], (deal.model_dump(), scenario.model_dump(), bad[:5])


def test_workbook_of_a_sized_tranche_states_the_sized_amount(tmp_path):
    """Found by the fuzz above: a sized tranche has no stated amount, and the Summary sheet
    formatted None (TypeError). The Summary shows the amount sizing found."""
    import openpyxl

    from .test_sizing import tieout_with

    deal = tieout_with(sizing={"target_dscr": 1.4, "max_gearing": 1.0},
                       amortisation={"kind": "sculpted", "target_dscr": 1.4})
    result = waterfall.run(deal, "base")
    out = write_workbook(result, tmp_path / "sized.xlsx", deal=deal)
    summary = openpyxl.load_workbook(out)["Summary"]
    texts = [row[1].value for row in summary.iter_rows() if row[0].value == "Tranche senior"]
    assert texts and texts[0].startswith(f"{result.program.amounts[0]:,.3f};")
