"""DSCR covenants on a point, historic (trailing 12 months) and projected (forward 12
months) basis (waterfall/dscr_windows.py; docs/credit.md, "DSCR covenants"), worked by hand
on a small quarterly deal, in the reference, the kernel and the live-formula workbook.

The deal: quarterly, 12 periods, rent 80 a year flat (20.0 a quarter), no opex, so CFADS
is 20.0 a quarter at full rent. One senior loan of 400 at 8% fixed, 30/360 from the 15th
(exactly 0.25 years a quarter): interest 400 x 0.08 x 0.25 = 8.0 a quarter, a bullet at
period 12 (the balloon is no debt service; an exit sale at the horizon repays it). So
debt service is 8.0 in every period 1..12 and the point DSCR at full rent is 20/8 = 2.5.
The window is 12 months = 4 quarters; debt service begins in period 1 (period 0, close,
has none), so the trailing window is periods max(t-3, 1) .. t.
"""
from __future__ import annotations

import copy

import numpy as np
import pytest

import waterfall
from waterfall import engine, reference
from waterfall.compile import compile_deal, compile_scenarios
from waterfall.load import deal_from_data
from waterfall.model import Scenario
from waterfall.ops import G
from waterfall.workout import CAUSE

from .invariants import assert_all

BASE = {
    "deal": {"name": "covenant-bases", "kind": "example",
             "assumptions": ["Every figure is illustrative: a hand-worked test deal."]},
    "timeline": {"financial_close": "2026-01-15", "period": "quarter", "construction_periods": 0,
                 "operating_periods": 12, "calendar": "none", "roll": "unadjusted"},
    "assets": [{"name": "campus", "spend": "at_close",
                "shell": {"cost": 1000.0, "curve": {"kind": "constant", "level": 1.0}}}],
    "leases": [{"tenant": "Tenant", "annual_rent": 80.0, "term_months": 120, "escalation": 0.0}],
    "tranches": [{"name": "senior", "amount": 400.0, "rate": {"kind": "fixed", "annual": 0.08},
                  "day_count": "30/360", "amortisation": {"kind": "bullet"}, "maturity_period": 12,
                  "capitalise_interest": "never"}],
    "accounts": [{"name": "lockup", "kind": "lockup"}],
    "waterfall": [{"step": "interest", "tranche": "senior"}, {"step": "principal", "tranche": "senior"},
                  {"step": "distribute", "account": "lockup"}],
    "exit": {"value_share": 1.0, "cost_share": 0.0},
    "equity": {"sponsors": {"Sponsor": 1.0}},
}


def _deal(**covenants):
    raw = copy.deepcopy(BASE)
    raw["covenants"] = covenants
    return deal_from_data(raw, "<covenant-bases>")


def _rent(multiplier, first, last):
    return Scenario(name=f"rent x{multiplier} {first}-{last}",
                    adjustments=[{"kind": "rent_multiplier", "from_period": first, "to_period": last,
                                  "multiplier": multiplier}])


def _runs(deal, scenario):
    """(reference ledger, kernel ledger, reference metrics) of one scenario; the two agree to 1e-9."""
    program = compile_deal(deal)
    batch = compile_scenarios([scenario], program)
    led_r, met_r, _ = reference.run_batch(program, batch)
    if engine.kernel_available():
        led_c, met_c, _ = engine.run_program(program, batch, ledgers=True, threads=1)
        np.testing.assert_allclose(led_c, led_r, rtol=1e-9, atol=1e-9, equal_nan=True)
        np.testing.assert_allclose(met_c, met_r, rtol=1e-9, atol=1e-9, equal_nan=True)
    assert_all(program, led_r[0])
    return program, led_r[0], met_r[0]


def _locked(ledger):
    return [t for t in range(ledger.shape[0]) if ledger[t, G["lock_up"]] == 1.0]


def test_trailing_lock_up_holds_after_the_dip_the_point_test_has_forgotten():
    """Rent x 0.5 in periods 2-4: CFADS 10.0 there, 20.0 elsewhere. Lock-up at 2.0x.
    Point: 10/8 = 1.25 in 2-4 (locked), 2.5 elsewhere.
    Trailing (periods max(t-3,1)..t): t=1 20/8 = 2.5; t=2 (20+10)/16 = 1.875; t=3 40/24 = 1.667;
    t=4 50/32 = 1.5625; t=5 (10+10+10+20)/32 = 1.5625 and t=6 (10+10+20+20)/32 = 1.875, both
    locked while the point DSCR is back at 2.5; t=7 70/32 = 2.1875, free again."""
    scen = _rent(0.5, 2, 4)
    _, point, _ = _runs(_deal(lock_up_dscr=2.0), scen)
    assert _locked(point) == [2, 3, 4]
    assert np.isnan(point[:, G["dscr_historic"]]).all()   # no covenant tests it
    _, trail, _ = _runs(_deal(lock_up_dscr=2.0, lock_up_basis="trailing_12m"), scen)
    assert _locked(trail) == [2, 3, 4, 5, 6]
    hist = trail[:, G["dscr_historic"]]
    assert np.isnan(hist[0])   # close: no debt service, no test
    want = {1: 2.5, 2: 30 / 16, 3: 40 / 24, 4: 50 / 32, 5: 50 / 32, 6: 60 / 32, 7: 70 / 32, 8: 2.5, 12: 2.5}
    for t, ratio in want.items():
        assert hist[t] == pytest.approx(ratio, rel=1e-12), t
    assert trail[5, G["dscr"]] == pytest.approx(2.5)   # the point DSCR passes where the trailing one fails
    # cash trapped in 2-4 (10 - 8 = 2 each) and 5-6 (20 - 8 = 12 each) is released into
    # period 7 and distributed with its own 12: 3 x 2 + 2 x 12 + 12 = 42
    assert trail[7, G["equity_distribution"]] == pytest.approx(42.0, rel=1e-12)
    assert trail[2:7, G["equity_distribution"]].sum() == 0.0


def test_one_bad_quarter_breaks_the_point_test_but_not_the_trailing_one():
    """Rent x 0.75 in period 6 only: CFADS 15.0, point DSCR 15/8 = 1.875 < 2.0 (locked);
    trailing at 6: (20+20+20+15)/32 = 75/32 = 2.34375, and at 7-9 the same 75/32: never locked."""
    scen = _rent(0.75, 6, 6)
    _, point, _ = _runs(_deal(lock_up_dscr=2.0), scen)
    assert _locked(point) == [6]
    _, trail, _ = _runs(_deal(lock_up_dscr=2.0, lock_up_basis="trailing_12m"), scen)
    assert _locked(trail) == []
    assert trail[6, G["dscr_historic"]] == pytest.approx(75 / 32, rel=1e-12)
    assert trail[9, G["dscr_historic"]] == pytest.approx(75 / 32, rel=1e-12)
    assert trail[10, G["dscr_historic"]] == pytest.approx(2.5, rel=1e-12)


def test_forward_lock_up_sees_the_dip_coming_and_lifts_before_it_ends():
    """Rent x 0.5 in periods 2-4. Forward window t+1..t+4 (at most period 12):
    t=0 is not tested (no debt service at close); t=1 (10+10+10+20)/32 = 1.5625 locked while
    the point DSCR is 2.5; t=2 (10+10+20+20)/32 = 1.875 locked; t=3 70/32 = 2.1875 and t=4
    80/32 = 2.5 free while the point DSCR there is 1.25. t=9: periods 10-12, 60/24 = 2.5;
    t=11: period 12 only, 20/8; t=12: nothing after the horizon, no test."""
    scen = _rent(0.5, 2, 4)
    _, fwd, _ = _runs(_deal(lock_up_dscr=2.0, lock_up_basis="forward_12m"), scen)
    assert _locked(fwd) == [1, 2]
    proj = fwd[:, G["dscr_projected"]]
    want = {1: 50 / 32, 2: 60 / 32, 3: 70 / 32, 4: 2.5, 9: 2.5, 11: 2.5}
    for t, ratio in want.items():
        assert proj[t] == pytest.approx(ratio, rel=1e-12), t
    assert np.isnan(proj[0]) and np.isnan(proj[12])
    assert fwd[4, G["dscr"]] == pytest.approx(1.25)


def test_default_test_accelerates_on_its_own_basis():
    """Rent x 0.4 from period 6 on (CFADS 8.0), default DSCR 1.2x, accelerating at once
    (no cure periods). Point: 8/8 = 1.0 < 1.2 first at 6. Forward: t=5 sees periods 6-9,
    (8+8+8+8)/32 = 1.0: accelerates at 5, a period before the point test (t=4: (20+8x3)/32 =
    1.375 passes). Trailing: t=6 (20+20+20+8)/32 = 2.125, t=7 56/32 = 1.75, t=8 44/32 = 1.375,
    t=9 32/32 = 1.0: accelerates at 9."""
    scen = _rent(0.4, 6, 12)
    periods = {}
    for basis in ("point", "forward_12m", "trailing_12m"):
        _, ledger, metrics = _runs(_deal(default_dscr=1.2, dscr_breach="accelerate", default_basis=basis), scen)
        periods[basis] = int(metrics[waterfall.ops.M["acceleration_period"]])
        assert metrics[waterfall.ops.M["default_cause"]] == CAUSE["covenant"]
    assert periods == {"forward_12m": 5, "point": 6, "trailing_12m": 9}


def test_equity_cure_of_a_trailing_test_counts_in_later_windows():
    """Rent x 0.5 in periods 2-5 (CFADS 10.0), default DSCR 1.6x trailing, lock-up only,
    up to 3 cures. t=2 30/16 = 1.875, t=3 40/24 = 1.667 pass; t=4 50/32 = 1.5625 < 1.6: the
    cure is 1.6 x 32 - 50 = 1.2, deemed CFADS of period 4 (11.2); t=5 (10+10+11.2+10)/32 =
    1.2875: cure 51.2 - 41.2 = 10.0 (period 5: 20.0); t=6 (10+11.2+20+20)/32 = 1.9125 passes.
    The point DSCR line reads (10 + 1.2)/8 = 1.4 at 4 and (10 + 10)/8 = 2.5 at 5."""
    scen = _rent(0.5, 2, 5)
    deal = _deal(default_dscr=1.6, default_basis="trailing_12m", equity_cure={"max_cures": 3})
    _, ledger, _ = _runs(deal, scen)
    cures = ledger[:, G["equity_cure"]]
    assert [t for t in range(13) if cures[t] > 0] == [4, 5]
    assert cures[4] == pytest.approx(1.2, rel=1e-12) and cures[5] == pytest.approx(10.0, rel=1e-12)
    hist = ledger[:, G["dscr_historic"]]
    assert hist[4] == pytest.approx(1.6, rel=1e-12) and hist[5] == pytest.approx(1.6, rel=1e-12)
    assert hist[6] == pytest.approx(61.2 / 32, rel=1e-12)
    assert ledger[4, G["dscr"]] == pytest.approx(1.4, rel=1e-12)
    assert ledger[5, G["dscr"]] == pytest.approx(2.5, rel=1e-12)
    assert ledger[:, G["covenant_breach"]].sum() == 0.0


def test_trailing_window_on_monthly_and_half_year_periods():
    """The window is 12 months whatever the period length: 12 months, 2 half-years. Rent x 0.5
    in period 2 only, lock-up 2.0x trailing. Half-yearly (interest 16.0, CFADS 40.0 a period):
    t=2 (40+20)/32 = 1.875 locked; t=3 (20+40)/32 = 1.875 locked; t=4 80/32 = 2.5 free.
    Monthly (interest 8/3, CFADS 20/3): the dip of 10/3 stays in the window for 12 months,
    periods 2-13: at t=13 (11 x 20/3 + 10/3)/(12 x 8/3) = 230/96 = 2.396 free; at t=2
    (20/3 + 10/3)/(16/3) = 1.875 locked, t=3 (50/3)/8 = 2.083 free."""
    for period, months, want_locked, checks in (
            ("half-year", 6, [2, 3], {2: 60 / 32, 3: 60 / 32, 4: 2.5}),
            ("month", 1, [2], {2: 30 / 16, 3: (50 / 3) / 8, 13: 230 / 96, 14: 2.5})):
        raw = copy.deepcopy(BASE)
        raw["timeline"].update(period=period, operating_periods=24 if months == 1 else 12)
        raw["tranches"][0]["maturity_period"] = raw["timeline"]["operating_periods"]
        raw["covenants"] = {"lock_up_dscr": 2.0, "lock_up_basis": "trailing_12m"}
        deal = deal_from_data(raw, "<covenant-bases>")
        program, ledger, _ = _runs(deal, _rent(0.5, 2, 2))
        assert program.dscr_window == 12 // months
        assert _locked(ledger) == want_locked, period
        for t, ratio in checks.items():
            assert ledger[t, G["dscr_historic"]] == pytest.approx(ratio, rel=1e-12), (period, t)


def test_point_basis_leaves_existing_results_unchanged():
    """The default basis is the point test: a deal that does not say so runs exactly as one
    that says `point` for both tests (and the built-in deals keep their numbers: parity and
    the tie-out tests)."""
    scen = _rent(0.5, 2, 4)
    _, a, _ = _runs(_deal(lock_up_dscr=2.0, default_dscr=1.3), scen)
    _, b, _ = _runs(_deal(lock_up_dscr=2.0, default_dscr=1.3, lock_up_basis="point", default_basis="point"), scen)
    assert np.array_equal(np.nan_to_num(a, nan=-1.0), np.nan_to_num(b, nan=-1.0))


# --------------------------------------------------------------------------- the workbook

WORKBOOK_CASES = {
    "trailing-lock-up": (dict(lock_up_dscr=2.0, lock_up_basis="trailing_12m"), (0.5, 2, 4)),
    "forward-lock-up": (dict(lock_up_dscr=2.0, lock_up_basis="forward_12m"), (0.5, 2, 4)),
    "forward-default": (dict(default_dscr=1.2, dscr_breach="accelerate", default_basis="forward_12m"),
                        (0.4, 6, 12)),
    "trailing-cure": (dict(default_dscr=1.6, default_basis="trailing_12m", equity_cure={"max_cures": 3},
                           lock_up_dscr=1.8, lock_up_basis="forward_12m"), (0.5, 2, 5)),
}


def _case_result(name, engine_name="auto"):
    """The case's deal, with its scenario as the deal's own (the workbook names it), and its run."""
    covenants, (mult, first, last) = WORKBOOK_CASES[name]
    raw = copy.deepcopy(BASE)
    raw["covenants"] = covenants
    raw["scenarios"] = [_rent(mult, first, last).model_dump(exclude_defaults=True)]
    deal = deal_from_data(raw, "<covenant-bases>")
    return deal, waterfall.run(deal, deal.scenarios[0].name, engine=engine_name)


@pytest.mark.parametrize("name", list(WORKBOOK_CASES))
def test_formula_model_restates_each_basis(name):
    """The live-formula model's values (the workbook's cached values) equal the engine's
    ledger on every line, the new DSCR lines included."""
    from waterfall.output.formulas import check_against
    from .test_excel import _model
    for engine_name in ("reference", "compiled") if engine.kernel_available() else ("reference",):
        deal, result = _case_result(name, engine_name)
        model = _model(deal, result)
        assert check_against(model, result.ledger) == [], name
        line = "L:dscr_historic" if "trailing" in name else "L:dscr_projected"
        assert any(isinstance(v, float) for v in model.cf.values(line))


def test_libreoffice_recalculates_each_basis(tmp_path):
    """LibreOffice recalculates each case's --formulas workbook to the engine (relative
    1e-9): every formula cell and every ledger line."""
    import openpyxl

    from waterfall.output.excel import write_workbook
    from waterfall.output.formulas import CF_SHEET
    from waterfall.output.recalc import recalculate_many, soffice
    from .test_excel import _assert_ties_out, _compare_recalculated, _ledger_rows, _model
    if soffice() is None:
        pytest.skip("LibreOffice (soffice) is not installed")
    cases = {}
    for name in WORKBOOK_CASES:
        deal, result = _case_result(name)
        cases[name] = (write_workbook(result, tmp_path / f"{name}.xlsx", formulas=True, deal=deal), deal, result)
    outs = recalculate_many([src for src, _d, _r in cases.values()], tmp_path / "lo")
    for (name, (src, deal, result)), out in zip(cases.items(), outs):
        count, bad = _compare_recalculated(src, out)
        assert count > 0 and not bad, (name, bad[:5])
        lo = openpyxl.load_workbook(out, data_only=True)
        _assert_ties_out(_ledger_rows(lo[CF_SHEET], _model(deal, result), result), name)


# --------------------------------------------------------------------------- built-in deals

@pytest.mark.parametrize("name", ["abilene", "vantage_frontier", "project_jupiter"])
def test_builtin_deals_with_window_covenants_agree_everywhere(name):
    """A built-in deal (refinancing at maturity, swaps, a DSRA) with its lock-up on the
    forward DSCR, its default test on the trailing DSCR and a 75% hedge-ratio covenant: the
    kernel agrees with the reference to 1e-9 and the formula model restates every ledger
    line, in the base case and under stress (a closed refinancing market, rates that stay
    high). The forward window reads the terms a refinancing leaves."""
    from waterfall.load import builtin_deals
    from waterfall.model.deal import HedgeRatio
    from waterfall.output.formulas import build_model, check_against
    from waterfall.scenarios import prepare
    from .test_parity import check_parity
    deal = waterfall.load_deal(next(p for p in builtin_deals() if p.stem == name))
    covenants = deal.covenants.model_copy(update={
        "lock_up_basis": "forward_12m", "default_basis": "trailing_12m",
        "hedge_ratio": HedgeRatio(minimum=0.75, from_period=deal.timeline.construction_periods + 1)})
    deal = deal.model_copy(update={"covenants": covenants})
    for scenario in ("base", "refi-closed", "rates-stay-high"):
        if scenario == "refi-closed" and not any(s.name == scenario for s in deal.scenarios):
            continue
        result = waterfall.run(deal, scenario)
        program = result.program
        _, lowered = prepare(deal, result.source_scenario)
        batch = compile_scenarios([lowered], program)
        check_parity(program, batch, threads=1)
        assert np.isfinite(result.ledger[:, G["dscr_projected"]]).any()
        assert np.isfinite(result.ledger[:, G["dscr_historic"]]).any()
        assert check_against(build_model(program, batch), result.ledger) == [], (name, scenario)
