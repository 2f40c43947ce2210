"""Sweeps that cannot lie or exhaust the machine (issue 17): a different sweep on the same
output is refused, never mixed in; one sweep at a time writes to an output; the plan's
size is checked before anything runs; finished chunks stream to disk; losing every Dask
worker is a clear error and the rerun resumes. Each test failed on main (see comments)."""
from __future__ import annotations

import shutil
import signal
import subprocess
import sys
import time
import tracemalloc
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import waterfall
from waterfall.sweeps import SweepError, sweep
from waterfall.sweeps import runner

ROOT = Path(__file__).resolve().parent.parent
TIEOUT = ROOT / "deals" / "examples" / "tieout.toml"
MC_VARY = {"scenario.tenant_default.period": "uniform:1:40",
           "scenario.tenant_default.relet_haircut": "triangular:0:0.3:1"}


class Stop(Exception):
    pass


def _stop_after(chunks: int, size: int):
    def hook(done, total):
        if done >= chunks * size:
            raise Stop
    return hook


@pytest.fixture(scope="module")
def deal():
    return waterfall.load_deal(TIEOUT)


def test_chunks_of_another_sweep_in_the_folder_are_refused_not_mixed_in(deal, tmp_path):
    # on main: the rerun of sweep B took sweep A's chunks for points 0-799 and wrote a table
    # mixing both, exit 0 (what two sweeps writing to one output at once leave behind)
    out = tmp_path / "mixed.parquet"
    chunks = tmp_path / "mixed.parquet.chunks"
    with pytest.raises(Stop):
        sweep(deal, MC_VARY, samples=2000, seed=1, out=out, chunk_size=400, on_chunk=_stop_after(2, 400))
    aside = tmp_path / "a-chunks"
    aside.mkdir()
    for path in chunks.glob("chunk-*.npz"):
        shutil.move(str(path), aside / path.name)
    shutil.rmtree(chunks)                    # sweep A's folder gone: sweep B starts afresh
    with pytest.raises(Stop):
        sweep(deal, MC_VARY, samples=2000, seed=2, out=out, chunk_size=500, on_chunk=_stop_after(1, 500))
    for path in aside.glob("chunk-*.npz"):   # sweep A, still running, writes its chunks
        shutil.copy(path, chunks / path.name)
    with pytest.raises(SweepError, match=r"holds chunk-000000000000-000000000400\.npz, a chunk of a "
                                         r"different sweep"):
        sweep(deal, MC_VARY, samples=2000, seed=2, out=out, chunk_size=500)
    assert not out.exists()


def test_a_second_sweep_on_an_output_being_written_is_refused(deal, tmp_path):
    # on main: the second sweep ran alongside the first in the same chunk folder
    out = tmp_path / "busy.csv"
    seen = []

    def second(done, total):
        if not seen:
            with pytest.raises(SweepError, match="another sweep is writing to it now"):
                sweep(deal, MC_VARY, samples=2000, seed=3, out=out, chunk_size=500)
            seen.append(done)

    frame = sweep(deal, MC_VARY, samples=2000, seed=3, out=out, chunk_size=500, on_chunk=second)
    assert seen == [500]
    pd.testing.assert_frame_equal(pd.read_csv(out), pd.read_csv(out))   # the first finished whole
    assert len(frame) == 2000 and not (tmp_path / "busy.csv.chunks").exists()


def test_a_billion_point_grid_is_refused_before_it_starts(deal, tmp_path):
    # on main: it started with no check, holding every finished chunk in memory. 10^9 points
    # of ~300 bytes each (point, 3 inputs, the metrics, WAL and loss) are ~300 GB.
    started = []
    grid = {"scenario.tenant_default.relet_haircut": np.linspace(0, 1, 1000),
            "scenario.rate_shock.bp": np.linspace(-100, 100, 1000),
            "scenario.tenant_default.period": list(range(1, 41)) * 25}   # 40 distinct periods
    grid["scenario.rent_multiplier.multiplier"] = np.linspace(0.5, 1, 25)
    with pytest.raises(SweepError, match=r"1,000,000,000 points need about [\d,.]+ GB of memory"):
        sweep(deal, grid, scenario="base", out=tmp_path / "huge.parquet", on_start=started.append)
    assert started == [] and not (tmp_path / "huge.parquet.chunks").exists()


def test_a_sample_of_1e15_is_refused_before_any_memory_is_taken(deal, tmp_path):
    # on main: 7.5 GB allocated (every chunk range listed) before the first chunk
    with pytest.raises(SweepError, match=r"1,000,000,000,000,000 points: a sweep may have at most"):
        sweep(deal, MC_VARY, samples=10**15, seed=1, out=tmp_path / "x.parquet")


def test_a_grid_axis_of_a_billion_steps_is_a_clean_exit_2(tmp_path):
    # on main: numpy tried to build the 10^9-value axis (a MemoryError traceback, or minutes)
    proc = subprocess.run([sys.executable, "-m", "waterfall", "sweep", str(TIEOUT), "--vary",
                           "leases.0.annual_rent=0:300:1000000000", "--out", str(tmp_path / "x.csv")],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    assert proc.stderr.strip() == ("error: --vary leases.0.annual_rent: 1,000,000,000 steps; a grid axis "
                                   "may have at most 10,000,000")


def test_finished_chunks_stream_to_disk_not_memory(deal, tmp_path):
    # on main every finished chunk stayed in a list until the end: 34 more chunks of 3,000
    # points x (point + 2 inputs + metrics + WAL + loss) x 8 bytes is over 7 MB of growth
    from waterfall import ops
    per_chunk = 3000 * 8 * (2 + ops.N_METRICS + 2)
    memory = {}

    def watch(done, total):
        if done in (6000, 108000):
            memory[done] = tracemalloc.get_traced_memory()[0]

    tracemalloc.start()
    try:
        sweep(deal, MC_VARY, samples=120_000, seed=5, out=tmp_path / "s.parquet", chunk_size=3000,
              on_chunk=watch)
    finally:
        tracemalloc.stop()
    growth = memory[108000] - memory[6000]
    assert growth < 5 * per_chunk, (growth, per_chunk)
    frame = pd.read_parquet(tmp_path / "s.parquet")
    pd.testing.assert_frame_equal(frame, sweep(deal, MC_VARY, samples=120_000, seed=5), check_exact=True)


@pytest.mark.slow
def test_losing_every_dask_worker_is_a_clear_error_and_the_rerun_resumes(deal, tmp_path, monkeypatch):
    # on main: the sweep waited for workers that never came back (or, with a nanny, ended
    # in a KilledWorker traceback)
    distributed = pytest.importorskip("distributed")
    monkeypatch.setattr(runner, "WORKERLESS_SECONDS", 3.0)
    cluster = distributed.LocalCluster(n_workers=0, processes=True, host="127.0.0.1", dashboard_address=None)
    worker = subprocess.Popen([sys.executable, "-m", "distributed.cli.dask_worker", cluster.scheduler_address,
                               "--no-nanny", "--nthreads", "1"], stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL)
    try:
        with distributed.Client(cluster) as client:
            client.wait_for_workers(1, timeout=60)
        out = tmp_path / "lost.parquet"

        def kill_worker(done, total):
            if worker.poll() is None:
                worker.send_signal(signal.SIGKILL)
                worker.wait()

        with pytest.raises(SweepError, match="the Dask cluster was lost .*rerun the same command to resume"):
            sweep(deal, MC_VARY, samples=40_000, seed=6, out=out, chunk_size=1000,
                  dask=cluster.scheduler_address, on_chunk=kill_worker)
        saved = len(list((tmp_path / "lost.parquet.chunks").glob("chunk-*.npz")))
        assert 1 <= saved < 40
    finally:
        if worker.poll() is None:
            worker.kill()
        cluster.close()
    frame = sweep(deal, MC_VARY, samples=40_000, seed=6, out=out, chunk_size=1000)
    assert frame.attrs["computed_points"] == 40_000 - 1000 * saved
    pd.testing.assert_frame_equal(frame, sweep(deal, MC_VARY, samples=40_000, seed=6), check_exact=True)
