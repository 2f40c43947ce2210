"""The chain on calendar dates: a preset's market-wide stresses hit every deal in the
same calendar years, and the refinancing market shut by the lab's shortfall reopens."""
from __future__ import annotations

import datetime as dt

import pytest

import waterfall
from waterfall.contagion import Graph, chain_adjustments, run_chain
from waterfall.model import Scenario
from waterfall.scenarios.timing import resolve


def tieout(close: str, name: str = "t", tenant: str = "Tenant"):
    data = waterfall.load_deal("tieout").model_dump()
    data["deal"].update(name=name, kind="spv")
    data["timeline"]["financial_close"] = close
    data["leases"][0]["tenant"] = tenant
    data["scenarios"] = []
    return waterfall.Deal.model_validate(data)


SHOCK = Scenario(name="shock", time_unit="year",
                 adjustments=[{"kind": "rate_shock", "bp": 150.0, "from_period": 1, "to_period": 4},
                              {"kind": "construction_delay", "delay": 1, "from_period": 0}])


def test_a_rate_shock_in_years_1_to_4_hits_the_same_calendar_years():
    basis = dt.date(2026, 1, 15)
    early, late = tieout("2026-01-15"), tieout("2027-01-15")
    a = resolve(SHOCK, early, anchor=basis).adjustments[0]
    b = resolve(SHOCK, late, anchor=basis).adjustments[0]
    # years 1-4 after 15 Jan 2026 = Jan 2027 - Jan 2030. The early deal (closed at the
    # basis date): months 12-48 after its close, quarters floor(12/3)+1 = 5 to 48/3 = 16.
    assert (a.from_period, a.to_period) == (5, 16)
    # the late deal closed in Jan 2027: the same years are its months 0-36, from its close
    # (period 0, as a rate shock "from period 0" reads) to quarter 36/3 = 12
    assert (b.from_period, b.to_period) == (0, 12)
    # without an anchor (a deal's own scenario) both count from their own close
    c = resolve(SHOCK, late).adjustments[0]
    assert (c.from_period, c.to_period) == (5, 16)
    # a deal's own event (its construction delay) is not moved by the anchor
    assert resolve(SHOCK, late, anchor=basis).adjustments[1].delay == resolve(SHOCK, late).adjustments[1].delay


def test_a_stress_over_before_the_deal_starts_is_dropped():
    # years 1-4 after a 2020 basis ended in Jan 2025, before a 2026 deal's first quarter
    assert resolve(SHOCK, tieout("2026-01-15"), anchor=dt.date(2020, 1, 15)).adjustments[0].kind != "rate_shock"


GRAPH = {
    "basis_date": "2026-01-15",
    "lab": {"name": "Lab", "tenants": ["AI lab"], "revenue": [(0, 10.0)], "cash": 0.0},
    "obligors": [{"name": "P", "tenants": ["P"], "lab_commitments": [(0, 10.0)], "other_cash_flow": [(0, 50.0)]}],
    "deals": [{"deal": "t"}],
    "refinancing_closes_below": 0.95,
}


def test_refinancing_market_shut_by_the_lab_reopens_when_it_pays_again():
    graph = Graph.model_validate(GRAPH)
    # the lab's revenue is 80% of its path in years 2 and 3 only: it pays 0.8 of the 10 it
    # owes then, in full before and after
    preset = Scenario(name="dip", time_unit="year",
                      chain={"lab_revenue": [(0, 1.0), (1, 1.0), (2, 0.8), (3, 0.8), (4, 1.0)]})
    outcome = run_chain(graph, preset, {})
    assert outcome.pay_ratio[:5] == pytest.approx([1.0, 1.0, 0.8, 0.8, 1.0])
    assert outcome.refi_closed == [(2, 4)]
    adjustments, notes = chain_adjustments(outcome, tieout("2026-01-15", tenant="P"))
    (closed,) = [a for a in adjustments if a["kind"] == "refinancing_closed"]
    # years 2-3 = 15 Jan 2028 - 15 Jan 2030: quarters 9 to 16; open again from quarter 17
    assert (closed["from_period"], closed["to_period"]) == (9, 16)
    assert any("then reopens" in n for n in notes)


def test_refinancing_margin_linked_to_the_tenants_credit():
    """Graph.refinancing_margin_link: the tenant P's new-issue spread is its base 1.5% plus
    2% x the lab's shortfall (MarketAccess defaults; P has no debt, so no leverage term):
    in years 2-3 the lab pays 0.8, so P's spread is 1.5% + 2% x 0.2 = 1.9%, 40bp wide. The
    SPV leased to P refinances at + link x 40bp in those years' quarters 9-16 (as the
    market-closed test above maps them), nothing before or after; link 0.5 gives +20bp,
    the default link 0 none. The add-on reaches the deal's scenario (deal_scenario)."""
    from waterfall.contagion import deal_scenario
    preset = Scenario(name="dip", time_unit="year",
                      chain={"lab_revenue": [(0, 1.0), (1, 1.0), (2, 0.8), (3, 0.8), (4, 1.0)]})
    deal = tieout("2026-01-15", tenant="P")
    for link, bp in ((1.0, 40.0), (0.5, 20.0), (0.0, None)):
        outcome = run_chain(Graph.model_validate({**GRAPH, "refinancing_margin_link": link}), preset, {})
        adjustments, notes = chain_adjustments(outcome, deal)
        spreads = [a for a in adjustments if a["kind"] == "refinancing_spread"]
        if bp is None:
            assert spreads == []
            continue
        assert spreads == [{"kind": "refinancing_spread", "bp": pytest.approx(bp, abs=1e-6),
                            "from_period": 9, "to_period": 16}]
        scenario, _notes = deal_scenario(outcome, deal, preset)
        assert [a.bp for a in scenario.adjustments if a.kind == "refinancing_spread"] == [pytest.approx(bp, abs=1e-6)]


def test_the_python_api_takes_a_preset_on_the_chains_calendar():
    """`waterfall.run(deal, PRESET)` anchored a preset's market-wide stresses at the deal's
    own close, while `waterfall run --direct-only` (and the chain) anchor them at the graph's
    basis date (2025-11-30): Lighthouse (close 2026-05) under rates-stay-high gave PV loss
    590.5 in Python and 605.3 at the command line. Now one answer: the +150bp of years 1-4
    starts at the same calendar quarter in both."""
    import json
    import subprocess
    import sys
    from pathlib import Path

    import waterfall

    root = Path(__file__).resolve().parents[1]
    api = waterfall.run(waterfall.load_deal(root / "deals" / "vantage_lighthouse.toml"), "rates-stay-high")
    proc = subprocess.run([sys.executable, "-m", "waterfall", "run", "vantage_lighthouse", "--scenario",
                           "rates-stay-high", "--direct-only", "--json"],
                          capture_output=True, text=True, cwd=root, timeout=300)
    assert proc.returncode == 0, proc.stderr
    cli = json.loads(proc.stdout)["metrics"]
    assert cli["default_period"] == api.metrics.default_period
    assert cli["lender_loss_pv"] == pytest.approx(api.metrics.lender_loss_pv, rel=1e-12)
