"""Portfolio credit simulation: 10^5 joint paths of the whole built-in portfolio (the
loss tables from the chain: the lab's runs and every other obligor's on each of them,
then the copula draws counted by combination of default years), on one process and on
two local worker processes. Not part of the normal test run:

    python -m pytest benchmarks/bench_credit_sim.py --benchmark-enable -q
"""
from __future__ import annotations

import pytest

from waterfall.commands.portfolio import portfolio_deals
from waterfall.contagion import load_graph
from waterfall.credit_sim import copula_of, count_chunk, simulate_portfolio, simulated_pds

GRAPH = load_graph()
DEALS = portfolio_deals()


@pytest.mark.parametrize("workers", [1, 2])
def test_whole_simulation_100k(benchmark, workers):
    benchmark.group = "credit simulation 100,000 paths"
    benchmark.extra_info["workers"] = workers
    result = benchmark.pedantic(simulate_portfolio, args=(GRAPH, DEALS, 100_000, 1),
                                kwargs={"workers": workers}, rounds=1, iterations=1)
    assert result.n == 100_000


def test_draws_and_counts_100k(benchmark):
    benchmark.group = "credit simulation 100,000 paths"
    cop = copula_of(GRAPH.simulation, simulated_pds(GRAPH), 1)
    combos, counts = benchmark.pedantic(count_chunk, args=(cop, (0, 100_000)), rounds=3, iterations=1)
    assert counts.sum() == 100_000
