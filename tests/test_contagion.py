"""The contagion chain: a lab shortfall that stops one tenant's payments defaults exactly
the SPVs that depend on that tenant; the graph is data with clear errors."""
from __future__ import annotations

import datetime as dt

import pytest

import waterfall
from waterfall.cli import main
from waterfall.contagion import Graph, deal_scenario, load_graph, run_chain
from waterfall.errors import DealError
from waterfall.model import Scenario

TIEOUT = waterfall.load_deal("tieout")


def spv(name: str, tenant: str):
    data = TIEOUT.model_dump()
    data["deal"].update(name=name, kind="spv")
    data["leases"][0]["tenant"] = tenant
    data["scenarios"] = []
    return waterfall.Deal.model_validate(data)


GRAPH = {
    "basis_date": "2026-01-15",            # the tie-out's financial close: year y = quarters 4y+1..4y+4
    "lab": {"name": "Lab", "tenants": ["AI lab"], "revenue": [(0, 10.0)], "funding": [(0, 0.0)], "cash": 0.0},
    "obligors": [
        # Provider A depends on the lab: commitments 10/yr, own outgoings 10/yr, no buffer.
        {"name": "ProviderA", "tenants": ["ProviderA"], "lab_commitments": [(0, 10.0)],
         "capex": [(0, 10.0)], "on_default": "termination", "relet_downtime_months": 0, "relet_haircut": 1.0},
        # Provider B lives on its own cash flow.
        {"name": "ProviderB", "tenants": ["ProviderB"], "other_cash_flow": [(0, 10.0)], "capex": [(0, 5.0)]},
    ],
    "deals": [{"deal": "spv-a"}, {"deal": "spv-b"}, {"deal": "spv-lab"}],
    "refinancing_closes_below": 0.0,
}


def test_lab_shortfall_defaults_exactly_the_dependent_spvs():
    graph = Graph.model_validate(GRAPH)
    # Year 2 on the lab's revenue halves: it pays 5 of its 10 (pay ratio 0.5); provider A
    # then has 5 in against 10 out and no cash: it defaults at the start of year 2 (quarter 9).
    preset = Scenario(name="lab-shortfall", time_unit="year",
                      chain={"lab_revenue": [(0, 1.0), (1, 1.0), (2, 0.5)]})
    outcome = run_chain(graph, preset)
    assert outcome.pay_ratio[:3] == [1.0, 1.0, 0.5]
    # (calendar-true: the day two years after the 15 Jan 2026 basis date)
    assert outcome.entities["ProviderA"].issuer.default_date == dt.date(2028, 1, 15)
    assert outcome.entities["ProviderB"].default_year is None
    deals = {"spv-a": spv("spv-a", "ProviderA"), "spv-b": spv("spv-b", "ProviderB")}
    results = {}
    for name, deal in deals.items():
        scen, notes = deal_scenario(outcome, deal, preset)
        results[name] = waterfall.run(deal, scen).metrics
    assert results["spv-a"]["default_period"] is not None and results["spv-a"]["default_period"] >= 9
    assert results["spv-b"]["default_period"] is None
    assert results["spv-b"] == waterfall.run(deals["spv-b"]).metrics   # untouched


def test_lab_tenant_is_paid_at_the_pay_ratio():
    graph = Graph.model_validate(GRAPH)
    preset = Scenario(name="x", time_unit="year", chain={"lab_revenue": [(0, 1.0), (1, 1.0), (2, 0.9)]})
    outcome = run_chain(graph, preset)
    scen, _ = deal_scenario(outcome, spv("spv-lab", "AI lab (contract)"), preset)
    pays = [a for a in scen.adjustments if a.kind == "partial_payment"]
    # year 2 = quarters 9..12 paid at 0.9, and so on to the horizon
    assert (pays[0].from_period, pays[0].to_period, pays[0].paid_share) == (9, 12, pytest.approx(0.9))
    rev = waterfall.run(spv("spv-lab", "AI lab (contract)"), scen).cash_flows()["revenue"]
    assert rev[9] == pytest.approx(40 * 1.02 ** 2 * 0.9)


def test_strategic_default_walks_when_out_of_the_money():
    data = dict(GRAPH)
    data["obligors"] = [{**GRAPH["obligors"][1], "strategic_threshold": 0.3}]
    graph = Graph.model_validate(data)
    preset = Scenario(name="x", time_unit="year", chain={"market_rent": [(0, 1.0), (3, 1.0), (4, 0.6)]})
    outcome = run_chain(graph, preset)
    # out of the money by more than 30% once the market is below 0.7 (3.75 years exactly
    # is 30%): the first month after, 46 months = 3.833 years; quarter floor(46/3) + 1 = 16
    assert outcome.entities["ProviderB"].walk_year == pytest.approx(46 / 12)
    scen, _ = deal_scenario(outcome, spv("spv-b", "ProviderB"), preset)
    (walk,) = [a for a in scen.adjustments if a.kind == "lease_default"]
    assert walk.period == 16 and walk.outcome == "termination"


def test_default_graph_base_case_pays_in_full():
    outcome = run_chain(load_graph())
    assert all(r == 1.0 for r in outcome.pay_ratio)
    assert all(s.default_year is None and s.walk_year is None for s in outcome.entities.values())


def test_bad_entity_file_names_file_field_and_value(tmp_path, capsys):
    bad = tmp_path / "entities.toml"
    bad.write_text('basis_date = 2025-11-30\n[lab]\nname = "Lab"\nrevenue = [[0, 1.0]]\n'
                   'other_costs_share = 2.0\n[[obligors]]\nname = "X"\ntenants = ["X"]\ncapex_flex = "lots"\n')
    with pytest.raises(DealError) as err:
        load_graph(bad)
    text = str(err.value)
    assert f"{bad}: lab.other_costs_share" in text and "2.0" in text
    assert "obligors[0].capex_flex" in text and "lots" in text
    assert main(["portfolio", "--entities", str(bad)]) == 2
    assert "lab.other_costs_share" in capsys.readouterr().err


def test_the_labs_payment_priority_is_an_input():
    # the lab has 10 a year and owes A 10 and C 10: pay ratio 0.5. Pro rata, each provider
    # gets 5; with C first in its priority, C gets its 10 and A nothing.
    data = dict(GRAPH)
    data["obligors"] = [GRAPH["obligors"][0],
                        {"name": "ProviderC", "tenants": ["ProviderC"], "lab_commitments": [(0, 10.0)]}]
    pro_rata = run_chain(Graph.model_validate(data))
    assert pro_rata.pay_ratio[0] == pytest.approx(0.5)
    assert pro_rata.entities["ProviderA"].issuer.path[0]["paid_share"] == pytest.approx(0.5)
    data["lab"] = {**GRAPH["lab"], "priority": ["ProviderC"]}
    first = run_chain(Graph.model_validate(data))
    assert first.pay_ratio[0] == pytest.approx(0.5)                   # the market sees the lab's 50%
    assert first.entities["ProviderC"].issuer.path[0]["paid_share"] == pytest.approx(1.0)
    assert first.entities["ProviderA"].issuer.path[0]["paid_share"] == pytest.approx(0.0)
    # A (outgoings 10 a year, no cash) now defaults at once; C never does
    assert first.entities["ProviderA"].issuer.default_date == dt.date(2026, 1, 15)
    assert first.entities["ProviderC"].issuer.default_date is None
