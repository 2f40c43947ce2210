"""Portfolio credit simulation: 10^5 joint paths of the whole built-in portfolio (the
loss tables from the chain, then the copula draws and path losses). Not part of the
normal test run:

    python -m pytest benchmarks/bench_credit_sim.py --benchmark-enable -q
"""
from __future__ import annotations

from waterfall.commands.portfolio import portfolio_deals
from waterfall.contagion import load_graph
from waterfall.credit_sim import default_years, loss_tables, path_losses, simulate_portfolio

GRAPH = load_graph()
DEALS = portfolio_deals()


def test_whole_simulation_100k(benchmark):
    benchmark.group = "credit simulation 100,000 paths"
    result = benchmark.pedantic(simulate_portfolio, args=(GRAPH, DEALS, 100_000, 1), rounds=1, iterations=1)
    assert result.n == 100_000


def test_draws_and_losses_100k(benchmark):
    benchmark.group = "credit simulation 100,000 paths"
    tables = loss_tables(GRAPH, DEALS)
    pds = __import__("numpy").array([o.default_probability.annual for o in GRAPH.obligors
                                     if o.name in GRAPH.simulation.obligors])

    def draw():
        return path_losses(tables, default_years(GRAPH.simulation, pds, 100_000, 1))

    out = benchmark.pedantic(draw, rounds=3, iterations=1)
    assert out.shape[0] == 100_000
