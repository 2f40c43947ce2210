"""A refinancing-market closure is an episode on the calendar (issue 12.2): it closes the
market from one date to another, each deal maps it to its own periods, and it reopens.

Project Jupiter closes on 2025-12-15 with quarterly periods, so period t's payment date is
2025-12-15 + 3t months; its loan matures at period 16 + 8 (extensions) = 24, on 2031-12-15,
and is refinanced there in the base case."""
import datetime as dt

import pytest

import waterfall as w
from waterfall.model.scenario import RefinancingClosed
from waterfall.scenarios import localise

JUPITER = "deals/project_jupiter.toml"


def _closure(**dates):
    return w.Scenario.model_validate(
        {"name": "closed", "adjustments": [{"kind": "refinancing_closed", **dates}]})


@pytest.fixture(scope="module")
def deal():
    return w.load_deal(JUPITER)


def _refinanced(deal, scenario):
    flows = w.run(deal, scenario).cash_flows()
    return float(flows["jupiter-loan.refinanced"].sum())


def test_dates_map_to_the_deals_periods(deal):
    # [2031-12-15, 2031-12-16) holds exactly one payment date, period 24's
    adj = localise(_closure(from_date="2031-12-15", to_date="2031-12-16"), deal).adjustments[0]
    assert (adj.from_period, adj.to_period) == (24, 24)
    # [2027-01-01, 2028-01-01): payment dates 2027-03-15 (t=5) .. 2027-12-15 (t=8)
    adj = localise(_closure(from_date="2027-01-01", to_date="2028-01-01"), deal).adjustments[0]
    assert (adj.from_period, adj.to_period) == (5, 8)
    # no end date: shut to the horizon
    adj = localise(_closure(from_date="2031-01-01"), deal).adjustments[0]
    assert adj.from_period == 21 and adj.to_period == deal.timeline.n_periods


def test_a_closure_over_the_maturity_blocks_the_refinancing(deal):
    base = _refinanced(deal, w.Scenario.model_validate({"name": "base", "adjustments": []}))
    assert base > 0.0
    shut = w.run(deal, _closure(from_date="2031-12-15", to_date="2031-12-16"))
    assert float(shut.cash_flows()["jupiter-loan.refinanced"].sum()) == 0.0
    assert shut.metrics.default_period == 24   # the balloon falls due and is not paid


def test_a_market_that_reopens_before_the_maturity_refinances(deal):
    base = _refinanced(deal, w.Scenario.model_validate({"name": "base", "adjustments": []}))
    reopened = _refinanced(deal, _closure(from_date="2029-01-01", to_date="2031-06-01"))
    assert reopened == pytest.approx(base, abs=1e-9)


def test_a_closure_entirely_after_the_horizon_changes_nothing(deal):
    scenario = localise(_closure(from_date="2199-01-01"), deal)
    assert scenario.adjustments == []


def test_bad_closure_dates_are_refused():
    with pytest.raises(ValueError, match="to_date 2030-01-01 must be after from_date 2031-01-01"):
        RefinancingClosed(kind="refinancing_closed", from_date=dt.date(2031, 1, 1), to_date=dt.date(2030, 1, 1))
    with pytest.raises(ValueError, match="not both"):
        RefinancingClosed(kind="refinancing_closed", from_period=3, from_date=dt.date(2031, 1, 1))
    with pytest.raises(ValueError, match="to_date needs from_date"):
        RefinancingClosed(kind="refinancing_closed", to_date=dt.date(2031, 1, 1))
