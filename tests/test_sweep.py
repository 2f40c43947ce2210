"""Sweeps: equal to single runs, deterministic across chunking and workers, resumable
after a real interruption, and runnable on a real dask.distributed LocalCluster."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import waterfall
from waterfall import ops
from waterfall.cli import main
from waterfall.model import Scenario
from waterfall.sweeps import PathError, SweepError, sweep
from waterfall.sweeps.analysis import breakeven, evaluate, loss_distribution, table2d, tornado, var_cvar

ROOT = Path(__file__).resolve().parent.parent
TIEOUT = ROOT / "deals" / "examples" / "tieout.toml"
MC_VARY = {"scenario.tenant_default.period": "uniform:1:40",
           "scenario.tenant_default.relet_haircut": "triangular:0:0.3:1",
           "scenario.rate_shock.bp": "normal:0:100"}
METRIC_COLS = list(ops.METRICS)


@pytest.fixture(scope="module")
def deal():
    return waterfall.load_deal(TIEOUT)


def _single(deal_model, adjustments):
    result = waterfall.run(deal_model, Scenario(name="check", adjustments=adjustments))
    m = result.metric_values.astype(float).copy()
    if m[ops.M["default_period"]] < 0:
        m[ops.M["default_period"]] = np.nan
    return m, result.wal


def _assert_row_equals(row, expected, wal):
    got = row[METRIC_COLS].to_numpy(dtype=float)
    assert np.array_equal(got, expected, equal_nan=True), (got, expected)
    assert np.array_equal(row[["wal_senior"]].to_numpy(dtype=float), wal, equal_nan=True)


def test_grid_equals_single_runs(deal):
    frame = sweep(deal, {"scenario.tenant_default.period": [6, 20, 33],
                         "scenario.tenant_default.relet_haircut": [0.1, 0.6],
                         "tranches.senior.rate.annual": [0.05, 0.08],
                         "scenario.rate_shock.bp": [0.0, 150.0]})
    assert len(frame) == 24 and list(frame["point"]) == list(range(24))
    for _, row in frame.iterrows():
        data = deal.model_dump()
        data["tranches"][0]["rate"]["annual"] = row["tranches.senior.rate.annual"]
        varied = waterfall.Deal.model_validate(data)
        expected, wal = _single(varied, [
            {"kind": "tenant_default", "period": int(row["scenario.tenant_default.period"]),
             "relet_haircut": row["scenario.tenant_default.relet_haircut"]},
            {"kind": "rate_shock", "bp": row["scenario.rate_shock.bp"]}])
        _assert_row_equals(row, expected, wal)
    assert (frame["lender_loss"] > 0).any() and (frame["lender_loss"] == 0).any()


def test_several_new_adjustments_on_a_floating_deal(deal):
    data = deal.model_dump()
    data["tranches"][0]["rate"] = {"kind": "floating", "spread": 0.03, "floor": 0.0}
    data["base_rate"] = {"points": [(0, 0.03), (8, 0.035)]}
    floating = waterfall.Deal.model_validate(data)
    frame = sweep(floating, {"scenario.rent_multiplier.multiplier": [0.6, 0.9],
                             "scenario.rate_shock.bp": [-50.0, 200.0],
                             "scenario.opex_multiplier.multiplier": [0.8, 1.3],
                             "tranches.senior.rate.spread": [0.02, 0.04]})
    assert frame["min_dscr"].nunique() == 16
    for _, row in frame.iterrows():
        d = floating.model_dump()
        d["tranches"][0]["rate"]["spread"] = row["tranches.senior.rate.spread"]
        expected, wal = _single(waterfall.Deal.model_validate(d), [
            {"kind": "rent_multiplier", "multiplier": row["scenario.rent_multiplier.multiplier"]},
            {"kind": "rate_shock", "bp": row["scenario.rate_shock.bp"]},
            {"kind": "opex_multiplier", "multiplier": row["scenario.opex_multiplier.multiplier"]}])
        _assert_row_equals(row, expected, wal)


def test_scenario_paths_modify_the_chosen_scenario(deal):
    # tenant-half-pay has rent x 0.5 from quarter 13: vary its multiplier and add a lease rent axis
    frame = sweep(deal, {"scenario.rent_multiplier.multiplier": [0.3, 0.7],
                         "leases.Tenant.annual_rent": [150.0, 170.0],
                         "scenario.opex_multiplier.multiplier": [1.0, 1.5]},
                  scenario="tenant-half-pay")
    for _, row in frame.iterrows():
        data = deal.model_dump()
        data["leases"][0]["annual_rent"] = row["leases.Tenant.annual_rent"]
        expected, wal = _single(waterfall.Deal.model_validate(data), [
            {"kind": "rent_multiplier", "from_period": 13, "multiplier": row["scenario.rent_multiplier.multiplier"]},
            {"kind": "opex_multiplier", "multiplier": row["scenario.opex_multiplier.multiplier"]}])
        _assert_row_equals(row, expected, wal)


def test_monte_carlo_points_equal_single_runs(deal):
    frame = sweep(deal, MC_VARY, samples=300, seed=11,
                  correlations={("scenario.tenant_default.period", "scenario.tenant_default.relet_haircut"): -0.6})
    assert frame["scenario.tenant_default.period"].between(1, 40).all()
    assert frame["scenario.tenant_default.relet_haircut"].between(0, 1).all()
    rho = np.corrcoef(frame["scenario.tenant_default.period"], frame["scenario.tenant_default.relet_haircut"])[0, 1]
    assert rho < -0.4
    for _, row in frame.iloc[::37].iterrows():
        expected, wal = _single(deal, [
            {"kind": "tenant_default", "period": int(row["scenario.tenant_default.period"]),
             "relet_haircut": row["scenario.tenant_default.relet_haircut"]},
            {"kind": "rate_shock", "bp": row["scenario.rate_shock.bp"]}])
        _assert_row_equals(row, expected, wal)


def test_same_seed_same_results_whatever_the_chunking(deal):
    whole = sweep(deal, MC_VARY, samples=5000, seed=5, chunk_size=5000)
    for chunk in (1, 999, 4097) if False else (999, 4097):
        again = sweep(deal, MC_VARY, samples=5000, seed=5, chunk_size=chunk, threads=1)
        pd.testing.assert_frame_equal(whole, again, check_exact=True)
    other = sweep(deal, MC_VARY, samples=5000, seed=6)
    assert not np.array_equal(whole["scenario.rate_shock.bp"], other["scenario.rate_shock.bp"])
    # a prefix of a larger sample is the smaller sample
    bigger = sweep(deal, MC_VARY, samples=6000, seed=5, chunk_size=1234)
    pd.testing.assert_frame_equal(whole, bigger.iloc[:5000], check_exact=True)


def test_outputs_by_extension(deal, tmp_path):
    vary = {"scenario.tenant_default.period": [5, 25], "scenario.tenant_default.relet_haircut": [0.2, 0.8]}
    frame = sweep(deal, vary, out=tmp_path / "g.parquet")
    pd.testing.assert_frame_equal(pd.read_parquet(tmp_path / "g.parquet"), frame, check_exact=True)
    sweep(deal, vary, out=tmp_path / "g.csv")
    csv = pd.read_csv(tmp_path / "g.csv")
    assert np.allclose(csv["lender_loss"], frame["lender_loss"], rtol=0, atol=0)
    sweep(deal, vary, out=tmp_path / "g.xlsx")
    xlsx = pd.read_excel(tmp_path / "g.xlsx")
    assert list(xlsx.columns) == list(frame.columns) and len(xlsx) == 4
    assert sorted(p.name for p in tmp_path.iterdir()) == ["g.csv", "g.parquet", "g.xlsx"]  # no sidecars left


class Stop(Exception):
    pass


def test_resume_after_interruption(deal, tmp_path):
    out = tmp_path / "mc.parquet"
    reference = sweep(deal, MC_VARY, samples=6000, seed=9)

    def stop_after_three(done, total):
        if done >= 3 * 700:
            raise Stop

    with pytest.raises(Stop):
        sweep(deal, MC_VARY, samples=6000, seed=9, out=out, chunk_size=700, on_chunk=stop_after_three)
    assert not out.exists()
    chunks = sorted((tmp_path / "mc.parquet.chunks").glob("chunk-*.npz"))
    assert len(chunks) == 3
    seen = []
    # resume with a different chunk size: only the missing points are computed
    frame = sweep(deal, MC_VARY, samples=6000, seed=9, out=out, chunk_size=1000,
                  on_chunk=lambda done, total: seen.append(done))
    assert seen[0] == 2100 + 1000 and seen[-1] == 6000
    assert frame.attrs["computed_points"] == 6000 - 2100
    pd.testing.assert_frame_equal(frame, reference, check_exact=True)
    pd.testing.assert_frame_equal(pd.read_parquet(out), reference, check_exact=True)
    assert not (tmp_path / "mc.parquet.chunks").exists()


def test_resume_refuses_chunks_of_another_sweep(deal, tmp_path):
    # issue 17: a different sweep on the same output is refused (main started over, and
    # a second sweep writing meanwhile mixed its chunks into the first's table)
    out = tmp_path / "mc.csv"
    with pytest.raises(Stop):
        sweep(deal, MC_VARY, samples=2000, seed=1, out=out, chunk_size=500,
              on_chunk=lambda d, t: (_ for _ in ()).throw(Stop()))
    with pytest.raises(SweepError, match="holds chunks of a different sweep"):
        sweep(deal, MC_VARY, samples=2000, seed=2, out=out, chunk_size=500)
    assert len(list((tmp_path / "mc.csv.chunks").glob("chunk-*.npz"))) == 1   # the first's chunk kept
    frame = sweep(deal, MC_VARY, samples=2000, seed=1, out=out, chunk_size=500)   # its own rerun resumes
    assert frame.attrs["computed_points"] == 1500
    pd.testing.assert_frame_equal(frame, sweep(deal, MC_VARY, samples=2000, seed=1), check_exact=True)


def test_cli_killed_mid_sweep_resumes(tmp_path):
    out = tmp_path / "killed.parquet"
    args = [sys.executable, "-m", "waterfall", "sweep", str(TIEOUT), "--samples", "300000", "--seed", "4",
            "--vary", "scenario.tenant_default.period=uniform:1:40",
            "--vary", "scenario.tenant_default.relet_haircut=uniform:0:1",
            "--out", str(out), "--chunk-size", "1500", "--threads", "1"]
    env = dict(os.environ, WATERFALL_THREADS="1")
    proc = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)
    chunks_dir = tmp_path / "killed.parquet.chunks"
    deadline = time.time() + 60
    while time.time() < deadline and proc.poll() is None:
        if chunks_dir.exists() and len(list(chunks_dir.glob("chunk-*.npz"))) >= 3:
            break
        time.sleep(0.01)
    assert proc.poll() is None, "the sweep finished before it could be interrupted"
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert not out.exists()
    finished = len(list(chunks_dir.glob("chunk-*.npz")))
    assert 3 <= finished < 200
    done = subprocess.run(args[:-4] + ["--chunk-size", "50000"], capture_output=True, text=True, env=env)
    assert done.returncode == 0, done.stderr
    assert "300,000 points" in done.stdout
    computed = int(done.stdout.split("; ")[1].split(" computed")[0].replace(",", ""))
    assert computed <= 300000 - 3 * 1500
    frame = pd.read_parquet(out)
    assert list(frame["point"]) == list(range(300000))
    fresh = sweep(waterfall.load_deal(TIEOUT), {"scenario.tenant_default.period": "uniform:1:40",
                                                "scenario.tenant_default.relet_haircut": "uniform:0:1"},
                  samples=300000, seed=4)
    pd.testing.assert_frame_equal(frame, fresh, check_exact=True, check_like=False)


@pytest.fixture(scope="module")
def cluster():
    distributed = pytest.importorskip("distributed")
    cluster = distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                       host="127.0.0.1", dashboard_address=None)
    client = distributed.Client(cluster)
    yield client
    client.close()
    cluster.close()


def test_dask_equals_local(deal, cluster, tmp_path):
    local = sweep(deal, MC_VARY, samples=4000, seed=3)
    remote = sweep(deal, MC_VARY, samples=4000, seed=3, dask=cluster, chunk_size=600,
                   out=tmp_path / "d.parquet")
    pd.testing.assert_frame_equal(local, remote, check_exact=True)
    grid = {"scenario.tenant_default.period": [4, 12, 30], "tranches.senior.rate.annual": [0.05, 0.07]}
    pd.testing.assert_frame_equal(sweep(deal, grid), sweep(deal, grid, dask=cluster, chunk_size=1),
                                  check_exact=True)


def test_dask_survives_a_worker_dying(deal, cluster):
    pids = cluster.run(os.getpid)
    killed = []

    def kill_one(done, total):
        if not killed:
            os.kill(next(iter(pids.values())), signal.SIGKILL)
            killed.append(done)

    local = sweep(deal, MC_VARY, samples=30000, seed=8)
    remote = sweep(deal, MC_VARY, samples=30000, seed=8, dask=cluster, chunk_size=500, on_chunk=kill_one)
    assert killed
    pd.testing.assert_frame_equal(local, remote, check_exact=True)
    cluster.wait_for_workers(2, timeout=60)


@pytest.mark.parametrize("vary, needle", [
    ("tranches.senior.rate.sprea=0:1:3", "tranches.senior.rate.sprea"),
    ("tranches.junior.amount=1:2:3", "tranches.junior.amount"),
    ("leases.7.annual_rent=1:2:3", "leases.7.annual_rent"),
    ("deal.name=1:2:3", "deal.name"),
    ("scenario.rent_multiplier.bp=0:1:2", "scenario.rent_multiplier.bp"),
    ("scenario.coupon.bp=0:1:2", "scenario.coupon.bp"),
    ("scenario.tenant_default.relet_haircut=0:1:3", "scenario.tenant_default.relet_haircut"),
    ("scenario.tenant_default.period=1:80:3", "scenario.tenant_default.period"),
    ("tranches.senior.amount=600:2000:3", "tranches.senior.amount"),
    ("covenants.lock_up_dscr=a:b:c", "covenants.lock_up_dscr"),
    ("covenants.lock_up_dscr", "covenants.lock_up_dscr"),
])
def test_bad_vary_paths_exit_2(vary, needle, tmp_path, capsys):
    status = main(["sweep", str(TIEOUT), "--vary", vary, "--out", str(tmp_path / "x.csv")])
    err = capsys.readouterr().err
    assert status == 2
    assert needle in err and err.startswith("error: ")
    assert not (tmp_path / "x.csv").exists()


def test_cli_grid_and_plots(tmp_path, capsys):
    status = main(["sweep", "tieout", "--vary", "scenario.tenant_default.period=4:40:4",
                   "--vary", "scenario.tenant_default.relet_haircut=0:0.9:4",
                   "--out", str(tmp_path / "g.csv"), "--plot", str(tmp_path / "charts")])
    assert status == 0
    text = capsys.readouterr().out
    assert "16 points (grid)" in text and "lender_loss:" in text
    assert len(pd.read_csv(tmp_path / "g.csv")) == 16
    pngs = sorted(p.name for p in (tmp_path / "charts").glob("*.png"))
    assert "table_lender_loss.png" in pngs and len(pngs) == 4
    status = main(["sweep", "tieout", "--samples", "2000", "--seed", "1",
                   "--vary", "scenario.tenant_default.period=1:40",
                   "--vary", "scenario.tenant_default.relet_haircut=normal:0.5:0.3",
                   "--out", str(tmp_path / "m.parquet"), "--plot", str(tmp_path / "mc")])
    assert status == 0
    assert "VaR 99" in capsys.readouterr().out
    assert (tmp_path / "mc" / "loss_distribution.png").stat().st_size > 1000


# --- analysis ----------------------------------------------------------------------------

def test_breakevens(deal):
    mult = breakeven(deal, "scenario.rent_multiplier.multiplier", "min_dscr", low=0.3, high=1.0)
    m = evaluate(deal, {"scenario.rent_multiplier.multiplier": [mult]})["min_dscr"].iloc[0]
    assert abs(m - 1.0) < 1e-4
    # the latest default period (from the start of the deal) at which a 60% haircut still costs lenders money
    period = breakeven(deal, "scenario.tenant_default.period", "lender_loss", low=1, high=40,
                       scenario=Scenario(name="s", adjustments=[{"kind": "tenant_default", "period": 1,
                                                                   "relet_haircut": 0.6}]))
    assert float(period) == int(period)
    losses = evaluate(deal, {"scenario.tenant_default.period": [period - 1, period]},
                      scenario=Scenario(name="s", adjustments=[{"kind": "tenant_default", "period": 1,
                                                                  "relet_haircut": 0.6}]))["lender_loss"]
    assert losses.iloc[0] > 0 and losses.iloc[1] == 0
    rate = breakeven(deal, "tranches.senior.rate.annual", "equity_irr", level=0.10, low=0.02, high=0.12)
    irr = evaluate(deal, {"tranches.senior.rate.annual": [rate]})["equity_irr"].iloc[0]
    assert abs(irr - 0.10) < 1e-5
    assert np.isnan(breakeven(deal, "scenario.rate_shock.bp", "min_dscr", low=0, high=10))


def test_tornado_and_table2d(deal):
    t = tornado(deal, {"scenario.rent_multiplier.multiplier": (0.5, 1.0),
                       "tranches.senior.rate.annual": (0.04, 0.08),
                       "scenario.opex_multiplier.multiplier": (0.8, 1.2)}, metric="min_dscr")
    assert list(t["input"])[0] == "scenario.rent_multiplier.multiplier"
    assert (t["swing"].diff().dropna() <= 0).all()
    row = t.set_index("input").loc["tranches.senior.rate.annual"]
    assert row["base"] == 0.06
    base_min = waterfall.run(deal).metrics["min_dscr"]
    assert abs(row["min_dscr_base"] - base_min) < 1e-12
    table = table2d(deal, ("scenario.tenant_default.period", [4, 12, 20, 28]),
                    ("scenario.tenant_default.relet_haircut", [0.0, 0.5, 0.9]))
    assert table.shape == (4, 3) and (table[0.0] == 0).all() and (table[0.9] > 0).all()
    assert (table[0.9].diff().dropna() < 0).all()  # defaulting later costs less


def test_loss_distribution_and_lenders(deal):
    assert var_cvar(np.arange(100.0), 0.95) == (94.0, 97.0)
    data = deal.model_dump()
    data["tranches"][0]["lenders"] = {"Bank A": 0.6, "Bank B": 0.4}
    shared = waterfall.Deal.model_validate(data)
    frame = sweep(shared, MC_VARY, samples=3000, seed=2)
    table = loss_distribution(frame).set_index("holder")
    assert list(table.index) == ["deal", "Bank A", "Bank B"]
    deal_row = table.loc["deal"]
    assert abs(deal_row["expected_loss"] - frame["lender_loss"].mean()) < 1e-9
    assert deal_row["var_95"] <= deal_row["cvar_95"] <= deal_row["max_loss"]
    assert deal_row["var_95"] <= deal_row["var_99"] <= deal_row["cvar_99"]
    assert abs(table.loc["Bank A", "expected_loss"] - 0.6 * deal_row["expected_loss"]) < 1e-9
    assert abs(table.loc["Bank B", "cvar_99"] - 0.4 * deal_row["cvar_99"]) < 1e-9


def test_api_errors(deal):
    with pytest.raises(PathError, match="tranches.senior.rate.floor"):
        sweep(deal, {"tranches.senior.rate.floor": [0.0]})
    with pytest.raises(PathError, match="needs a Monte Carlo"):
        sweep(deal, {"scenario.rate_shock.bp": "normal:0:1"})
