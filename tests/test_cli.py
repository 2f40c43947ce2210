"""The command line, run for real in subprocesses."""
from __future__ import annotations

import json
import subprocess
import sys

import pandas as pd
import pytest

import waterfall
from waterfall import ops
from waterfall.results import ledger_columns


def cli(*args, check=True):
    proc = subprocess.run([sys.executable, "-m", "waterfall", *args], capture_output=True, text=True)
    if check:
        assert proc.returncode == 0, proc.stderr
    return proc


def test_run_json_has_the_metrics_the_issue_names():
    out = json.loads(cli("run", "deals/examples/tieout.toml", "--scenario", "tenant-half-pay", "--json").stdout)
    metrics = out["metrics"]
    for key in ("min_dscr", "avg_dscr", "llcr", "default_period", "recovery_rate", "lender_loss",
                "lender_irr", "equity_irr"):
        assert key in metrics
    assert metrics["default_period"] == 16  # 1-based quarter, see tests/test_tieout.py
    base = json.loads(cli("run", "tieout", "--json").stdout)["metrics"]
    assert base["default_period"] is None and base["recovery_rate"] is None


def test_run_summary_is_readable():
    text = cli("run", "tieout", "--scenario", "renegotiation").stdout
    assert "min DSCR" in text and "equity IRR" in text and "renegotiation" in text


@pytest.mark.parametrize("engine", ["reference", "compiled"])
def test_csv_has_a_row_per_period_and_a_column_per_line(tmp_path, engine):
    path = tmp_path / "cf.csv"
    cli("run", "tieout", "--csv", str(path), "--engine", engine)
    frame = pd.read_csv(path, index_col="period")
    deal = waterfall.load_deal("tieout")
    program = waterfall.compile_deal(deal)
    assert len(frame) == program.n_periods + 1
    assert list(frame.columns) == ["date"] + ledger_columns(program)
    expected = waterfall.run(deal, "base", engine="reference").cash_flows()
    assert abs(frame["senior.interest_paid"].sum() - expected["senior.interest_paid"].sum()) < 1e-6
    assert frame.loc[1, "revenue"] == pytest.approx(40.0)


def test_scenarios_and_deals_lists():
    lines = cli("scenarios", "tieout").stdout.splitlines()
    assert [line.split("\t")[0] for line in lines] == ["base", "renegotiation", "tenant-half-pay"]
    deals = cli("deals").stdout
    for name in ("tieout", "benchmark_spv", "abilene", "vantage_frontier"):
        assert name in deals


def test_schema_is_a_json_schema_of_the_deal():
    schema = json.loads(cli("schema").stdout)
    assert schema["title"] == "Deal" and "tranches" in schema["properties"]
    scenario = json.loads(cli("schema", "--scenario").stdout)
    assert scenario["title"] == "Scenario"


def test_presets_apply_by_name_to_any_deal():
    out = json.loads(cli("run", "tieout", "--scenario", "rates-stay-high", "--json").stdout)
    assert out["scenario"] == "rates-stay-high"


def test_unknown_scenario_is_bad_input():
    proc = cli("run", "tieout", "--scenario", "no-such-thing", check=False)
    assert proc.returncode == 2 and "no-such-thing" in proc.stderr and "Traceback" not in proc.stderr


def test_bench_json_reports_agreement():
    out = json.loads(cli("bench", "--scenarios", "2000", "--reference-sample", "20", "--threads", "2",
                         "--json").stdout)
    for key in ("scenarios", "periods", "threads", "reference_ns_per_scenario_period",
                "compiled_ns_per_scenario_period", "speedup", "agree"):
        assert key in out
    if waterfall.kernel_available():
        assert out["agree"] is True and out["speedup"] > 1.0
        assert out["lanes"] == waterfall._kernel.LANES >= 1   # scenarios a thread steps together
        # the end-to-end time is its parts (build + kernel + DataFrame), each measured
        parts = out["end_to_end_build_s"] + out["end_to_end_kernel_s"] + out["end_to_end_frame_s"]
        assert out["end_to_end_s"] == pytest.approx(parts, rel=1e-9) and min(
            out["end_to_end_build_s"], out["end_to_end_kernel_s"], out["end_to_end_frame_s"]) > 0
        assert out["peak_rss_mb"] > 10
        # issue 16's targets are reported; 2000 scenarios is not the 10^6 end to end they are set for
        checked = out["issue_16_targets"]["targets"]
        assert checked["ns_per_scenario_period_2_threads"]["measured"] == out["compiled_ns_per_scenario_period"]
        assert not checked["end_to_end_s"]["applies"] and not checked["peak_rss_mb"]["applies"]
    assert out["periods"] == 181


def test_speed_targets_judge_each_figure_against_issue_16():
    """A 10^6-scenario, 2-thread bench report of the benchmark deal just inside every bound
    (7.9 <= 8 ns, 17.9 <= 18 ns, 1.9 >= 1.8x, 1.4 <= 1.5 s, 299 <= 300 MB) meets them all;
    one megabyte more misses the memory target alone; at 10^5 scenarios the end-to-end
    targets do not apply, so the kernel's alone decide; another deal's run meets none."""
    from waterfall.bench import speed_targets
    report = {"deal": "benchmark_spv", "scenarios": 1_000_000, "threads": 2,
              "compiled_ns_per_scenario_period": 7.9, "compiled_ns_per_scenario_period_1_thread": 17.9,
              "thread_scaling": 1.9, "end_to_end_s": 1.4, "peak_rss_mb": 299.0}
    checked = speed_targets(report)
    assert checked["all_met"] and all(t["met"] and t["applies"] for t in checked["targets"].values())
    heavier = speed_targets({**report, "peak_rss_mb": 301.0})
    assert not heavier["all_met"]
    assert [n for n, t in heavier["targets"].items() if not t["met"]] == ["peak_rss_mb"]
    smaller = speed_targets({**report, "scenarios": 100_000, "peak_rss_mb": 301.0, "end_to_end_s": 9.0})
    assert smaller["all_met"] and not smaller["targets"]["end_to_end_s"]["applies"]
    slow = speed_targets({**report, "compiled_ns_per_scenario_period_1_thread": 18.1})
    assert not slow["all_met"] and slow["targets"]["ns_per_scenario_period_1_thread"]["met"] is False
    assert not speed_targets({**report, "deal": "abilene"})["all_met"]


def test_python_dash_m_and_console_script_agree():
    import shutil
    script = shutil.which("waterfall")
    assert script, "the console script is installed by pip install -e ."
    a = subprocess.run([script, "run", "tieout", "--json"], capture_output=True, text=True, check=True).stdout
    b = cli("run", "tieout", "--json").stdout
    assert json.loads(a)["metrics"] == json.loads(b)["metrics"]


def test_ledger_layout_names_every_line():
    program = waterfall.compile_deal(waterfall.load_deal("benchmark_spv"))
    cols = ledger_columns(program)
    assert len(cols) == ops.n_lines(program.n_tranches, program.n_accounts, program.n_fees)
    assert "mezzanine.interest_paid" in cols and "dsra.balance_close" in cols


def test_without_the_kernel_the_reference_runs_with_one_warning():
    import os
    env = dict(os.environ, WATERFALL_NO_KERNEL="1")
    proc = subprocess.run([sys.executable, "-m", "waterfall", "run", "tieout", "--scenario",
                           "tenant-half-pay", "--json"], capture_output=True, text=True, env=env)
    assert proc.returncode == 0
    warnings = [line for line in proc.stderr.splitlines() if line.strip()]
    assert len(warnings) == 1 and warnings[0].startswith("warning: compiled kernel not built")
    fallback = json.loads(proc.stdout)
    assert fallback["engine"] == "reference"
    compiled = json.loads(cli("run", "tieout", "--scenario", "tenant-half-pay", "--json").stdout)
    for key, value in compiled["metrics"].items():
        if isinstance(value, float):
            assert fallback["metrics"][key] == pytest.approx(value, abs=1e-9)
        else:
            assert fallback["metrics"][key] == value


@pytest.mark.parametrize("args", [
    ("run", "tieout", "--csv", "/proc/no-such-dir/cf.csv"),
    ("run", "tieout", "--plot", "/proc/no-such-dir"),
    ("portfolio", "--csv", "/proc/no-such-dir/p.csv"),
])
def test_unwritable_output_is_bad_input(args):
    proc = cli(*args, check=False)
    assert proc.returncode == 2, proc.stderr
    assert "/proc/no-such-dir" in proc.stderr and "Traceback" not in proc.stderr


def test_csv_output_creates_its_folder(tmp_path):
    path = tmp_path / "new" / "cf.csv"
    cli("run", "tieout", "--csv", str(path))
    assert path.exists() and not list(path.parent.glob(".*"))  # no temporary file left
