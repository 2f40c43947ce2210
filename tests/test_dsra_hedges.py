"""Hedges in the DSRA target (reference.reserve_target, dscr_windows.hedge_service;
docs/credit.md, "Hedges in the DSRA target"), worked by hand, in the reference, the kernel
and the live-formula workbook.

The deal: quarterly, 10 periods, a floating senior loan of 400 at base + 2% (base 4% flat,
30/360: 0.25 years a quarter) amortising straight-line over 8 quarters (50.0 a quarter):
after period t's principal its balance is 400 - 50t. A pay-fixed swap at 5% on 100% of the
base-case opening balance (400 - 50(u-1) in period u, 0 after the loan). A DSRA holds the
next 2 periods of debt service. Rent 200.0 a quarter, so the DSRA is always funded to target.

Base rates (index 4%): loan interest 6% x 0.25 = 1.5% of the balance a quarter, the swap
costs the SPV (5% - 4%) x 0.25 = 0.25% of its notional. With a +200bp shock (index 6%):
interest 8% x 0.25 = 2.0%, and the swap pays the SPV (5% - 6%) x 0.25 = -0.25%. Fully
hedged, the net interest is 1.75% a quarter either way.

Target at t = 1 (periods 2 and 3; balances 350 then 300, notionals 350 and 300):
  unhedged, base:    (5.25 + 50) + (4.5 + 50) = 109.75
  unhedged, shocked: (7.0 + 50) + (6.0 + 50) = 113.0
  hedged, base:      109.75 + 0.0025 x (350 + 300) = 111.375
  hedged, shocked:   113.0 - 0.0025 x 650 = 111.375 (the hedge holds the target still)
At t = 6 (periods 7, 8; balances 100, 50): hedged 0.0175 x 150 + 100 = 102.625.
At t = 7 (period 8 only: the loan is repaid there, the swap's notional is 0 in period 9):
  hedged 0.0175 x 50 + 50 = 50.875.
"""
from __future__ import annotations

import copy

import numpy as np
import pytest

import waterfall
from waterfall import engine, ops, reference
from waterfall.compile import compile_deal, compile_scenarios
from waterfall.load import deal_from_data

from .invariants import assert_all

BASE = {
    "deal": {"name": "dsra-hedges", "kind": "example",
             "assumptions": ["Every figure is illustrative: a hand-worked test deal."]},
    "timeline": {"financial_close": "2026-01-15", "period": "quarter", "construction_periods": 0,
                 "operating_periods": 10, "calendar": "none", "roll": "unadjusted"},
    "assets": [{"name": "campus", "spend": "at_close",
                "shell": {"cost": 1000.0, "curve": {"kind": "constant", "level": 1.0}}}],
    "leases": [{"tenant": "Tenant", "annual_rent": 800.0, "term_months": 120, "escalation": 0.0}],
    "base_rate": {"name": "Term SOFR", "points": [[0, 0.04]]},
    "tranches": [{"name": "senior", "amount": 400.0, "rate": {"kind": "floating", "spread": 0.02},
                  "day_count": "30/360", "amortisation": {"kind": "straight_line", "periods": 8},
                  "maturity_period": 8, "capitalise_interest": "never"}],
    "hedges": [{"name": "swap", "kind": "swap", "tranche": "senior", "index": "SOFR", "fixed_rate": 0.05,
                "day_count": "30/360", "notional_share": 1.0}],
    "accounts": [{"name": "dsra", "kind": "dsra", "target_periods": 2, "tranches": ["senior"]}],
    "waterfall": [{"step": "hedge", "hedge": "swap"}, {"step": "interest", "tranche": "senior"},
                  {"step": "principal", "tranche": "senior"}, {"step": "reserve", "account": "dsra"},
                  {"step": "distribute"}],
    "equity": {"sponsors": {"Sponsor": 1.0}},
    "scenarios": [{"name": "plus-200bp", "adjustments": [{"kind": "rate_shock", "from_period": 0, "bp": 200}]}],
}


def _deal(hedged: bool):
    raw = copy.deepcopy(BASE)
    if not hedged:
        raw["hedges"], raw["waterfall"] = [], raw["waterfall"][1:]
    return deal_from_data(raw, "<dsra-hedges>")


def _dsra(deal, scenario: str):
    """The DSRA's closing balance by period (reference; the kernel agrees to 1e-9)."""
    program = compile_deal(deal)
    batch = compile_scenarios([deal.scenario(scenario)], program)
    led_r, met_r, _ = reference.run_batch(program, batch)
    if engine.kernel_available():
        led_c, met_c, _ = engine.run_program(program, batch, ledgers=True, threads=1)
        np.testing.assert_allclose(led_c, led_r, rtol=1e-9, atol=1e-9, equal_nan=True)
        np.testing.assert_allclose(met_c, met_r, rtol=1e-9, atol=1e-9, equal_nan=True)
    assert_all(program, led_r[0])
    return led_r[0][:, ops.account_col(program.n_tranches, 0, "balance_close")]


def test_a_fully_hedged_dsra_target_does_not_move_with_rates():
    unhedged_base, unhedged_shock = _dsra(_deal(False), "base"), _dsra(_deal(False), "plus-200bp")
    hedged_base, hedged_shock = _dsra(_deal(True), "base"), _dsra(_deal(True), "plus-200bp")
    assert unhedged_base[1] == pytest.approx(109.75, rel=1e-12)
    assert unhedged_shock[1] == pytest.approx(113.0, rel=1e-12)
    assert hedged_base[1] == pytest.approx(111.375, rel=1e-12)
    assert hedged_shock[1] == pytest.approx(111.375, rel=1e-12)
    assert hedged_base[6] == pytest.approx(102.625, rel=1e-12)
    assert hedged_base[7] == pytest.approx(50.875, rel=1e-12)
    # every period the hedged target is the same under the shock (to rounding), the unhedged one is not
    np.testing.assert_allclose(hedged_shock[1:9], hedged_base[1:9], rtol=1e-12)
    assert np.all(unhedged_shock[1:8] > unhedged_base[1:8] + 0.1)


def test_a_swap_receipt_lowers_the_target_never_below_zero():
    """An over-hedge (a swap on 5 x the balance, the bank paying at +200bp): the net
    settlement over periods 2-3 is -0.0025 x 5 x 650 = -8.125 against 113.0 of loan debt
    service: target 104.875. With a swap on 100,000 the receipts (-500) exceed the debt
    service: the target is 0, not negative."""
    raw = copy.deepcopy(BASE)
    raw["hedges"][0]["notional_share"] = 1.0
    raw["hedges"] = [dict(raw["hedges"][0], name=f"swap{i}") for i in range(5)]
    raw["waterfall"] = ([{"step": "hedge", "hedge": f"swap{i}"} for i in range(5)] + BASE["waterfall"][1:])
    dsra = _dsra(deal_from_data(raw, "<dsra-hedges>"), "plus-200bp")
    assert dsra[1] == pytest.approx(113.0 - 8.125, rel=1e-12)
    raw = copy.deepcopy(BASE)
    del raw["hedges"][0]["notional_share"]
    raw["hedges"][0]["notional"] = [[1, 100000.0]]
    dsra = _dsra(deal_from_data(raw, "<dsra-hedges>"), "plus-200bp")
    assert dsra[1] == 0.0   # 113.0 - 0.0025 x 100,000 x 2 = -387.0: floored at zero


# --------------------------------------------------------------------------- the workbook

@pytest.mark.parametrize("scenario", ["base", "plus-200bp"])
def test_formula_model_restates_the_hedged_dsra(scenario):
    from waterfall.output.formulas import check_against
    from .test_excel import _model
    deal = _deal(True)
    for engine_name in ("reference", "compiled") if engine.kernel_available() else ("reference",):
        result = waterfall.run(deal, scenario, engine=engine_name)
        assert check_against(_model(deal, result), result.ledger) == [], scenario


def test_libreoffice_recalculates_the_hedged_dsra(tmp_path):
    import openpyxl

    from waterfall.output.excel import write_workbook
    from waterfall.output.formulas import CF_SHEET
    from waterfall.output.recalc import recalculate_many, soffice
    from .test_excel import _assert_ties_out, _compare_recalculated, _ledger_rows, _model
    if soffice() is None:
        pytest.skip("LibreOffice (soffice) is not installed")
    deal = _deal(True)
    cases = {}
    for scenario in ("base", "plus-200bp"):
        result = waterfall.run(deal, scenario)
        cases[scenario] = (write_workbook(result, tmp_path / f"{scenario}.xlsx", formulas=True, deal=deal), result)
    outs = recalculate_many([src for src, _r in cases.values()], tmp_path / "lo")
    for (scenario, (src, result)), out in zip(cases.items(), outs):
        count, bad = _compare_recalculated(src, out)
        assert count > 0 and not bad, (scenario, bad[:5])
        lo = openpyxl.load_workbook(out, data_only=True)
        _assert_ties_out(_ledger_rows(lo[CF_SHEET], _model(deal, result), result), scenario)
