"""Regression tests for defects measured on main (one section per defect). Each test
failed on the code before its fix. Command-line tests run the CLI in a subprocess."""
from __future__ import annotations

import ast
import copy
import json
import math
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import waterfall
from waterfall import ops
from waterfall.load import deal_from_data, read_document

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "waterfall"
TIEOUT = ROOT / "deals" / "examples" / "tieout.toml"


def cli(*args, env=None):
    return subprocess.run([sys.executable, "-m", "waterfall", *args], capture_output=True, text=True,
                          cwd=ROOT, env=env)


def python(script: str, env=None):
    """A small script in a fresh interpreter (no monkeypatching of this process)."""
    return subprocess.run([sys.executable, "-c", textwrap.dedent(script)], capture_output=True, text=True,
                          cwd=ROOT, env=env)


def no_kernel_env():
    return dict(os.environ, WATERFALL_NO_KERNEL="1")


def pik_split_data() -> dict:
    """The tie-out deal split into a 600 senior and a 100 PIK mezzanine: 12% fixed,
    interest always capitalised (payment in kind), bullet at maturity, no default on a
    shortfall; paid after the senior and the DSRA."""
    data = copy.deepcopy(read_document(TIEOUT))
    senior = data["tranches"][0]
    senior["amount"] = 600.0
    mezz = copy.deepcopy(senior)
    mezz.update(name="mezzanine", amount=100.0, rate={"kind": "fixed", "annual": 0.12},
                amortisation={"kind": "bullet"}, capitalise_interest="always", default_on_shortfall=False)
    data["tranches"].append(mezz)
    steps = data["waterfall"]  # interest, principal, reserve (senior), sweep, distribute
    data["waterfall"] = steps[:3] + [{"step": "interest", "tranche": "mezzanine"},
                                     {"step": "principal", "tranche": "mezzanine"}] + steps[3:]
    data["deal"]["name"] = "tieout-pik-split"
    return data


def pik_split():
    return deal_from_data(pik_split_data(), "tieout-pik-split")


def write_json_deal(data: dict, path: Path) -> Path:
    path.write_text(json.dumps(data, default=str))
    return path


# --------------------------------------------------------------------------- 1. sweep without the kernel

def test_sweep_without_the_kernel_falls_back_to_the_reference_with_a_warning(tmp_path):
    """`waterfall sweep` ran the compiled engine unconditionally: without the extension it
    ended in a traceback where `waterfall run` warns and runs the reference."""
    vary = ["--vary", "scenario.tenant_default.period=20,60,100", "--vary",
            "scenario.tenant_default.relet_haircut=0.3,0.9"]
    out = tmp_path / "fallback.csv"
    proc = cli("sweep", "benchmark_spv", *vary, "--out", str(out), env=no_kernel_env())
    assert proc.returncode == 0, proc.stderr
    warnings = [line for line in proc.stderr.splitlines() if line.strip()]
    assert len(warnings) == 1 and warnings[0].startswith("warning: compiled kernel not built"), warnings
    assert out.exists() and "6 points (grid) written to" in proc.stdout
    fallback = pd.read_csv(out)
    assert len(fallback) == 6 and fallback["default_period"].notna().any()  # the default path ran too
    if waterfall.kernel_available():
        expected_path = tmp_path / "compiled.csv"
        compiled = cli("sweep", "benchmark_spv", *vary, "--out", str(expected_path))
        assert compiled.returncode == 0 and "warning" not in compiled.stderr, compiled.stderr
        expected = pd.read_csv(expected_path)
    else:  # pragma: no cover - CI has the kernel
        expected = waterfall.sweep("benchmark_spv", {"scenario.tenant_default.period": [20, 60, 100],
                                                     "scenario.tenant_default.relet_haircut": [0.3, 0.9]},
                                   engine="reference")
    assert list(fallback.columns) == list(expected.columns)
    for column in expected.columns:
        a, b = fallback[column].to_numpy(dtype=float), expected[column].to_numpy(dtype=float)
        assert np.allclose(a, b, rtol=1e-9, atol=1e-9, equal_nan=True), column


def test_sweep_api_runs_without_the_kernel_and_says_which_engine_ran():
    proc = python("""
        from waterfall.sweeps import sweep
        frame = sweep("tieout", {"scenario.tenant_default.period": [8, 16]})
        print(frame.attrs["engine"], len(frame))
    """, env=no_kernel_env())
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.split() == ["reference", "2"]


# --------------------------------------------------------------------------- 2. bad input vs bugs

def test_misspelled_scenario_is_bad_input_naming_it():
    proc = cli("run", "tieout", "--scenario", "tenant-half-payy")
    assert proc.returncode == 2, proc.stderr
    assert "Traceback" not in proc.stderr
    assert "no scenario 'tenant-half-payy' in deal 'tieout'" in proc.stderr
    assert "known: base, renegotiation, tenant-half-pay" in proc.stderr
    sweep = cli("sweep", "tieout", "--scenario", "tenant-half-payy", "--vary",
                "scenario.rent_multiplier.multiplier=0.5,1.0", "--out", "/tmp/never-written.csv")
    assert sweep.returncode == 2 and "tenant-half-payy" in sweep.stderr and "Traceback" not in sweep.stderr


def test_unknown_deal_name_is_bad_input_naming_the_builtin_deals():
    proc = cli("run", "tieoutt")
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    assert proc.stderr.splitlines()[-1].startswith(
        "tieoutt: no deal file and no built-in deal of that name (built-in: ")
    assert "tieout" in proc.stderr and "benchmark_spv" in proc.stderr


def test_an_unknown_name_is_a_deal_error_and_a_key_error():
    deal = waterfall.load_deal("tieout")
    with pytest.raises(waterfall.DealError) as info:
        waterfall.run(deal, "no-such-scenario")
    assert isinstance(info.value, KeyError)
    assert info.value.problems[0][0] == "scenario"
    assert "no scenario 'no-such-scenario' in deal 'tieout'" in str(info.value)


@pytest.mark.parametrize("command, target, error", [
    (["run", "tieout"], "waterfall.engine.run", "KeyError('x')"),
    (["run", "tieout", "--csv", "/tmp/never-written.csv"], "waterfall.engine.run", "FileNotFoundError(2, 'x')"),
    (["sweep", "tieout", "--vary", "scenario.tenant_default.period=4,8", "--out", "{tmp}/s.csv"],
     "waterfall.sweeps.core.scenario_batch", "KeyError('x')"),
])
def test_an_internal_error_is_a_traceback_not_bad_input(tmp_path, command, target, error):
    """A bug (here a function of the engine raising KeyError or OSError) must surface:
    exit status 1 with its traceback, not status 2 dressed up as bad input."""
    module, name = target.rsplit(".", 1)
    argv = [a.replace("{tmp}", str(tmp_path)) for a in command]
    proc = python(f"""
        import importlib, sys
        import waterfall.cli as cli
        def broken(*args, **kwargs):
            raise {error}
        setattr(importlib.import_module({module!r}), {name!r}, broken)
        sys.exit(cli.main({argv!r}))
    """)
    assert proc.returncode == 1, (proc.returncode, proc.stderr)
    assert "Traceback" in proc.stderr and error.split("(")[0] in proc.stderr
    assert not proc.stderr.startswith("error:")


# --------------------------------------------------------------------------- 3, 4. private names

# Imports of private names that remain in files the step-registry rewrite owns (it
# removes them): (importing module, imported module, name). None remain at present.
REGISTRY_REWRITE_PENDING: set[tuple[str, str, str]] = set()


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _private(name: str) -> bool:
    return name.startswith("_") and not (name.startswith("__") and name.endswith("__"))


def _is_kernel(module: str) -> bool:
    return module == "waterfall._kernel" or module.startswith("waterfall._kernel.")


def private_cross_module_uses() -> list[tuple[str, str, str, int]]:
    """(module, other waterfall module, private name, line) for every `from X import _y`,
    `from X._m import y`, `import waterfall._m` and `mod._y` (mod an imported waterfall
    module or object) in waterfall/, except the compiled kernel (`waterfall._kernel`)."""
    found = []
    for path in sorted(PACKAGE.rglob("*.py")):
        me = _module_name(path)
        package = me if path.name == "__init__.py" else me.rsplit(".", 1)[0]
        tree = ast.parse(path.read_text(encoding="utf-8"))
        bound: dict[str, str] = {}
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom):
                if node.level:
                    base = package.split(".")[: len(package.split(".")) - (node.level - 1)]
                    target = ".".join(base + ([node.module] if node.module else []))
                else:
                    target = node.module or ""
                if not (target == "waterfall" or target.startswith("waterfall.")):
                    continue
                for alias in node.names:
                    full = f"{target}.{alias.name}"
                    bound[alias.asname or alias.name] = full
                    if target == me or _is_kernel(full) or _is_kernel(target):
                        continue
                    if any(_private(p) for p in target.split(".")):
                        found.append((me, target, alias.name, node.lineno))
                    elif _private(alias.name):
                        found.append((me, target, alias.name, node.lineno))
            elif isinstance(node, ast.Import):
                for alias in node.names:
                    if alias.name.startswith("waterfall") and not _is_kernel(alias.name) \
                            and any(_private(p) for p in alias.name.split(".")):
                        found.append((me, alias.name, alias.name.rsplit(".", 1)[-1], node.lineno))
                    if alias.name.startswith("waterfall"):
                        bound[alias.asname or alias.name.split(".")[0]] = alias.name if alias.asname else "waterfall"
        for node in ast.walk(tree):
            if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) \
                    and node.value.id in bound and _private(node.attr):
                other = bound[node.value.id]
                if other != me and not _is_kernel(other) and node.attr != "_kernel":
                    found.append((me, other, node.attr, node.lineno))
    return found


def test_no_module_imports_a_private_name_of_another():
    """A leading underscore means 'this module's own': another module of the package
    must not import it (engine._deal/_scenario, compile._balance_at_amortisation /
    _base_per_rate, load._validate, errors._NO_VALUE, sweeps.runner._as_deal, the
    output._files module, ...). The compiled kernel (waterfall._kernel) is the exception."""
    found = [f"{me}:{line}: {name} from {other}" for me, other, name, line in private_cross_module_uses()
             if (me, other, name) not in REGISTRY_REWRITE_PENDING]
    assert not found, "\n".join(found)


def test_the_scanner_sees_each_kind_of_private_import(tmp_path, monkeypatch):
    """The test above would catch what it is meant to."""
    pkg = tmp_path / "waterfall"
    (pkg / "sub").mkdir(parents=True)
    (pkg / "__init__.py").write_text("")
    (pkg / "sub" / "__init__.py").write_text("")
    (pkg / "a.py").write_text("from .engine import _deal\nfrom . import _kernel\nfrom ._kernel import run\n")
    (pkg / "sub" / "b.py").write_text("from ..compile import _base_per_rate\nfrom ._files import x\n"
                                      "from .. import engine\nengine._scenario(1, 2)\n")
    monkeypatch.setattr(sys.modules[__name__], "ROOT", tmp_path)
    monkeypatch.setattr(sys.modules[__name__], "PACKAGE", pkg)
    found = {(me, other, name) for me, other, name, _ in private_cross_module_uses()}
    assert found == {("waterfall.a", "waterfall.engine", "_deal"),
                     ("waterfall.sub.b", "waterfall.compile", "_base_per_rate"),
                     ("waterfall.sub.b", "waterfall.sub._files", "x"),
                     ("waterfall.sub.b", "waterfall.engine", "_scenario")}


def test_schedule_helpers_are_public_and_compile_uses_the_same_ones():
    """structural.py imported compile.py's private helpers (compile.py reaches
    scenarios/ through scenarios.lease): both now take them from schedules.py."""
    from waterfall import schedules
    from waterfall.scenarios import structural

    tree = ast.parse((PACKAGE / "scenarios" / "structural.py").read_text())
    from_compile = {a.name for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)
                    and n.module == "compile" for a in n.names}
    assert from_compile <= {"compile_deal"}
    assert structural.balance_at_amortisation is schedules.balance_at_amortisation
    assert structural.base_per_rate is schedules.base_per_rate
    compile_src = ast.parse((PACKAGE / "compile.py").read_text())
    defined = {n.name for n in compile_src.body if isinstance(n, ast.FunctionDef)}
    assert not defined & {"_balance_at_amortisation", "_base_per_rate"}
    # a sculpted deal under a construction delay keeps its debt as compiled on the original
    from waterfall.compile import compile_deal

    deal = waterfall.load_deal("vantage_frontier")
    program = compile_deal(deal)
    changed = structural.apply_structural(deal, deal.scenario("construction-delay"))
    k = next(k for k, t in enumerate(deal.tranches) if t.amortisation.kind == "sculpted")
    frozen = changed.tranches[k]
    assert frozen.amortisation.kind == "custom" and frozen.amount == pytest.approx(program.amounts[k])
    balance, start = schedules.balance_at_amortisation(
        deal.tranches[k], program.draw[k], program.capitalise[k],
        schedules.base_per_rate(program.base_rate, program.is_floating, program.fixed_rate, program.spread,
                                program.floor, program.accrual)[k], program.cod_period)
    shares = frozen.amortisation.shares
    assert np.allclose(np.array(shares) * balance, program.sched[k, start:start + len(shares)], rtol=1e-12)


# --------------------------------------------------------------------------- 5. per-tranche loss

def _cases():
    """(deal, scenario) pairs: every scenario of some built-in deals, presets, tenant
    defaults, and the PIK split."""
    from waterfall.scenarios.presets import preset_names
    out = []
    for name in ("tieout", "benchmark_spv", "abilene", "vantage_frontier"):
        deal = waterfall.load_deal(name)
        out += [(deal, s.name) for s in deal.scenarios]
        out += [(deal, p) for p in preset_names()[:4]]
    deal = pik_split()
    out += [(deal, waterfall.Scenario(name=f"td{p}-{h}", adjustments=[
        {"kind": "tenant_default", "period": p, "relet_haircut": h}]))
        for p in (4, 16, 30) for h in (0.3, 0.5, 1.0)]
    return out


def test_tranche_losses_sum_to_the_engines_lender_loss():
    """metrics.tranche_losses, the one definition: summed over tranches it is the
    engine's lender_loss (lender_claim - lender_received), in every case; with the
    exposure and recovery it is split from, lender_claim and lender_received."""
    from waterfall.metrics import tranche_default_split, tranche_losses

    defaults = capitalised_at_default = 0
    for deal, scenario in _cases():
        result = waterfall.run(deal, scenario)
        m = result.metrics
        split = tranche_default_split(result.program, result.ledger, m["default_period"])
        losses = tranche_losses(result.program, result.ledger, m["default_period"])
        assert losses.shape == (result.program.n_tranches,)
        assert np.array_equal(losses, split["loss"])
        assert math.isclose(losses.sum(), m["lender_loss"], rel_tol=1e-12, abs_tol=1e-9), (deal.name, scenario)
        if m["default_period"] is None:
            assert not split["exposure"].any() and not losses.any()
            continue
        defaults += 1
        d = m["default_period"]
        capitalised_at_default += any(result.ledger[d, ops.tranche_col(k, "interest_capitalised")] > 0
                                      for k in range(result.program.n_tranches))
        assert math.isclose(split["exposure"].sum(), m["lender_claim"], rel_tol=1e-12)
        assert math.isclose(split["recovery"].sum(), m["lender_received"], rel_tol=1e-12, abs_tol=1e-9)
        assert np.allclose(np.maximum(split["exposure"] - split["recovery"], 0.0), losses, rtol=1e-12, atol=1e-9)
    assert defaults >= 10 and capitalised_at_default >= 3  # the cases the old sweep got wrong are here


def test_tranche_losses_of_a_batch_match_one_by_one():
    from waterfall.compile import compile_deal, compile_scenarios
    from waterfall.engine import run_program
    from waterfall.metrics import tranche_losses

    deal = pik_split()
    program = compile_deal(deal)
    scens = [waterfall.Scenario(name=f"{p}", adjustments=[{"kind": "tenant_default", "period": p,
                                                           "relet_haircut": 0.5}]) for p in range(1, 41, 3)]
    ledgers, met, _ = run_program(program, compile_scenarios(scens, program), ledgers=True, engine="auto")
    dp = met[:, ops.M["default_period"]]
    batch = tranche_losses(program, ledgers, dp)
    assert batch.shape == (len(scens), 2)
    assert np.allclose(batch.sum(axis=1), met[:, ops.M["lender_loss"]], rtol=1e-12, atol=1e-9)
    for s in range(len(scens)):
        one = tranche_losses(program, ledgers[s], None if dp[s] < 0 else int(dp[s]))
        assert np.array_equal(one, batch[s])


def test_pik_split_tranche_losses_in_the_sweep_and_the_portfolio_agree():
    """The 600 senior / 100 PIK mezzanine tie-out, tenant default in quarter 16 with rent
    re-let at half: the lenders lose 305.30 (default at maturity, quarter 40). The sweep's
    tranche losses summed to 314.80: they counted the mezzanine's capitalised interest
    (9.50 that quarter, in its balance and so in its write-off) a second time."""
    deal = pik_split()
    frame = waterfall.sweep(deal, {"scenario.tenant_default.period": [16],
                                   "scenario.tenant_default.relet_haircut": [0.5]})
    row = frame.iloc[0]
    assert row["default_period"] == 40
    assert row["lender_loss"] == pytest.approx(305.3019278274613, abs=1e-6)
    assert row["loss_senior"] + row["loss_mezzanine"] == pytest.approx(row["lender_loss"], abs=1e-9)

    from waterfall.commands.portfolio import tranche_exposures
    from waterfall.metrics import tranche_losses
    result = waterfall.run(deal, waterfall.Scenario(name="td16", adjustments=[
        {"kind": "tenant_default", "period": 16, "relet_haircut": 0.5}]))
    capitalised = result.ledger[40, ops.tranche_col(1, "interest_capitalised")]
    assert capitalised == pytest.approx(314.80 - 305.30, abs=0.01)  # what the old sweep counted twice
    engine = tranche_losses(result.program, result.ledger, result.metrics["default_period"])
    portfolio = [t["loss"] for t in tranche_exposures(result)]
    assert np.allclose([row["loss_senior"], row["loss_mezzanine"]], engine, rtol=0, atol=1e-9)
    assert np.allclose(portfolio, engine, rtol=0, atol=1e-9)
    assert result.metrics["lender_loss"] == pytest.approx(row["lender_loss"], abs=1e-9)


def test_pik_split_sweep_from_the_command_line(tmp_path):
    path = write_json_deal(pik_split_data(), tmp_path / "split.json")
    out = tmp_path / "split.csv"
    proc = cli("sweep", str(path), "--vary", "scenario.tenant_default.period=16",
               "--vary", "scenario.tenant_default.relet_haircut=0.5", "--out", str(out), "--quiet")
    assert proc.returncode == 0, proc.stderr
    row = pd.read_csv(out).iloc[0]
    assert row["loss_senior"] + row["loss_mezzanine"] == pytest.approx(305.3019278274613, abs=1e-6)


# --------------------------------------------------------------------------- 6. values workbook

WORKBOOK_CASES = [("tieout", "tenant-half-pay"), ("benchmark_spv", "base"), ("abilene", "refi-closed")]


def _read_cash_flows(path: Path, program):
    import openpyxl
    from waterfall.output.excel import ledger_keys, values_grid

    wb = openpyxl.load_workbook(path)
    formulas = [(ws.title, c.coordinate) for ws in wb.worksheets for row in ws.iter_rows() for c in row
                if c.data_type == "f" or (isinstance(c.value, str) and c.value.startswith("="))]
    ws = wb["Cash flows"]
    grid = values_grid(program)
    cells = {key: [ws.cell(row=grid.row_of(key) + 1, column=grid.col(t) + 1).value
                   for t in range(program.n_periods + 1)] for key in ledger_keys(program)}
    return wb.sheetnames, formulas, cells


@pytest.mark.parametrize("deal_name, scenario", WORKBOOK_CASES)
def test_values_workbook_is_written_without_the_formula_model(tmp_path, deal_name, scenario):
    """`run --xlsx` without --formulas built the formula model anyway (and died on its
    bare assert for a deal it cannot express). Here the formula model cannot even be
    imported: the values workbook is still written, has no formula anywhere, and every
    ledger line equals the engine's."""
    out = tmp_path / "values.xlsx"
    proc = python(f"""
        import sys
        sys.modules["waterfall.output.formulas"] = None   # importing the formula model fails
        from waterfall.cli import main
        status = main(["run", {deal_name!r}, "--scenario", {scenario!r}, "--xlsx", {str(out)!r}])
        assert "waterfall.output.formulas" not in [m for m, v in sys.modules.items() if v is not None]
        sys.exit(status)
    """)
    assert proc.returncode == 0, proc.stderr
    assert f"workbook written to {out}" in proc.stdout
    result = waterfall.run(waterfall.load_deal(deal_name), scenario)
    sheets, formulas, cells = _read_cash_flows(out, result.program)
    assert sheets == ["Summary", "Cash flows", "Scenarios"]
    assert formulas == []
    from waterfall.output.excel import ledger_keys
    for j, key in enumerate(ledger_keys(result.program)):
        engine = result.ledger[:, j]
        got = np.array([math.nan if c in (None, "") else float(c) for c in cells[key]])
        want = np.where(np.isfinite(engine), engine, np.nan)
        assert np.allclose(got, want, rtol=1e-12, atol=0, equal_nan=True), key


def test_values_workbook_from_the_command_line_equals_the_ledger(tmp_path):
    out = tmp_path / "v.xlsx"
    proc = cli("run", "tieout", "--scenario", "tenant-half-pay", "--xlsx", str(out))
    assert proc.returncode == 0, proc.stderr
    result = waterfall.run(waterfall.load_deal("tieout"), "tenant-half-pay")
    _, formulas, cells = _read_cash_flows(out, result.program)
    assert formulas == []
    assert cells["L:t0.write_off"][16] == pytest.approx(result.ledger[16, ops.tranche_col(0, "write_off")])


def test_values_and_formula_workbooks_share_the_cash_flows_columns():
    from waterfall.output import excel, formulas

    for name in ("CF_SHEET", "LABEL_COL", "UNIT_COL", "TOTAL_COL", "FIRST_COL"):
        assert getattr(excel, name) == getattr(formulas, name), name
    deal = waterfall.load_deal("tieout")
    result = waterfall.run(deal)
    from waterfall.compile import compile_scenarios
    model = formulas.build_model(result.program, compile_scenarios([deal.scenario("base")], result.program))
    assert model.cf.first_row == excel.CF_FIRST_ROW
    assert model.ledger_keys == excel.ledger_keys(result.program)
    grid = excel.values_grid(result.program)
    assert sorted(k for k in grid.index if k.startswith("L:")) == sorted(model.ledger_keys)


# --------------------------------------------------------------------------- 7. unfunded extension
# Lighthouse under rates-stay-high: at its first maturity (quarter 16) the extension's DSCR
# paydown is more than the quarter's cash and the one capped cure (docs/credit.md,
# "Extension options"). Before the fix the option was treated as exercised anyway: the
# 0.25% fee (~36.7) charged ahead of principal, the margin stepped up, and the claim and
# PV loss ~36.7 higher. An option whose conditions are not met is not exercised: the
# maturity is what it would be without the option, so every tranche and hedge line and
# the lenders' metrics equal those of the same deal with no extension terms (the
# covenant lines of quarter 16 are tested with the option exercised, before the
# payments, and are not compared).
def test_an_unfunded_extension_leaves_the_maturity_as_without_the_option():
    path = next(p for p in waterfall.load.builtin_deals() if p.stem == "vantage_lighthouse")
    data = copy.deepcopy(read_document(path))
    with_option = waterfall.run(deal_from_data(copy.deepcopy(data), str(path)), "rates-stay-high")
    for tranche in data["tranches"]:
        tranche.pop("extension", None)
    without = waterfall.run(deal_from_data(data, str(path)), "rates-stay-high")
    assert with_option.metrics.default_period == without.metrics.default_period == 16
    assert with_option.metrics.default_cause == "maturity"
    for metric in ("lender_claim", "lender_received", "lender_loss", "lender_loss_pv", "recovery_rate_pv"):
        assert getattr(with_option.metrics, metric) == pytest.approx(getattr(without.metrics, metric),
                                                                     rel=1e-12, abs=1e-9), metric
    a, b = with_option.cash_flows(), without.cash_flows()
    lines = [c for c in a.columns if c.startswith(("lighthouse-facility.", "lighthouse-facility-swap."))]
    assert lines
    for line in lines:
        assert np.allclose(a[line].to_numpy(float), b[line].to_numpy(float), rtol=1e-12, atol=1e-9,
                           equal_nan=True), line
