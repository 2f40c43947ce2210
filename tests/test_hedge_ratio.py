"""The hedge-ratio covenant (hedges.hedge_ratio; docs/credit.md, "Hedge-ratio covenant"),
worked by hand, in the reference, the kernel and the live-formula workbook.

The deal: quarterly, 10 periods, a floating senior loan of 400 (base rate 4% flat + 2%,
30/360) amortising straight-line over 8 quarters (50.0 a quarter, repaid at period 8), so
its opening balance is 400, 350, 300, 250, 200, 150, 100, 50 in periods 1-8 and 0 after.
A pay-fixed swap at 4% (so every settlement is zero: no cash effect) has a notional that
amortises faster: 400, 320, 240, 160, 80, then 0 from period 6. The hedge ratio (notional
over the opening balance) is then 400/400 = 1.0, 320/350 = 0.914, 240/300 = 0.8,
160/250 = 0.64, 80/200 = 0.4, then 0/150, 0/100, 0/50; no test in 9-10 (no debt).
"""
from __future__ import annotations

import copy

import numpy as np
import pytest

import waterfall
from waterfall import engine, reference
from waterfall.compile import compile_deal, compile_scenarios
from waterfall.load import deal_from_data
from waterfall.ops import G, M
from waterfall.workout import CAUSE

from .invariants import assert_all

BASE = {
    "deal": {"name": "hedge-ratio", "kind": "example",
             "assumptions": ["Every figure is illustrative: a hand-worked test deal."]},
    "timeline": {"financial_close": "2026-01-15", "period": "quarter", "construction_periods": 0,
                 "operating_periods": 10, "calendar": "none", "roll": "unadjusted"},
    "assets": [{"name": "campus", "spend": "at_close",
                "shell": {"cost": 1000.0, "curve": {"kind": "constant", "level": 1.0}}}],
    "leases": [{"tenant": "Tenant", "annual_rent": 320.0, "term_months": 120, "escalation": 0.0}],
    "base_rate": {"name": "Term SOFR", "points": [[0, 0.04]]},
    "tranches": [{"name": "senior", "amount": 400.0, "rate": {"kind": "floating", "spread": 0.02},
                  "day_count": "30/360", "amortisation": {"kind": "straight_line", "periods": 8},
                  "maturity_period": 8, "capitalise_interest": "never"}],
    "hedges": [{"name": "swap", "kind": "swap", "tranche": "senior", "index": "SOFR", "fixed_rate": 0.04,
                "day_count": "30/360",
                "notional": [[1, 400.0], [2, 320.0], [3, 240.0], [4, 160.0], [5, 80.0], [6, 0.0]]}],
    "accounts": [{"name": "lockup", "kind": "lockup"}],
    "waterfall": [{"step": "hedge", "hedge": "swap"}, {"step": "interest", "tranche": "senior"},
                  {"step": "principal", "tranche": "senior"}, {"step": "distribute", "account": "lockup"}],
    "equity": {"sponsors": {"Sponsor": 1.0}},
}

RATIO = {1: 1.0, 2: 320 / 350, 3: 0.8, 4: 0.64, 5: 0.4, 6: 0.0, 7: 0.0, 8: 0.0}


def _deal(hedge_ratio, **changes):
    raw = copy.deepcopy(BASE)
    raw["covenants"] = {"hedge_ratio": hedge_ratio}
    for key, value in changes.items():
        raw[key] = value
    return deal_from_data(raw, "<hedge-ratio>")


def _run(deal):
    """(reference ledger, reference metrics); the kernel agrees to 1e-9."""
    program = compile_deal(deal)
    batch = compile_scenarios([deal.scenario("base")], program)
    led_r, met_r, _ = reference.run_batch(program, batch)
    if engine.kernel_available():
        led_c, met_c, _ = engine.run_program(program, batch, ledgers=True, threads=1)
        np.testing.assert_allclose(led_c, led_r, rtol=1e-9, atol=1e-9, equal_nan=True)
        np.testing.assert_allclose(met_c, met_r, rtol=1e-9, atol=1e-9, equal_nan=True)
    assert_all(program, led_r[0])
    return led_r[0], met_r[0]


def test_ratio_falls_below_the_minimum_as_the_swap_amortises_faster_than_the_loan():
    """Minimum 75% from period 1, lock-up on a breach: the ratio passes in 1-3 (1.0, 0.914,
    0.8), fails from 4 (0.64) while the loan is outstanding (4-8): cash is locked up there,
    then released at 9 when no debt is left to test."""
    ledger, metrics = _run(_deal({"minimum": 0.75}))
    ratio = ledger[:, G["hedge_ratio"]]
    for t, want in RATIO.items():
        assert ratio[t] == pytest.approx(want, rel=1e-12, abs=1e-15), t
    assert np.isnan(ratio[0]) and np.isnan(ratio[9]) and np.isnan(ratio[10])
    breached = [t for t in range(11) if ledger[t, G["hedge_ratio_breach"]] == 1.0]
    assert breached == [4, 5, 6, 7, 8]
    assert [t for t in range(11) if ledger[t, G["lock_up"]] == 1.0] == breached
    # nothing distributed while locked; each period's surplus is trapped and paid out at 9
    assert ledger[4:9, G["equity_distribution"]].sum() == 0.0
    assert np.isnan(metrics[M["default_period"]]) or metrics[M["default_period"]] < 0


def test_a_breach_that_accelerates_is_a_covenant_event_of_default():
    """The same covenant with breach = "accelerate": the lenders accelerate at period 4."""
    _, metrics = _run(_deal({"minimum": 0.75, "breach": "accelerate"}))
    assert metrics[M["acceleration_period"]] == 4
    assert metrics[M["default_cause"]] == CAUSE["covenant"]


def test_covenant_periods_bound_the_test():
    """Tested from period 5 to 6 only: breaches at 5 (0.4) and 6 (0.0), not at 4 or 7."""
    ledger, _ = _run(_deal({"minimum": 0.75, "from_period": 5, "to_period": 6}))
    assert [t for t in range(11) if ledger[t, G["hedge_ratio_breach"]] == 1.0] == [5, 6]
    assert np.isnan(ledger[4, G["hedge_ratio"]]) and np.isnan(ledger[7, G["hedge_ratio"]])


def test_a_share_of_the_balance_at_the_minimum_is_no_breach():
    """A swap on 75% of the loan's base-case balance against a 75% minimum: the ratio is
    0.75 to rounding (0.75 x b / b), within the covenant in every period."""
    hedges = copy.deepcopy(BASE["hedges"])
    del hedges[0]["notional"]
    hedges[0]["notional_share"] = 0.75
    ledger, _ = _run(_deal({"minimum": 0.75}, hedges=hedges))
    ratio = ledger[1:9, G["hedge_ratio"]]
    assert np.allclose(ratio, 0.75, rtol=1e-12)
    assert ledger[:, G["hedge_ratio_breach"]].sum() == 0.0 and ledger[:, G["lock_up"]].sum() == 0.0


def test_a_hedge_ratio_covenant_needs_floating_covenant_debt():
    raw = copy.deepcopy(BASE)
    raw["tranches"][0]["rate"] = {"kind": "fixed", "annual": 0.06}
    raw["hedges"], raw["waterfall"] = [], raw["waterfall"][1:]
    raw["covenants"] = {"hedge_ratio": {"minimum": 0.75}}
    with pytest.raises(waterfall.errors.DealError) as err:
        deal_from_data(raw, "<hedge-ratio>")
    assert "covenants.hedge_ratio" in str(err.value) and "floating-rate covenant tranche" in str(err.value)


# --------------------------------------------------------------------------- the workbook

CASES = {"lock-up": {"minimum": 0.75}, "accelerate": {"minimum": 0.75, "breach": "accelerate"},
         "periods": {"minimum": 0.75, "from_period": 5, "to_period": 6}}


def _named(name):
    raw = copy.deepcopy(BASE)
    raw["covenants"] = {"hedge_ratio": CASES[name]}
    return deal_from_data(raw, "<hedge-ratio>")


@pytest.mark.parametrize("name", list(CASES))
def test_formula_model_restates_the_hedge_ratio(name):
    from waterfall.output.formulas import check_against
    from .test_excel import _model
    for engine_name in ("reference", "compiled") if engine.kernel_available() else ("reference",):
        deal = _named(name)
        result = waterfall.run(deal, engine=engine_name)
        assert check_against(_model(deal, result), result.ledger) == [], name


def test_libreoffice_recalculates_the_hedge_ratio(tmp_path):
    """LibreOffice recalculates each case's --formulas workbook to the engine (relative 1e-9)."""
    import openpyxl

    from waterfall.output.excel import write_workbook
    from waterfall.output.formulas import CF_SHEET
    from waterfall.output.recalc import recalculate_many, soffice
    from .test_excel import _assert_ties_out, _compare_recalculated, _ledger_rows, _model
    if soffice() is None:
        pytest.skip("LibreOffice (soffice) is not installed")
    cases = {}
    for name in CASES:
        deal = _named(name)
        result = waterfall.run(deal)
        cases[name] = (write_workbook(result, tmp_path / f"{name}.xlsx", formulas=True, deal=deal), deal, result)
    outs = recalculate_many([src for src, _d, _r in cases.values()], tmp_path / "lo")
    for (name, (src, deal, result)), out in zip(cases.items(), outs):
        count, bad = _compare_recalculated(src, out)
        assert count > 0 and not bad, (name, bad[:5])
        lo = openpyxl.load_workbook(out, data_only=True)
        _assert_ties_out(_ledger_rows(lo[CF_SHEET], _model(deal, result), result), name)


def test_the_report_states_the_covenant_terms():
    """The report's key terms show the hedge-ratio covenant and a DSCR test's basis."""
    from waterfall.report.terms import key_terms
    raw = copy.deepcopy(BASE)
    raw["covenants"] = {"hedge_ratio": {"minimum": 0.75, "from_period": 2}, "lock_up_dscr": 1.2,
                        "lock_up_basis": "trailing_12m"}
    deal = deal_from_data(raw, "<hedge-ratio>")
    terms = {t.key: t for t in key_terms(deal, [400.0])}
    assert terms["term.covenants.hedge_ratio"].value == 0.75
    assert "from period 2" in terms["term.covenants.hedge_ratio"].text
    assert "trailing 12 months" in terms["term.covenants.lock_up_dscr"].text
