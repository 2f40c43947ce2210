"""Tranche pricing from lender cash flows: par at the coupon, DM/price round trips,
yield, WAL, spread duration, and the break-even spread over a Monte Carlo set."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import waterfall
from waterfall import pricing

from .xirr_check import assert_is_pyxirr

TIEOUT = Path(__file__).resolve().parent.parent / "deals" / "examples" / "tieout.toml"


@pytest.fixture(scope="module")
def deal():
    return waterfall.load_deal(TIEOUT)


def test_par_at_the_coupon(deal):
    table = pricing.analytics(deal).set_index("tranche")
    row = table.loc["senior"]
    assert abs(row["price"] - 100.0) < 1e-9          # 6% 30/360 quarterly, zero base curve
    assert abs(row["yield"] - 0.06) < 1e-10
    assert abs(row["wal_years"] - waterfall.run(deal).metrics["wal_years"]["senior"]) < 1e-12
    assert 0 < row["spread_duration"] < row["wal_years"]


def test_dm_price_round_trip_and_frame_flows(deal):
    result = waterfall.run(deal, "tenant-half-pay")
    flows = pricing.TrancheFlows.from_result(result, "senior")
    receipts, draws = pricing.flows_from_frame(result.cash_flows(), "senior")
    assert np.array_equal(receipts, flows.receipts) and np.array_equal(draws, flows.draws)
    for dm in (0.0, 0.05, 0.09):
        price = flows.price(dm)
        assert abs(flows.discount_margin(price) - dm) < 1e-9
    assert flows.price(0.05) > flows.price(0.09)
    # the yield at a price is the DM at that price when the base curve is zero
    price = flows.price(0.08)
    assert abs(flows.yield_(price) - 0.08) < 1e-9
    assert pricing.price(deal, "senior", 0.06, "tenant-half-pay") == pytest.approx(flows.price(0.06), abs=1e-12)


def test_floating_tranche_at_par_at_its_spread(deal):
    data = deal.model_dump()
    data["tranches"][0]["rate"] = {"kind": "floating", "spread": 0.025, "floor": None}
    data["base_rate"] = {"points": [(0, 0.04), (10, 0.03), (20, 0.045)]}
    floating = waterfall.Deal.model_validate(data)
    row = pricing.analytics(floating).iloc[0]
    assert abs(row["price"] - 100.0) < 1e-9 and abs(row["discount_margin"] - 0.025) < 1e-15
    assert abs(pricing.discount_margin(floating, "senior", 100.0) - 0.025) < 1e-9


def test_ledger_stack_flows(deal):
    program = waterfall.compile_deal(deal)
    batch = waterfall.compile_scenarios([deal.scenario(n) for n in ("base", "renegotiation")], program)
    ledgers, _, _ = waterfall.run_program(program, batch, ledgers=True)
    receipts, draws = pricing.lender_flows(ledgers, program, "senior")
    one = pricing.TrancheFlows.from_result(waterfall.run(deal, "renegotiation"), "senior")
    assert np.allclose(receipts[1], one.receipts, rtol=0, atol=1e-12)
    prices = pricing.price_flows(receipts, draws, pricing.discount_factors(program, 0, 0.06))
    assert abs(prices[0] - 100.0) < 1e-9 and prices[1] <= 100.0 + 1e-9


def test_breakeven_spread(deal):
    vary = {"scenario.tenant_default.period": "uniform:1:40",
            "scenario.tenant_default.relet_haircut": "uniform:0:1"}
    out = pricing.breakeven_spread(deal, "senior", vary, samples=400, seed=1, target=0.03)
    assert out["field"] == "annual"
    assert 0.03 < out["spread"] < 0.25
    assert abs(out["expected_price_at_spread"] - 100.0) < 1e-3
    with pytest.raises(ValueError):
        pricing.breakeven_spread(deal, "senior", {"tranches.senior.amount": "uniform:600:700"},
                                 samples=10, seed=1)


def test_date_based_yield_is_pyxirr_on_the_payment_dates(deal):
    # the senior (6% 30/360, quarterly) on the actual payment dates, solved by
    # pyxirr.xirr (ACT/365F); at par about (1 + 0.06/4)^4 - 1 = 6.136% a year, off by
    # the 30/360 vs actual-day count of the periods
    for scenario in ("base", "tenant-half-pay"):
        result = waterfall.run(deal, scenario)
        flows = pricing.TrancheFlows.from_result(result, "senior")
        price = flows.price(0.06)
        assert_is_pyxirr(flows.yield_act365(price), result.program.dates,
                         flows.receipts - price / 100.0 * flows.draws)
    row = pricing.analytics(deal).set_index("tranche").loc["senior"]
    assert abs(row["yield_act365"] - (1.015 ** 4 - 1)) < 2e-3
