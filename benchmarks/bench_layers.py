"""The layers around the kernel (issue 16): 10^6 scenarios end to end with the whole
process's peak memory, sweep points/s against the kernel's scenarios/s on the same deal,
Dask on a two-worker LocalCluster against local, the IRR per vector in a batch and
single, and one `run()` of a compiled deal. Each records its figures in extra_info. Not
part of the normal test run:

    python -m pytest benchmarks/bench_layers.py --benchmark-enable -q
    python scripts/speed_table.py        # the same figures as the README's table
"""
from __future__ import annotations

import pytest

from waterfall import speed
from waterfall.bench import BENCH_DEAL, end_to_end_process


def _record(benchmark, figures: dict) -> dict:
    benchmark.extra_info.update(figures)
    return figures


def test_end_to_end_million_scenarios(benchmark):
    """Scenario batch + kernel (metrics only, 2 threads) + metrics DataFrame for 10^6
    scenarios, in a fresh process (its peak RSS is the whole process's)."""
    benchmark.group = "end to end 10^6 scenarios"
    figures = benchmark.pedantic(end_to_end_process, args=(BENCH_DEAL, 1_000_000, 7, 2), rounds=1, iterations=1)
    _record(benchmark, figures)
    assert figures["end_to_end_rows"] == 1_000_000


def test_sweep_against_the_kernel(benchmark):
    benchmark.group = "sweep vs kernel, Abilene 10^5 points"
    figures = _record(benchmark, benchmark.pedantic(speed.sweep_vs_kernel, rounds=1, iterations=1))
    assert figures["sweep_points_per_s"] > 0


def test_dask_against_local(benchmark):
    pytest.importorskip("distributed")
    benchmark.group = "dask 2 workers vs local, Abilene 10^5 points"
    figures = _record(benchmark, benchmark.pedantic(speed.dask_vs_local, rounds=1, iterations=1))
    assert figures["dask_points_per_s"] > 0


def test_irr_batch_and_single(benchmark):
    benchmark.group = "irr 181 periods"
    figures = _record(benchmark, benchmark.pedantic(speed.irr_timings, rounds=1, iterations=1))
    assert figures["periods"] == 181


def test_irr_against_another_build(benchmark):
    """The IRR timings of this build and another (WATERFALL_OTHER_KERNEL: the path of, e.g.,
    main's built _kernel*.so) in one process, taking turns, best of 5 (docs/speed.md)."""
    import os

    other = os.environ.get("WATERFALL_OTHER_KERNEL")
    if not other:
        pytest.skip("set WATERFALL_OTHER_KERNEL to another build's _kernel*.so")
    from waterfall import _kernel

    benchmark.group = "irr 181 periods, this build vs another"
    kernels = {"other": speed.kernel_copy(other), "": _kernel}
    figures = _record(benchmark, benchmark.pedantic(speed.irr_timings, kwargs={"kernels": kernels, "repeats": 5},
                                                    rounds=1, iterations=1))
    assert figures["periods"] == 181


def test_one_run_of_a_compiled_deal(benchmark):
    benchmark.group = "run() Abilene"
    _record(benchmark, benchmark.pedantic(speed.run_call, rounds=1, iterations=1))
