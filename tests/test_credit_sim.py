"""Portfolio credit simulation: marginal default rates match the input PDs within Monte
Carlo error, a perfectly correlated run is the chain with every obligor defaulting on one
date, paths are fixed by the seed whatever their number, and bad inputs exit 2."""
from __future__ import annotations

import json
import math

import numpy as np
import pytest

from waterfall.cli import main
from waterfall.commands.portfolio import holders, chain_rows, portfolio_deals
from waterfall.contagion import Graph, load_graph
from waterfall.credit_sim import BLOCK, default_years, loss_tables, path_losses, risk_measures
from waterfall.issuers import add_months
from waterfall.scenarios.presets import load_preset

GRAPH = load_graph()


def pds(graph):
    return np.array([next(o for o in graph.obligors if o.name == n).default_probability.annual
                     for n in graph.simulation.obligors])


@pytest.mark.parametrize("copula", ["gaussian", "student_t"])
def test_marginal_default_rates_match_the_input_pds(copula):
    # a copula changes how defaults cluster, never each obligor's own default rate
    sim, p, n = GRAPH.simulation.model_copy(update={"copula": copula}), pds(GRAPH), 100_000
    years = default_years(sim, p, n, seed=11)
    for i in range(len(p)):
        # within the horizon: 1 - (1 - p)^H; and in year 0 alone: p (a constant hazard)
        for want, got in ((1 - (1 - p[i]) ** sim.horizon_years, (years[:, i] < sim.horizon_years).mean()),
                          (p[i], (years[:, i] == 0).mean())):
            assert abs(got - want) < 4 * math.sqrt(want * (1 - want) / n), (sim.obligors[i], got, want)


def test_paths_are_fixed_by_the_seed_whatever_their_number():
    sim, p = GRAPH.simulation, pds(GRAPH)
    many = default_years(sim, p, 25_000, seed=5)
    assert np.array_equal(default_years(sim, p, 10_000, seed=5), many[:10_000])
    assert np.array_equal(default_years(sim, p, BLOCK, seed=5, start_block=1), many[BLOCK:2 * BLOCK])
    assert not np.array_equal(default_years(sim, p, 10_000, seed=6), many[:10_000])


def test_perfectly_correlated_run_is_the_chain_with_joint_defaults():
    # correlation 1 and one PD for all three: on every path they default in the same year;
    # each such path's loss is exactly the chain run with all three forced into default
    # on that year's mid-point
    data = GRAPH.model_dump()
    data["simulation"]["correlation"] = [[1.0] * 3 for _ in range(3)]
    for o in data["obligors"]:
        if o["name"] in data["simulation"]["obligors"]:
            o["default_probability"]["annual"] = 0.05
    graph = Graph.model_validate(data)
    deals = portfolio_deals()
    years = default_years(graph.simulation, pds(graph), 20_000, seed=2)
    assert (years == years[:, :1]).all()
    tables = loss_tables(graph, deals)
    losses = path_losses(tables, years)
    for y in (0, 3):
        k = int(np.flatnonzero(years[:, 0] == y)[0])
        when = add_months(graph.basis_date, 12 * y + 6)
        rows, _, _ = chain_rows(graph, load_preset("base"), deals, forced={n: when for n in graph.simulation.obligors})
        lenders, _ = holders(rows, {d.name: d for d in deals})
        for r in rows:
            assert losses[k, tables.columns.index(f"deal:{r['deal']}")] == pytest.approx(r["loss"], abs=1e-6)
        for name, acc in lenders.items():
            assert losses[k, tables.columns.index(f"lender:{name}")] == pytest.approx(acc["loss"], abs=1e-6)


def test_risk_measures_by_hand():
    # 1,000 losses 0..999: VaR 95% is the 950th smallest (949), CVaR the mean of the worst
    # 50 (950..999: 974.5); at 99.9% the worst one (999)
    m = risk_measures(np.arange(1000.0))
    assert m["expected_loss"] == pytest.approx(499.5)
    assert (m["var_0.95"], m["cvar_0.95"]) == (950.0, pytest.approx(974.5))
    assert (m["var_0.999"], m["cvar_0.999"]) == (999.0, 999.0)


def test_cli_simulate_json(capsys):
    assert main(["portfolio", "--simulate", "2000", "--seed", "4", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["n"] == 2000 and set(out["default_rate"]) == set(GRAPH.simulation.obligors)
    assert out["total"]["cvar_0.99"] >= out["total"]["var_0.99"] >= out["total"]["var_0.95"]
    assert sum(v["expected_loss"] for v in out["contribution"].values()) == pytest.approx(out["total"]["expected_loss"])
