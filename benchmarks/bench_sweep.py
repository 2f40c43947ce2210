"""Monte Carlo sweep throughput: local (all cores, compiled kernel) vs a 2-worker
dask.distributed LocalCluster on loopback. Not part of the normal test run.

    python -m pytest benchmarks/bench_sweep.py --benchmark-enable -q
    SWEEP_BENCH_SAMPLES=1000000 python benchmarks/bench_sweep.py   # prints points/s
"""
from __future__ import annotations

import os
import sys
import time
from pathlib import Path

import pytest

import waterfall

DEAL = os.environ.get("SWEEP_BENCH_DEAL", str(Path(__file__).resolve().parent.parent / "deals" / "examples" / "tieout.toml"))
SAMPLES = int(os.environ.get("SWEEP_BENCH_SAMPLES", "1000000"))
VARY = {"scenario.tenant_default.period": "uniform:1:40",
        "scenario.tenant_default.relet_haircut": "triangular:0:0.3:1",
        "scenario.rate_shock.bp": "normal:0:100"}


def run_local(samples=SAMPLES):
    return waterfall.sweep(DEAL, VARY, samples=samples, seed=1, progress=False)


def run_dask(client, samples=SAMPLES):
    return waterfall.sweep(DEAL, VARY, samples=samples, seed=1, dask=client, progress=False,
                           chunk_size=max(10_000, samples // 40))


@pytest.fixture(scope="module")
def client():
    from distributed import Client, LocalCluster

    cluster = LocalCluster(n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1",
                           dashboard_address=None)
    c = Client(cluster)
    yield c
    c.close()
    cluster.close()


def test_sweep_local(benchmark):
    frame = benchmark.pedantic(run_local, rounds=1, iterations=1)
    assert len(frame) == SAMPLES


ABILENE = str(Path(__file__).resolve().parent.parent / "deals" / "abilene.toml")
ABILENE_VARY = {"scenario.tenant_default.period": "uniform:4:24"}


def test_sweep_multi_tranche_abilene(benchmark):
    """A two-tranche deal: each tranche's loss comes from the kernel's metrics pass (before,
    a second kernel pass with full ledgers per chunk); compare with test_kernel_abilene."""
    frame = benchmark.pedantic(lambda: waterfall.sweep(ABILENE, ABILENE_VARY, samples=100_000, seed=1,
                                                        progress=False), rounds=1, iterations=1)
    assert len(frame) == 100_000


def test_kernel_abilene(benchmark):
    """The kernel alone on the same 100,000 Abilene scenarios' worth of work (bench's lease
    scenarios): the yardstick for the sweep's points/s above."""
    from waterfall.bench import lease_scenarios
    from waterfall.compile import compile_deal
    from waterfall.engine import run_program
    program = compile_deal(waterfall.load_deal(ABILENE))
    batch = lease_scenarios(program.n_periods, 100_000)
    benchmark.pedantic(run_program, args=(program, batch), kwargs={"losses": True}, rounds=1, iterations=1)


def test_sweep_dask_2_workers(benchmark, client):
    frame = benchmark.pedantic(run_dask, args=(client,), rounds=1, iterations=1)
    assert len(frame) == SAMPLES


def main() -> int:
    from distributed import Client, LocalCluster

    t = time.perf_counter()
    run_local()
    local = time.perf_counter() - t
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1",
                      dashboard_address=None) as cluster, Client(cluster) as c:
        run_dask(c, samples=20_000)  # warm the workers
        t = time.perf_counter()
        run_dask(c)
        remote = time.perf_counter() - t
    print(f"{SAMPLES:,} points, {os.cpu_count()} cores")
    print(f"local:            {local:7.2f} s  {SAMPLES / local:12,.0f} points/s")
    print(f"dask (2 workers): {remote:7.2f} s  {SAMPLES / remote:12,.0f} points/s")
    print(f"overhead ratio (dask time / local time): {remote / local:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
