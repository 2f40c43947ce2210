"""Taxes (docs/taxes.md), worked by hand: depreciation tables, interest deductibility,
the loss carried forward with its 80% limit or used at once, property tax, the gain on
an exit sale, no owner tax once the lenders accelerate, off unless the deal asks; the
reference, the kernel and the live-formula workbook (recalculated by LibreOffice) agree.

The hand deal: annual periods from 2026-01-15, 5 operating years; an IT component of
100 at close; rent 30 a year, opex 5 (CFADS 25); a 50 loan at 6% (30/360: exactly 6% a
year), straight line 10 a year, so interest is 3.0, 2.4, 1.8, 1.2, 0.6 and equity (50 in
at close) receives 25 - 10 - interest = 12.0, 12.6, 13.2, 13.8, 14.4.
"""
from __future__ import annotations

import copy
import datetime as dt
import math

import numpy as np
import numpy_financial as npf
import openpyxl
import pytest

import waterfall
from waterfall import ops
from waterfall.load import deal_from_data
from waterfall.model.tax import Depreciation

from .invariants import assert_all

HAND = {
    "deal": {"name": "tax-hand", "units": "USD millions", "kind": "example",
             "assumptions": ["Figures set by the test (hand-worked), not market data."]},
    "timeline": {"financial_close": dt.date(2026, 1, 15), "period": "year", "operating_periods": 5},
    "assets": [{"name": "fleet", "spend": "at_close", "it": {"cost": 100.0}}],
    "leases": [{"tenant": "T", "annual_rent": 30.0, "term_months": 60}],
    "opex": [{"name": "costs", "annual_amount": 5.0}],
    "tranches": [{"name": "loan", "amount": 50.0, "rate": {"kind": "fixed", "annual": 0.06},
                  "day_count": "30/360", "amortisation": {"kind": "straight_line", "periods": 5},
                  "maturity_period": 5, "capitalise_interest": "never"}],
    "waterfall": [{"step": "interest", "tranche": "loan"}, {"step": "principal", "tranche": "loan"},
                  {"step": "distribute"}],
    "tax": {"rate": 0.25, "nol_limit": 0.8, "depreciation": {"it": {"method": "macrs_5"}}},
}
PRE_TAX = [-50.0, 12.0, 12.6, 13.2, 13.8, 14.4]


def _run(data, engine="reference", scenario=None):
    return waterfall.run(deal_from_data(copy.deepcopy(data), "<tax-hand>"), scenario, engine=engine)


def _line(result, name):
    return np.asarray(result.ledger)[:, ops.G[name]]


def _with(**tax):
    data = copy.deepcopy(HAND)
    data["tax"] = {**data["tax"], **tax}
    return data


@pytest.mark.parametrize("engine", ["reference", "compiled"])
def test_carry_forward_by_hand(engine):
    # MACRS 5 (IRS Pub. 946 table A-1): 20, 32, 19.2, 11.52, 11.52 (5.76 would fall in year 6)
    # taxable = 25 - interest - depreciation: 2.0, -9.4, 4.0, 12.28, 12.88
    # y1: tax 0.25 x 2.0 = 0.5
    # y2: a loss of 9.4 carried forward, no tax
    # y3: the loss may offset 80% of 4.0 = 3.2: NOL 6.2 left, tax 0.25 x 0.8 = 0.2
    # y4: 80% of 12.28 = 9.824 > 6.2: all of it used, tax 0.25 x 6.08 = 1.52
    # y5: tax 0.25 x 12.88 = 3.22
    r = _run(HAND, engine)
    np.testing.assert_allclose(_line(r, "depreciation"), [0, 20, 32, 19.2, 11.52, 11.52], atol=1e-12)
    np.testing.assert_allclose(_line(r, "taxable_income"), [0, 2.0, -9.4, 4.0, 12.28, 12.88], atol=1e-12)
    np.testing.assert_allclose(_line(r, "tax_loss_carried"), [0, 0, 9.4, 6.2, 0, 0], atol=1e-12)
    tax = [0, 0.5, 0, 0.2, 1.52, 3.22]
    np.testing.assert_allclose(_line(r, "income_tax"), tax, atol=1e-12)
    after = np.array(PRE_TAX) - tax
    np.testing.assert_allclose(_line(r, "equity_after_tax"), after, atol=1e-12)
    m = r.metrics
    assert m["income_tax_paid"] == pytest.approx(5.44, abs=1e-12)
    assert m["equity_irr_after_tax"] == pytest.approx(npf.irr(after), rel=1e-12)
    assert m["equity_irr"] == pytest.approx(npf.irr(PRE_TAX), rel=1e-12)   # the pre-tax one is untouched
    assert_all(r.program, r.ledger)


@pytest.mark.parametrize("engine", ["reference", "compiled"])
def test_losses_offset_at_once(engine):
    # losses = "offset": the owner uses the year-2 loss against other income: -0.25 x 9.4 = -2.35
    r = _run(_with(losses="offset"), engine)
    tax = [0, 0.5, -2.35, 1.0, 3.07, 3.22]
    np.testing.assert_allclose(_line(r, "income_tax"), tax, atol=1e-12)
    np.testing.assert_allclose(_line(r, "tax_loss_carried"), 0.0, atol=0)
    assert r.metrics["equity_irr_after_tax"] == pytest.approx(npf.irr(np.array(PRE_TAX) - tax), rel=1e-12)


def test_interest_not_deductible_and_full_carry():
    # no interest deduction: taxable 25 - depreciation = 5, -7, 5.8, 13.48, 13.48;
    # nol_limit 1: y3 uses 5.8 of the 7 (1.2 left, no tax); y4 uses 1.2: tax 0.25 x 12.28 = 3.07
    r = _run(_with(interest_deductible=False, nol_limit=1.0))
    np.testing.assert_allclose(_line(r, "taxable_income"), [0, 5, -7, 5.8, 13.48, 13.48], atol=1e-12)
    np.testing.assert_allclose(_line(r, "income_tax"), [0, 1.25, 0, 0, 3.07, 3.37], atol=1e-12)


def test_property_tax_is_an_operating_cost():
    # 1% of 100% of the cost (100), assessed value declining 10% of it a year: 1.0, 0.9, 0.8, 0.7, 0.6
    # in opex, so CFADS (and DSCR, and what equity receives) fall by it; taxable income too
    data = _with()
    data["tax"]["property_tax"] = {"rate": 0.01, "annual_decline": 0.10}
    r = _run(data)
    pt = np.array([0, 1.0, 0.9, 0.8, 0.7, 0.6])
    np.testing.assert_allclose(_line(r, "opex"), np.r_[0, [5.0] * 5] + pt, atol=1e-12)
    np.testing.assert_allclose(_line(r, "dscr")[1:], (25 - pt[1:]) / (10 + np.array([3.0, 2.4, 1.8, 1.2, 0.6])),
                               rtol=1e-12)
    np.testing.assert_allclose(_line(r, "taxable_income"), np.array([0, 2.0, -9.4, 4.0, 12.28, 12.88]) - pt,
                               atol=1e-12)


def test_exit_gain_over_the_undepreciated_basis():
    # an exit at year 5 for 50% of the (constant) value 100, no costs: proceeds 50; the basis
    # left is 100 - 94.24 = 5.76, so the gain is 44.24: taxable 12.88 + 44.24 = 57.12, tax 14.28
    data = _with()
    data["assets"][0]["it"]["curve"] = {"kind": "constant", "level": 1.0}
    data["exit"] = {"value_share": 0.5, "cost_share": 0.0}
    r = _run(data)
    assert _line(r, "exit_proceeds")[5] == pytest.approx(50.0, abs=1e-12)
    assert _line(r, "taxable_income")[5] == pytest.approx(57.12, abs=1e-12)
    assert _line(r, "income_tax")[5] == pytest.approx(14.28, abs=1e-12)


def test_depreciation_tables():
    # straight line 4 years, half-year convention: 12.5%, 25%, 25%, 25%, 12.5%
    assert Depreciation(method="straight_line", years=4).shares() == pytest.approx([0.125, 0.25, 0.25, 0.25, 0.125])
    # MACRS 7 with 60% bonus: 60% + 40% x 14.29% in year 1, then 40% x 24.49%, ...
    shares = Depreciation(method="macrs_7", bonus=0.6).shares()
    assert shares[0] == pytest.approx(0.6 + 0.4 * 0.1429) and shares[1] == pytest.approx(0.4 * 0.2449)
    # 39-year property: straight line over 39 years, half a year first and last (40 entries)
    sl39 = Depreciation(method="macrs_39").shares()
    assert len(sl39) == 40 and sl39[0] == pytest.approx(0.5 / 39) and sl39[1] == pytest.approx(1 / 39)
    for method in ("macrs_5", "macrs_7", "macrs_15", "macrs_39"):
        assert sum(Depreciation(method=method).shares()) == pytest.approx(1.0, abs=1e-4)


def test_quarterly_periods_spread_each_tax_year():
    # quarterly: MACRS 5's 20 of year 1 is 5 a quarter in quarters 1-4, 32 is 8 a quarter in 5-8
    data = _with()
    data["timeline"] = {**data["timeline"], "period": "quarter", "operating_periods": 20}
    data["leases"][0]["term_months"] = 60
    data["tranches"][0]["amortisation"]["periods"] = 20
    data["tranches"][0]["maturity_period"] = 20
    r = _run(data)
    np.testing.assert_allclose(_line(r, "depreciation")[:9], [0, 5, 5, 5, 5, 8, 8, 8, 8], atol=1e-12)


def test_no_owner_tax_from_the_acceleration_on():
    # rent stops from year 3 (a tenant default): the lenders accelerate in year 3; taxes are
    # computed for years 0-2 only (the owner's tax after a foreclosure is not modelled)
    data = _with()
    data["scenarios"] = [{"name": "dark", "adjustments": [{"kind": "rent_multiplier", "multiplier": 0.0,
                                                           "from_period": 3}]}]
    r = _run(data, scenario="dark")
    accel = r.metrics["acceleration_period"]
    assert accel == 3
    np.testing.assert_allclose(_line(r, "income_tax")[:3], [0, 0.5, 0], atol=1e-12)
    assert not _line(r, "income_tax")[accel:].any() and not _line(r, "depreciation")[accel:].any()


def test_taxes_are_off_unless_the_deal_asks():
    data = copy.deepcopy(HAND)
    del data["tax"]
    r = _run(data)
    assert r.metrics["income_tax_paid"] is None and r.metrics["equity_irr_after_tax"] is None
    for line in ("depreciation", "taxable_income", "tax_loss_carried", "income_tax", "equity_after_tax"):
        assert not _line(r, line).any()


def test_libreoffice_recalculates_the_taxes(tmp_path):
    """The live-formula workbook of a taxed deal (carry-forward, and losses offset), with an
    exit gain: LibreOffice recalculates every formula cell to the engine's value, and the
    Summary's income tax paid and after-tax IRR to the engine's metrics."""
    from waterfall.output.excel import write_workbook
    from waterfall.output.recalc import recalculate_many, soffice

    from .test_excel import _compare_recalculated

    if soffice() is None:
        pytest.skip("LibreOffice (soffice) is not installed")
    runs = []
    for losses in ("carry_forward", "offset"):
        data = _with(losses=losses)
        data["assets"][0]["it"]["curve"] = {"kind": "constant", "level": 1.0}
        data["exit"] = {"value_share": 0.5, "cost_share": 0.0}
        data["tax"]["property_tax"] = {"rate": 0.01, "annual_decline": 0.10}
        deal = deal_from_data(data, "<tax-hand>")
        result = waterfall.run(deal)
        runs.append((write_workbook(result, tmp_path / f"tax-{losses}.xlsx", formulas=True, deal=deal), result))
    outs = recalculate_many([src for src, _r in runs], tmp_path / "lo")
    for (src, result), out in zip(runs, outs):
        count, bad = _compare_recalculated(src, out)
        assert count > 0 and not bad, bad[:10]
        summary = {row[0]: row[1] for row in openpyxl.load_workbook(out, data_only=True)["Summary"]
                   .iter_rows(values_only=True) if row[0]}
        assert math.isclose(summary["Income tax paid (owner level)"], result.metrics["income_tax_paid"],
                            rel_tol=1e-12)
        assert math.isclose(summary["Equity IRR after tax (annualised)"], result.metrics["equity_irr_after_tax"],
                            rel_tol=1e-9)


def test_state_tax_deductible_from_the_federal_base():
    # state 5%, federal 21% on what is left after state tax: 0.05 + 0.21 x 0.95 = 0.2495 of
    # taxable income; y1 (taxable 2.0): 0.1 state + 0.21 x 1.9 = 0.399 federal = 0.499
    r = _run(_with(rate=0.21, state_rate=0.05, losses="offset"))
    assert _line(r, "income_tax")[1] == pytest.approx(0.499, abs=1e-12)
    assert r.program.tax_rate == pytest.approx(0.2495, abs=1e-15)
