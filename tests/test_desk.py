"""The analyst's desk (issue 15): what a user at the command line or in a notebook sees.
Each test goes through the real command line (a subprocess) or the public API, and each
failed on the code before the fix (the issue's reproductions)."""
from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

import waterfall

ROOT = Path(__file__).resolve().parents[1]
TIEOUT = (ROOT / "deals" / "examples" / "tieout.toml").read_text()
ENV = {**os.environ, "PYTHONPATH": str(ROOT)}


def cli(*args, cwd=None, env=None, timeout=300):
    return subprocess.run([sys.executable, "-m", "waterfall", *map(str, args)], capture_output=True,
                          text=True, cwd=cwd or ROOT, env=env or ENV, timeout=timeout)


def tieout_variant(tmp_path, old, new, name="variant.toml") -> Path:
    assert old in TIEOUT
    path = tmp_path / name
    path.write_text(TIEOUT.replace(old, new))
    return path


def no_traceback(proc):
    assert "Traceback" not in proc.stderr, proc.stderr


# ------------------------------------------------------------- 1. stresses that change nothing

def test_a_chain_preset_run_alone_says_it_changes_nothing():
    # --direct-only: the preset without the chain; tenant-strategic-default has no direct
    # adjustment, and the run says its figures are the base case's
    proc = cli("run", "abilene", "--scenario", "tenant-strategic-default", "--json", "--direct-only")
    assert proc.returncode == 0, proc.stderr
    out = json.loads(proc.stdout)
    assert len(out["warnings"]) == 1
    warning = out["warnings"][0]
    assert "without the contagion chain" in warning and "direct effect on deal 'abilene' is none" in warning
    assert "waterfall run abilene --scenario tenant-strategic-default" in warning
    assert "warning: direct effects only: preset 'tenant-strategic-default'" in proc.stderr
    # what is printed is the base case (the warning is true)
    base = json.loads(cli("run", "abilene", "--json").stdout)
    assert out["metrics"] == base["metrics"] and base["warnings"] == []


@pytest.mark.parametrize("preset", ["slow-adoption", "key-customer-churn"])
def test_a_chain_preset_runs_the_chain_and_says_so(preset):
    proc = cli("run", "abilene", "--scenario", preset)
    assert proc.returncode == 0 and "Traceback" not in proc.stderr
    assert f"through the contagion chain (the numbers `waterfall portfolio --scenario {preset}` gives)" in proc.stdout


def test_a_chain_preset_on_a_deal_outside_the_graph_warns():
    proc = cli("run", "tieout", "--scenario", "slow-adoption")
    assert proc.returncode == 0 and "acts through the contagion chain" in proc.stderr


def test_a_preset_without_a_chain_does_not_warn():
    out = json.loads(cli("run", "tieout", "--scenario", "rates-stay-high", "--json").stdout)
    assert out["warnings"] == []


# ------------------------------------------------------------- 2. the base case in every batch

@pytest.mark.parametrize("path", sorted(p.stem for p in (ROOT / "deals").rglob("*.toml") if "bad" not in p.parts))
def test_run_batch_starts_with_the_base_case(path):
    deal = waterfall.load_deal(path)
    frame = waterfall.run_batch(deal).metrics
    assert frame["scenario"].iloc[0] == "base"
    assert list(frame["scenario"]).count("base") == 1
    base = waterfall.run(deal, None).metrics
    assert frame["min_dscr"].iloc[0] == pytest.approx(base["min_dscr"], rel=1e-12)
    assert len(frame) == 1 + len([s for s in deal.scenarios if s.name != "base"])


def test_the_scenarios_sheet_has_the_base_case_first(tmp_path):
    import openpyxl

    path = tmp_path / "abilene.xlsx"
    proc = cli("run", "abilene", "--xlsx", path)
    assert proc.returncode == 0, proc.stderr
    sheet = openpyxl.load_workbook(path)["Scenarios"]
    header = next(r for r in sheet.iter_rows(values_only=True) if r and r[0] == "Metric")
    assert header[2] == "base"
    assert "tenant-default" in header


# ------------------------------------------------------------- 3. no tracebacks, Ctrl-C

SLOW_SWEEP = ["sweep", "tieout", "--engine", "reference", "--chunk-size", "40",
              "--vary", "scenario.tenant_default.period=1:40:40",
              "--vary", "scenario.tenant_default.relet_haircut=0:1:100"]


def test_ctrl_c_during_a_sweep_says_what_was_saved_and_the_rerun_resumes(tmp_path):
    out = tmp_path / "s.parquet"
    env = {**ENV, "WATERFALL_PROGRESS_SECONDS": "0"}   # a progress line per chunk
    proc = subprocess.Popen([sys.executable, "-m", "waterfall", *SLOW_SWEEP, "--out", str(out)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env, cwd=ROOT)
    first = proc.stderr.readline()            # a chunk is saved: the sweep is under way
    assert first.startswith("sweep: "), first
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 130, err
    assert "Traceback" not in err and "KeyboardInterrupt" not in err
    assert "of 4,000 points are saved in" in err and "run the same command again" in err
    assert not out.exists()
    saved = int(err.split("interrupted: ")[1].split(" of")[0].replace(",", ""))
    assert saved >= 40
    again = cli(*SLOW_SWEEP, "--out", out, "--quiet")
    assert again.returncode == 0, again.stderr
    import pandas as pd
    assert len(pd.read_parquet(out)) == 4000


def test_ctrl_c_in_another_long_command_exits_130_cleanly():
    proc = subprocess.Popen([sys.executable, "-m", "waterfall", "bench", "--scenarios", "5000",
                             "--reference-sample", "5000"], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, env=ENV, cwd=ROOT)
    # well past the imports (a few seconds on a loaded machine: a SIGINT there is Python's
    # own) and into the reference timing of 5,000 scenarios (the sample is capped at --scenarios),
    # which takes 40 s on an idle machine and minutes on a loaded one
    time.sleep(10)
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == 130, (out, err)
    assert "Traceback" not in err and "interrupted" in err


@pytest.mark.parametrize("flag, value", [("--scenarios", "-5"), ("--scenarios", "0"), ("--threads", "-1"),
                                         ("--repeats", "0"), ("--reference-sample", "0")])
def test_bench_counts_must_be_positive(flag, value):
    proc = cli("bench", flag, value)
    assert proc.returncode == 2, proc.stderr
    no_traceback(proc)
    assert f"argument {flag}: must be at least 1, got {value}" in proc.stderr


@pytest.mark.parametrize("flag", ["--threads", "--chunk-size", "--samples"])
def test_sweep_counts_must_be_positive(flag):
    proc = cli("sweep", "tieout", "--vary", "scenario.rate_shock.bp=0:100:3", flag, "0")
    assert proc.returncode == 2 and f"argument {flag}: must be at least 1" in proc.stderr


# ------------------------------------------------------------- 4. did you mean

def test_a_misspelled_deal_name_is_suggested():
    proc = cli("run", "abilen")
    assert proc.returncode == 2 and "did you mean 'abilene'?" in proc.stderr
    proc = cli("run", "deals/abilen.toml")
    assert proc.returncode == 2 and "no such deal file; did you mean 'deals/abilene.toml'?" in proc.stderr


def test_a_misspelled_scenario_suggests_deal_scenarios_and_presets():
    proc = cli("run", "abilene", "--scenario", "tenant-strategic")
    assert proc.returncode == 2
    assert "did you mean 'tenant-strategic-default'" in proc.stderr
    for preset in ("technology-displaced", "slow-adoption", "regulation"):   # the presets are listed
        assert preset in proc.stderr
    proc = cli("run", "abilene", "--scenario", "slow-adopton")
    assert "did you mean 'slow-adoption'?" in proc.stderr


def test_a_missing_scenario_file_is_reported_as_a_missing_file():
    proc = cli("run", "tieout", "--scenario", "no/such/stress.toml")
    assert proc.returncode == 2
    assert "no/such/stress.toml: no such scenario file" in proc.stderr
    assert "no scenario 'no/such" not in proc.stderr


def test_a_misspelled_preset_in_portfolio_is_suggested():
    proc = cli("portfolio", "--scenario", "rates-stay")
    assert proc.returncode == 2 and "did you mean 'rates-stay-high'?" in proc.stderr


def test_an_unknown_flag_gets_the_subcommand_usage_and_a_suggestion():
    proc = cli("run", "tieout", "--sceanrio", "base")
    assert proc.returncode == 2
    assert proc.stderr.startswith("usage: waterfall run ")
    assert "--sceanrio (did you mean '--scenario'?)" in proc.stderr
    proc = cli("rnu", "tieout")
    assert proc.returncode == 2 and "did you mean 'run'?" in proc.stderr


def test_version():
    proc = cli("--version")
    assert proc.returncode == 0 and proc.stdout.strip() == f"waterfall {waterfall.__version__}"


# ------------------------------------------------------------- 5. accepted in silence

@pytest.mark.parametrize("rate", ["4.5", "6.5", "1.5"])
def test_an_annual_rate_given_as_a_percentage_is_refused_alike(tmp_path, rate):
    path = tieout_variant(tmp_path, "annual = 0.06", f"annual = {rate}")
    proc = cli("run", path)
    assert proc.returncode == 2
    no_traceback(proc)
    assert f"tranches[0].rate.annual: must be an annual rate as a decimal, 0.045 for 4.5%" in proc.stderr
    assert f"(got {rate})" in proc.stderr


def test_a_decimal_rate_below_the_ceiling_runs(tmp_path):
    path = tieout_variant(tmp_path, "annual = 0.06", "annual = 0.045")
    assert cli("run", path).returncode == 0


def test_a_lease_longer_than_the_horizon_is_reported(tmp_path):
    path = tieout_variant(tmp_path, "term_months = 120", "term_months = 180")
    proc = cli("run", path, "--json")
    assert proc.returncode == 0
    # 40 quarters are 120 months; the lease starts at COD (period 1, month 0) and runs 180
    assert "the 180-month lease runs to month 180" in proc.stderr
    assert "horizon ends at month 120" in proc.stderr and "last 60 months of rent are not modelled" in proc.stderr
    assert len(json.loads(proc.stdout)["warnings"]) == 1
    assert "warning" not in cli("run", "tieout").stderr


def test_every_printed_amount_says_the_deals_units(tmp_path):
    path = tieout_variant(tmp_path, 'units = "USD millions"', 'units = "EUR thousands"')
    proc = cli("run", path, "--scenario", "tenant-half-pay")
    assert proc.returncode == 0
    assert "USD" not in proc.stdout
    assert "lender loss (EUR thousands)" in proc.stdout and "equity invested (EUR thousands)" in proc.stdout
    assert json.loads(cli("run", path, "--json").stdout)["units"] == "EUR thousands"
    sweep = cli("sweep", path, "--vary", "scenario.rate_shock.bp=0:100:3")
    assert "amounts in EUR thousands" in sweep.stdout


def test_a_workbook_must_be_named_xlsx(tmp_path):
    proc = cli("run", "tieout", "--xlsx", tmp_path / "out.csv")
    assert proc.returncode == 2 and "must end in .xlsx" in proc.stderr
    assert not (tmp_path / "out.csv").exists()
    proc = cli("portfolio", "--xlsx", tmp_path / "p.csv")
    assert proc.returncode == 2 and "must end in .xlsx" in proc.stderr and not (tmp_path / "p.csv").exists()


def test_plot_takes_a_folder_not_a_png_name(tmp_path):
    proc = cli("run", "tieout", "--plot", tmp_path / "plot.png")
    assert proc.returncode == 2 and "takes a folder" in proc.stderr
    assert not (tmp_path / "plot.png").exists()
    assert cli("run", "tieout", "--plot", tmp_path / "charts").returncode == 0
    assert (tmp_path / "charts" / "dscr.png").is_file()


# ------------------------------------------------------------- 7. progress and feedback

def test_progress_in_a_pipe_is_log_lines_and_quiet_silences_it(tmp_path):
    env = {**ENV, "WATERFALL_PROGRESS_SECONDS": "0"}
    args = ["sweep", "tieout", "--chunk-size", "10", "--vary", "scenario.tenant_default.period=1:40:40",
            "--out", tmp_path / "p.csv"]
    proc = cli(*args, env=env)
    assert proc.returncode == 0, proc.stderr
    lines = [line for line in proc.stderr.splitlines() if line.startswith("sweep: ")]
    # 40 points in chunks of 10: a line after each of the first three and one at the end
    assert lines[0].startswith("sweep: 10 of 40 points (25%)")
    assert lines[-1].startswith("sweep: 40 of 40 points (100%)")
    quiet = cli(*args, "--quiet", env=env)
    assert quiet.returncode == 0 and quiet.stderr == "" and quiet.stdout == ""


def test_a_small_sweep_needs_no_out_and_prints_its_table():
    proc = cli("sweep", "tieout", "--vary", "scenario.tenant_default.period=4:40:7")
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    assert "not written: no --out" in lines[0]
    header = next(i for i, line in enumerate(lines) if line.lstrip().startswith("scenario.tenant_default.period"))
    rows = lines[header + 1:]
    # periods 4, 10, 16, 22, 28, 34, 40: a row each, the tenant default is the default period
    assert [int(r.split()[0]) for r in rows] == [4, 10, 16, 22, 28, 34, 40]
    assert [r.split()[2] for r in rows] == ["4", "10", "16", "22", "28", "34", "40"]


def test_a_large_sweep_without_out_is_refused():
    proc = cli("sweep", "tieout", "--vary", "scenario.rate_shock.bp=0:300:201")
    assert proc.returncode == 2 and "a sweep of 201 points needs --out FILE" in proc.stderr


def test_a_one_dimensional_sweep_with_out_prints_its_table_too(tmp_path):
    proc = cli("sweep", "tieout", "--vary", "scenario.rent_multiplier.multiplier=0.5,1.0", "--out", tmp_path / "o.csv")
    assert proc.returncode == 0 and "written to" in proc.stdout
    assert "min DSCR" in proc.stdout and "1.0 " in proc.stdout.splitlines()[-1] + " "


def test_an_unreachable_dask_scheduler_fails_fast_naming_it(tmp_path):
    with socket.socket() as s:        # a port nothing listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    address = f"tcp://127.0.0.1:{port}"
    out = tmp_path / "d.parquet"
    # the old code waited for distributed's 30 s connect timeout, then failed with a traceback
    proc = cli("sweep", "tieout", "--vary", "scenario.rate_shock.bp=0:300:7", "--out", out,
               "--dask", address, timeout=25)
    assert proc.returncode == 2
    no_traceback(proc)
    assert f"cannot reach the Dask scheduler at {address}" in proc.stderr
    assert not out.exists() and not out.with_name(out.name + ".chunks").exists()


# ------------------------------------------------------------- 8. labels

def test_the_deals_list_has_a_header():
    lines = cli("deals").stdout.splitlines()
    header = lines[0].split("\t")
    assert header[:2] == ["deal", "debt (sum of the tranches' commitments)"]
    abilene = next(line.split("\t") for line in lines if line.startswith("abilene\t"))
    assert len(abilene) == len(header) and abilene[1] == "9,400 USD millions"


def test_the_default_period_says_its_length_and_date():
    text = cli("run", "tieout", "--scenario", "tenant-half-pay").stdout
    # close 2026-01-15, quarterly and unadjusted: period 16 ends 16 quarters later, 2030-01-15
    assert "period 16 (quarter ending 2030-01-15); cause: payment" in text


def test_equity_irr_tells_no_equity_from_wiped_out(tmp_path):
    # oracle_notes_2025 is a corporate slice with no equity paid in
    line = next(line for line in cli("run", "oracle_notes_2025", "--direct-only").stdout.splitlines()
                if line.startswith("equity IRR"))
    assert line.split(None, 2)[2].strip() == "n/a (no equity invested)"
    scen = tmp_path / "no-rent.toml"
    scen.write_text('name = "no-rent"\n[[adjustments]]\nkind = "rent_multiplier"\nmultiplier = 0.0\n')
    proc = cli("run", "tieout", "--scenario", scen)
    assert proc.returncode == 0, proc.stderr
    # no rent from quarter 1: the sponsors' 300 comes back as nothing
    line = next(line for line in proc.stdout.splitlines() if line.startswith("equity IRR"))
    assert "wiped out" in line


def test_portfolio_columns_align_and_keep_whole_lender_names():
    from waterfall.commands.portfolio import portfolio_deals

    proc = cli("portfolio", "--scenario", "technology-displaced")
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    for deal in portfolio_deals():
        for tranche in deal.tranches:
            for lender in tranche.lenders:
                assert any(line.startswith(lender + "  ") for line in lines), lender
    head = next(i for i, line in enumerate(lines) if line.startswith("deal "))
    block = lines[head:head + 2 + len(portfolio_deals()) + 1]
    assert len({len(line) for line in block}) == 1      # every row as wide as the header
    abilene = next(line for line in lines if line.startswith("abilene "))
    assert "no equity" not in abilene and "%" in abilene
    assert "no equity" in next(line for line in lines if line.startswith("oracle_notes_2025 "))


def test_the_monte_carlo_table_prints_probabilities_as_percentages():
    proc = cli("sweep", "tieout", "--samples", "50", "--seed", "3",
               "--vary", "scenario.tenant_default.period=uniform:4:40",
               "--vary", "scenario.tenant_default.relet_haircut=0:0.9")
    assert proc.returncode == 0, proc.stderr
    row = next(line for line in proc.stdout.splitlines() if line.startswith("deal "))
    assert row.split()[2].endswith("%")


# ------------------------------------------------------------- 9. notebooks

def test_short_reprs_and_html_views():
    deal = waterfall.load_deal("abilene")
    result = waterfall.run(deal, "tenant-default")
    batch = waterfall.run_batch(deal)
    from waterfall.commands.portfolio import run_portfolio
    portfolio = run_portfolio("base")
    for obj in (deal, result, batch, portfolio):
        assert len(repr(obj)) < 300, repr(obj)[:400]
        assert "<table" in obj._repr_html_()
    assert repr(result).startswith("<Result 'abilene' / 'tenant-default'")
    assert "base" in batch._repr_html_()


def test_html_escapes_text_from_the_deal(tmp_path):
    path = tieout_variant(tmp_path, 'tenant = "Tenant"', 'tenant = "<script>x</script>"')
    html = waterfall.load_deal(path)._repr_html_()
    assert "<script>" not in html and "&lt;script&gt;" in html


def test_metrics_are_read_only_with_attributes_a_series_and_dict_use():
    m = waterfall.run("tieout", "tenant-half-pay").metrics
    assert m.default_period == m["default_period"] == 16
    assert m.get("min_dscr") == m.min_dscr and "lender_loss" in m
    assert isinstance(m, dict) and json.loads(json.dumps(m))["default_period"] == 16
    with pytest.raises(TypeError):
        m["min_dscr"] = 2.0
    with pytest.raises(TypeError):
        m.min_dscr = 2.0
    with pytest.raises(TypeError):
        m.update(min_dscr=2.0)
    with pytest.raises(AttributeError, match="no metric 'dscr_min'"):
        m.dscr_min
    s = m.to_series()
    assert s["default_period"] == 16 and s["wal_senior"] == m["wal_years"]["senior"]
    import copy
    import pickle
    assert copy.deepcopy(m) == m and pickle.loads(pickle.dumps(m)) == m
    for name in waterfall.ops.METRICS:
        assert name in type(m).__annotations__


def test_writers_are_exported_and_reachable_from_a_result(tmp_path):
    import openpyxl

    assert callable(waterfall.write_workbook) and callable(waterfall.write_plots)
    assert callable(waterfall.breakeven) and callable(waterfall.loss_distribution)
    deal = waterfall.load_deal(tieout_variant(tmp_path, 'name = "tieout"', 'name = "my_copy"'))
    result = waterfall.run(deal, "tenant-half-pay")     # a deal no built-in name resolves to
    path = result.to_excel(tmp_path / "r.xlsx")
    summary = {r[0]: r[1] for r in openpyxl.load_workbook(path)["Summary"].iter_rows(values_only=True) if r[0]}
    assert summary["Default period"] == 16
    assert sorted(p.name for p in result.plot(tmp_path / "charts")) == ["balances.png", "cash_flows.png", "dscr.png"]
    # the pack: from the result (its own run reused, the copy's name on the page) and the package
    page = result.report(tmp_path / "r.html").read_text()
    assert "my_copy: credit committee pack" in page and "tenant-half-pay" in page
    assert callable(waterfall.write_report) and callable(waterfall.build_pack)
    pack = waterfall.build_pack(deal, "tenant-half-pay", result=result)
    assert pack.result is result and pack.result.metrics["default_period"] == 16


def test_api_errors_do_not_name_command_line_flags():
    from waterfall.sweeps import PathError
    with pytest.raises(PathError) as info:
        waterfall.sweep("tieout", {"tranches.senior.rate.flor": [0.0, 0.01]})
    assert "--" not in str(info.value) and "tranches.senior.rate.flor" in str(info.value)
    proc = cli("sweep", "tieout", "--vary", "tranches.senior.rate.flor=0:0.01:2")
    assert proc.returncode == 2 and "error: --vary tranches.senior.rate.flor:" in proc.stderr


# ------------------------------------------------------------- 10. docs

def test_every_top_level_deal_field_is_described():
    from waterfall.model import Deal

    schema = Deal.model_json_schema()
    for name in Deal.model_fields:
        assert schema["properties"][name].get("description"), name
    funding = schema["properties"]["funding"]["description"]
    assert all(value in funding for value in ("'at_close'", "'pro_rata'", "'equity_first'"))
    assert "cost less the debt" in schema["properties"]["equity"]["description"]
    maturity = schema["$defs"]["Tranche"]["properties"]["maturity_period"]["description"]
    assert "financial close" in maturity and "not from COD" in maturity


def test_docs_point_only_at_files_in_the_repository():
    import re
    for doc in [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]:
        text = doc.read_text()
        assert "shared/context" not in text, doc
        for link in re.findall(r"\]\(([^)#:]+)\)", text):
            assert (doc.parent / link).exists(), f"{doc.name} links to {link}, which is not in the repository"
