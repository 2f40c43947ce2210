"""Kernel throughput on the benchmark deal (15-year monthly SPV, 181 periods), always
against a baseline: the pure-Python reference, and numpy-financial / pyxirr for IRR.
Not part of the normal test run:

    python -m pytest benchmarks/bench_kernel.py --benchmark-enable -q
"""
from __future__ import annotations

import numpy as np
import numpy_financial as npf
import pytest
import pyxirr

from waterfall import _kernel, engine, reference
from waterfall.bench import _subset, lease_scenarios
from waterfall.compile import compile_deal
from waterfall.load import load_deal
from waterfall.metrics import cash_flows

PROGRAM = compile_deal(load_deal("benchmark_spv"))
BATCHES = {n: lease_scenarios(PROGRAM.n_periods, n, seed=11) for n in (1, 1_000, 100_000, 1_000_000)}


@pytest.mark.parametrize("scenarios", [1, 1_000, 100_000, 1_000_000])
@pytest.mark.parametrize("threads", [1, 2])
@pytest.mark.parametrize("lanes", [1, _kernel.LANES], ids=lambda n: f"lanes{n}")
def test_compiled(benchmark, scenarios, threads, lanes):
    # lanes 1: the scalar kernel, one scenario at a time; LANES: lane blocks (ext/_lanes.pxi)
    benchmark.group = f"kernel {scenarios} scenarios"
    batch = BATCHES[scenarios]
    rounds = 1 if scenarios >= 100_000 else 5
    _, metrics, _ = benchmark.pedantic(engine.run_program, args=(PROGRAM, batch),
                                       kwargs={"threads": threads, "lanes": lanes}, rounds=rounds, iterations=1)
    assert metrics.shape[0] == scenarios
    benchmark.extra_info["ns_per_scenario_period"] = (
        benchmark.stats["min"] / (scenarios * (PROGRAM.n_periods + 1)) * 1e9)


@pytest.mark.parametrize("scenarios", [1, 100])
def test_reference(benchmark, scenarios):
    benchmark.group = f"kernel {scenarios} scenarios"
    batch = _subset(BATCHES[1_000], np.arange(scenarios))
    benchmark.pedantic(reference.run_batch, args=(PROGRAM, batch), rounds=2, iterations=1)
    benchmark.extra_info["ns_per_scenario_period"] = (
        benchmark.stats["min"] / (scenarios * (PROGRAM.n_periods + 1)) * 1e9)


def _lender_flows():
    ledgers, _, _ = engine.run_program(PROGRAM, _subset(BATCHES[1_000], np.arange(1)), ledgers=True)
    return cash_flows(PROGRAM, ledgers[0])[0]


FLOWS = _lender_flows()


def test_irr_kernel(benchmark):
    benchmark.group = "irr 181 periods"
    root = benchmark(_kernel.irr, FLOWS)
    assert abs(root - pyxirr.irr(FLOWS)) < 1e-10


def test_irr_pyxirr(benchmark):
    benchmark.group = "irr 181 periods"
    benchmark(pyxirr.irr, FLOWS)


def test_irr_numpy_financial(benchmark):
    benchmark.group = "irr 181 periods"
    benchmark.pedantic(npf.irr, args=(FLOWS,), rounds=5, iterations=1)


def test_xirr_kernel(benchmark):
    benchmark.group = "xirr 181 periods"
    root = benchmark(_kernel.xirr, FLOWS, PROGRAM.flow_years)
    assert abs(root - pyxirr.xirr(PROGRAM.dates, FLOWS)) < 1e-8


def test_xirr_pyxirr(benchmark):
    benchmark.group = "xirr 181 periods"
    benchmark(pyxirr.xirr, PROGRAM.dates, FLOWS)


DEEP_LOSS = np.zeros(67)
DEEP_LOSS[:5] = [-850.0, -664.0, -1823.0, -2263.0, 72.1]  # issue 12: a root at -96.9% a quarter


def test_irr_kernel_deep_loss(benchmark):
    benchmark.group = "irr deep loss, 67 periods"
    root = benchmark(_kernel.irr, DEEP_LOSS)
    assert abs(root - npf.irr(DEEP_LOSS)) < 1e-12


def test_irr_pyxirr_deep_loss(benchmark):
    benchmark.group = "irr deep loss, 67 periods"
    benchmark(pyxirr.irr, DEEP_LOSS)
