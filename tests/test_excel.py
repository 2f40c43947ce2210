"""Excel output: the values workbook for every built-in deal, the --formulas workbook
recalculated headless by LibreOffice against the engine (tie-out to relative 1e-9),
recalculation after a changed input, safe text, atomic writes, the CLI."""
from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import openpyxl
import pytest

import waterfall
from waterfall.cli import main
from waterfall.compile import compile_scenarios
from waterfall.load import builtin_deals
from waterfall.output import excel, formulas
from waterfall.output.excel import FormulaTieOutError, write_workbook
from waterfall.output.formulas import (
    CF_SHEET, IN_SHEET, build_model, check_against, close, unsupported,
)
from waterfall.output.recalc import recalculate, recalculate_many, soffice

TIEOUT = "deals/examples/tieout.toml"
ROOT = Path(__file__).resolve().parent.parent
needs_lo = pytest.mark.skipif(soffice() is None, reason="LibreOffice (soffice) is not installed")


def _tieout():
    return waterfall.load_deal(ROOT / TIEOUT)


def _model(deal, result):
    from waterfall.scenarios import prepare
    _, lowered = prepare(deal, deal.scenario(result.scenario))
    return build_model(result.program, compile_scenarios([lowered], result.program))


def _error_cells(wb) -> list:
    bad = []
    for ws in wb.worksheets:
        for row in ws.iter_rows():
            for cell in row:
                if isinstance(cell.value, str) and cell.value.startswith("#") and cell.value.endswith(("!", "?", "A")):
                    bad.append((ws.title, cell.coordinate, cell.value))
    return bad


def _ledger_rows(ws, model, result):
    """(column name, engine values, cell values) for every ledger line of the sheet."""
    from waterfall.results import ledger_columns
    grid = model.cf
    out = []
    for j, (column, key) in enumerate(zip(ledger_columns(result.program), model.ledger_keys)):
        if key not in grid.index:   # a line the deal does not use (taxes when off): absent, and zero
            assert not np.asarray(result.ledger)[:, j].any(), column
            continue
        r = grid.row_of(key) + 1
        cells = [ws.cell(row=r, column=grid.col(t) + 1).value for t in range(grid.n + 1)]
        out.append((column, result.ledger[:, j], cells))
    return out


def _assert_ties_out(rows, what=""):
    bad = [(column, t, float(engine[t]), cells[t]) for column, engine, cells in rows
           for t in range(len(cells)) if not close(float(engine[t]), cells[t])]
    assert not bad, f"{what}: {len(bad)} cells differ, e.g. {bad[:5]}"


# --------------------------------------------------------------------------- values

@pytest.mark.parametrize("path", builtin_deals(), ids=lambda p: p.stem)
def test_values_workbook_for_every_builtin_deal(tmp_path, path):
    deal = waterfall.load_deal(path)
    result = waterfall.run(deal)
    out = write_workbook(result, tmp_path / "deal.xlsx", deal=deal)
    wb = openpyxl.load_workbook(out)
    assert wb.sheetnames == ["Summary", "Cash flows", "Scenarios"]
    assert not _error_cells(wb)
    ws = wb[CF_SHEET]
    assert ws.freeze_panes == "D7"
    grid = excel.values_grid(result.program)
    for j, key in enumerate(excel.ledger_keys(result.program)):
        r = grid.row_of(key) + 1
        cells = [ws.cell(row=r, column=grid.col(t) + 1).value for t in range(grid.n + 1)]
        engine = result.ledger[:, j]
        assert all(close(float(e), c if c is not None else (math.nan if math.isnan(e) else 0.0))
                   for e, c in zip(engine, cells)), key
    # Scenarios: a column per scenario, metrics as rows, in an Excel table
    sc = wb["Scenarios"]
    assert "ScenarioMetrics" in sc.tables
    names = [c.value for c in sc[3][2:]]
    assert names == ["base"] + [s.name for s in deal.scenarios if s.name != "base"]  # the base case first
    assert "Metrics" in wb["Summary"].tables


def test_values_workbook_metrics_and_formats(tmp_path):
    deal = _tieout()
    result = waterfall.run(deal, "tenant-half-pay")
    wb = openpyxl.load_workbook(write_workbook(result, tmp_path / "v.xlsx"))
    summary = {row[0]: row[1] for row in wb["Summary"].iter_rows(values_only=True) if row[0]}
    m = result.metrics
    assert close(summary["Minimum DSCR"], m["min_dscr"])
    assert summary["Default period"] == 16
    assert close(summary["Recovery rate"], m["recovery_rate"])
    assert close(summary["Equity IRR (annualised)"], m["equity_irr"])
    ws = wb[CF_SHEET]
    labels = {ws.cell(row=r, column=1).value: r for r in range(1, ws.max_row + 1)}
    from waterfall.output.labels import GLOBAL_LABELS
    assert ws.cell(row=labels[GLOBAL_LABELS["dscr"]], column=6).number_format == '0.00"x"'
    assert "#,##0.000" in ws.cell(row=labels["Revenue"], column=6).number_format
    batch = waterfall.run_batch(deal).metrics
    sc = wb["Scenarios"]
    row = next(r for r in sc.iter_rows(values_only=True) if r[0] == "Equity IRR (annualised)")
    assert all(close(a, b) for a, b in zip(row[2:], batch["equity_irr"]))


# --------------------------------------------------------------------------- formulas (no LibreOffice)

@pytest.mark.parametrize("scenario", ["base", "renegotiation", "tenant-half-pay"])
def test_formula_model_reproduces_the_engine(scenario):
    deal = _tieout()
    for engine in ("compiled", "reference"):
        if engine == "compiled" and not waterfall.kernel_available():
            continue
        result = waterfall.run(deal, scenario, engine=engine)
        assert check_against(_model(deal, result), result.ledger) == []


@pytest.mark.parametrize("path", builtin_deals(), ids=lambda p: p.stem)
def test_formula_model_on_builtin_deals(tmp_path, capsys, path):
    """Every scenario of every built-in deal: the formulas reproduce the engine's ledger,
    or (a feature the formulas do not model) the CLI refuses --formulas, saying why."""
    deal = waterfall.load_deal(path)
    for scen in [deal.scenario("base")] + list(deal.scenarios):
        result = waterfall.run(deal, scen)
        problems = unsupported(result.program)
        if problems:
            out = tmp_path / f"{scen.name}.xlsx"
            assert main(["run", str(path), "--scenario", scen.name, "--xlsx", str(out), "--formulas"]) == 2
            err = capsys.readouterr().err
            assert (f"error: the formulas do not reproduce the engine for '{result.deal_name}' / "
                    f"'{result.scenario}':") in err
            assert all(problem in err for problem in problems[:20]), err
            assert not out.exists()
            continue
        assert check_against(_model(deal, result), result.ledger) == [], scen.name


def _exit_deal(tmp_path) -> Path:
    """The tie-out deal with a coupon step-up at period 20, a salvage value and an exit
    (the assets sold at the last period)."""
    text = (ROOT / TIEOUT).read_text()
    for old, new in (('salvage = 0.0 }', 'salvage = 0.3 }'),
                     ('rate = { kind = "fixed", annual = 0.06 }',
                      'rate = { kind = "fixed", annual = 0.06, steps = [[20, 0.07]] }'),
                     ('[equity]', '[exit]\nvalue_share = 0.9\ncost_share = 0.02\n\n[equity]'),
                     ('name = "tieout"', 'name = "tieout-exit"')):
        assert old in text, old
        text = text.replace(old, new)
    path = tmp_path / "tieout_exit.toml"
    path.write_text(text)
    return path


@pytest.mark.parametrize("scenario", ["base", "tenant-half-pay"])
def test_formula_model_with_step_ups_and_an_exit(tmp_path, scenario):
    deal = waterfall.load_deal(_exit_deal(tmp_path))
    result = waterfall.run(deal, scenario)
    assert unsupported(result.program) == []
    model = _model(deal, result)
    assert check_against(model, result.ledger) == []
    rates = model.cf.values("L:t0.rate")
    if scenario == "base":
        assert rates[19] == 0.06 and rates[20] == 0.07
        assert model.cf.values("L:exit_proceeds")[-1] > 0
    else:   # defaults at period 16: no step-up reached, no exit
        assert rates[15] == 0.06 and sum(model.cf.values("L:exit_proceeds")) == 0


def test_refinancing_is_modelled_in_the_formulas():
    """Deals that refinance at maturity are not refused, and the refinancing shows."""
    for name, scenario, refinanced in (("abilene", "base", True), ("abilene", "refi-closed", False),
                                       ("vantage_frontier", "base", True),
                                       ("vantage_frontier", "refi-closed", False)):
        deal = waterfall.load_deal(ROOT / "deals" / f"{name}.toml")
        result = waterfall.run(deal, scenario)
        assert unsupported(result.program) == []
        model = _model(deal, result)
        assert check_against(model, result.ledger) == []
        flags = [v for k in range(result.program.n_tranches) if f"t{k}.refi" in model.cf.index
                 for v in model.cf.values(f"t{k}.refi")]
        assert flags and (max(flags) == 1.0) == refinanced, (name, scenario)
        # the decision is a live formula over the Inputs market-open cell of its period
        k = next(k for k in range(result.program.n_tranches) if f"t{k}.refi" in model.cf.index)
        t = int(result.program.maturity[k])
        assert model.inputs.ref("refi_open", t, qualified=True).f in model.cf.cells[(f"t{k}.refi", t)].f


def test_formulas_workbook_has_live_formulas(tmp_path):
    deal = _tieout()
    result = waterfall.run(deal, "tenant-half-pay")
    out = write_workbook(result, tmp_path / "f.xlsx", formulas=True)
    wb = openpyxl.load_workbook(out)
    assert wb.sheetnames == ["Summary", "Cash flows", "Inputs", "Scenarios"]
    ws = wb[CF_SHEET]
    formulas = [c.value for row in ws.iter_rows(min_row=7, min_col=4) for c in row
                if isinstance(c.value, str) and c.value.startswith("=")]
    assert len(formulas) > 40 * 30
    assert any("Inputs!" in f for f in formulas)
    assert any("MIN(" in f for f in formulas)
    summary = [c.value for row in wb["Summary"].iter_rows() for c in row if isinstance(c.value, str)]
    assert any(v.startswith("=IF(AND(COUNTIF(") and ",IFERROR((1+IFERROR(IRR(" in v for v in summary)


def test_unsupported_deal_is_refused_and_nothing_written(tmp_path, monkeypatch):
    deal = _tieout()
    result = waterfall.run(deal)
    monkeypatch.setattr(formulas, "unsupported", lambda program: ["not modelled"])
    with pytest.raises(FormulaTieOutError):
        write_workbook(result, tmp_path / "f.xlsx", formulas=True)
    assert list(tmp_path.iterdir()) == []


def test_cli_refuses_an_unsupported_deal_saying_why(tmp_path, monkeypatch, capsys):
    """The branch test_formula_model_on_builtin_deals takes for a deal the formulas do not
    model: exit status 2, the precise reason on stderr, no file."""
    monkeypatch.setattr(formulas, "unsupported", lambda program: ["step 9: step kind 42 is not modelled in formulas"])

    def cannot_build(*args, **kwargs):  # what the formula model does with a step it cannot express
        raise AssertionError("the formula model was built for an unsupported deal")
    monkeypatch.setattr(formulas, "build_model", cannot_build)
    out = tmp_path / "f.xlsx"
    assert main(["run", "abilene", "--scenario", "refi-closed", "--xlsx", str(out), "--formulas"]) == 2
    err = capsys.readouterr().err
    assert ("error: the formulas do not reproduce the engine for 'abilene' / 'refi-closed':\n"
            "  step 9: step kind 42 is not modelled in formulas") in err
    assert not out.exists()


def test_failed_write_leaves_nothing(tmp_path, monkeypatch):
    deal = _tieout()
    result = waterfall.run(deal)
    target = tmp_path / "w.xlsx"
    target.write_bytes(b"old")

    def boom(*args, **kwargs):
        raise RuntimeError("disk full")
    monkeypatch.setattr(excel, "_write_scenarios", boom)
    with pytest.raises(RuntimeError):
        write_workbook(result, target)
    assert target.read_bytes() == b"old"
    assert [p.name for p in tmp_path.iterdir()] == ["w.xlsx"]


# --------------------------------------------------------------------------- safe text

def _evil_deal(tmp_path) -> Path:
    text = (ROOT / TIEOUT).read_text()
    evil = '=HYPERLINK(\\"http://x\\",\\"y\\")'   # TOML escapes: =HYPERLINK("http://x","y")
    text = text.replace('name = "senior"', f'name = "{evil}"')
    text = text.replace('tranche = "senior"', f'tranche = "{evil}"')
    text = text.replace('tranches = ["senior"]', f'tranches = ["{evil}"]')
    text = text.replace('name = "tieout"', 'name = "+cmd|calc"')
    text = text.replace('description = "Tie-out deal', 'description = "@SUM(1) Tie-out deal')
    path = tmp_path / "evil.toml"
    path.write_text(text)
    return path


@pytest.mark.parametrize("formulas", [False, True])
def test_names_from_deal_files_never_become_formulas(tmp_path, formulas):
    deal = waterfall.load_deal(_evil_deal(tmp_path))
    assert deal.tranches[0].name.startswith("=HYPERLINK")
    result = waterfall.run(deal, "tenant-half-pay")
    out = write_workbook(result, tmp_path / "evil.xlsx", formulas=formulas, deal=deal)
    wb = openpyxl.load_workbook(out)
    seen = 0
    for ws in wb.worksheets:
        for row in ws.iter_rows():
            for cell in row:
                v = cell.value
                if isinstance(v, str) and ("HYPERLINK" in v or "cmd|calc" in v or "@SUM" in v):
                    seen += 1
                    assert cell.data_type == "s", (ws.title, cell.coordinate, v)
                    if v.startswith(("=", "+", "-", "@")):
                        assert cell.quotePrefix, (ws.title, cell.coordinate)
    assert seen >= 3


# --------------------------------------------------------------------------- LibreOffice tie-out

def _compare_recalculated(original: Path, recalculated: Path) -> tuple[int, list]:
    """Every formula cell: LibreOffice's value against the value cached from the engine;
    every other numeric cell unchanged."""
    formulas = openpyxl.load_workbook(original)
    cached = openpyxl.load_workbook(original, data_only=True)
    lo = openpyxl.load_workbook(recalculated, data_only=True)
    count, bad = 0, []
    for name in formulas.sheetnames:
        for row in formulas[name].iter_rows():
            for cell in row:
                want = cached[name][cell.coordinate].value
                got = lo[name][cell.coordinate].value
                is_formula = cell.data_type == "f"
                if is_formula or isinstance(want, (int, float)):
                    count += is_formula
                    if not close(want, got):
                        bad.append((name, cell.coordinate, cell.value, want, got))
    return count, bad


# Every workbook LibreOffice recalculates below, converted in ONE soffice start (each
# start costs ~4.5 s): --formulas workbooks (the tie-out deal, every built-in deal, stress
# scenarios of the refinancing deals, inputs flexed in the workbook) and the values
# workbook of every built-in deal.
FORMULA_CASES = (
    [("tieout", s) for s in ("base", "renegotiation", "tenant-half-pay")]
    + [(p.stem, "base") for p in builtin_deals() if p.stem != "tieout"]
    + [("abilene", "refi-closed"), ("abilene", "rates-high"), ("abilene", "tenant-default"),
       ("vantage_frontier", "refi-closed"), ("vantage_frontier", "tenant-default"),
       ("oracle_notes_2025", "refi-closed"), ("softbank_bridge", "refi-closed")]
)
FLEX_CASES = ["vantage_frontier-market-closed", "abilene-wider-refi-spread"]


def _deal_path(name: str) -> Path:
    return next(p for p in builtin_deals() if p.stem == name)


def _set_inputs(wb, model, key: str, values: dict) -> None:
    """Overwrite Inputs cells of `key`: {period: value} for a row, {None: value} for a scalar."""
    ws = wb[IN_SHEET]
    for t, value in values.items():
        if t is None:
            r, c = model.scalar_row[key] + 1, 3
        else:
            r, c = model.inputs.row_of(key) + 1, model.inputs.col(t) + 1
        assert isinstance(ws.cell(row=r, column=c).value, (int, float)), (key, t)
        ws.cell(row=r, column=c).value = value


def _flexed_workbooks(tmp: Path) -> dict:
    """An analyst's flex, done in the workbook, and the engine run it must recalculate to."""
    out = {}
    # close the refinancing market at the maturity (Inputs) = the engine's refi-closed scenario
    deal = waterfall.load_deal(_deal_path("vantage_frontier"))
    base, closed = waterfall.run(deal, "base"), waterfall.run(deal, "refi-closed")
    src = write_workbook(base, tmp / "src-market-closed.xlsx", formulas=True, deal=deal)
    model = _model(deal, base)
    k = next(k for k in range(base.program.n_tranches) if f"t{k}.refi" in model.cf.index)
    # the maturity it is refinanced at: quarter 24, after its two extension options
    maturity = int(np.flatnonzero(np.asarray(model.cf.values(f"t{k}.refi")) == 1.0)[0])
    assert maturity == 24
    wb = openpyxl.load_workbook(src)
    _set_inputs(wb, model, "refi_open", {maturity: 0})
    wb.save(tmp / "vantage_frontier-market-closed.xlsx")
    out["vantage_frontier-market-closed"] = (tmp / "vantage_frontier-market-closed.xlsx", deal, closed)
    # widen the refinancing spread of both Abilene loans (Inputs) = the deal with that spread
    path = _deal_path("abilene")
    deal = waterfall.load_deal(path)
    text = path.read_text()
    assert text.count("refinancing = { spread = 0.0275") == 2
    wide_path = tmp / "abilene_wide.toml"
    wide_path.write_text(text.replace("refinancing = { spread = 0.0275", "refinancing = { spread = 0.04"))
    wide_deal = waterfall.load_deal(wide_path)
    base, wide = waterfall.run(deal), waterfall.run(wide_deal)
    assert not math.isclose(base.metrics["equity_irr"], wide.metrics["equity_irr"])
    src = write_workbook(base, tmp / "src-wider-spread.xlsx", formulas=True, deal=deal)
    model = _model(deal, base)
    wb = openpyxl.load_workbook(src)
    for k in range(base.program.n_tranches):
        if f"t{k}.refi_spread" in model.scalar_row:
            _set_inputs(wb, model, f"t{k}.refi_spread", {None: 0.04})
    wb.save(tmp / "abilene-wider-refi-spread.xlsx")
    out["abilene-wider-refi-spread"] = (tmp / "abilene-wider-refi-spread.xlsx", wide_deal, wide)
    return out


# the hand-worked refinancing deal of tests/test_refinancing.py: the new loan bound by LTV
# on the whole SPV's debt (a junior loan shares it), the paydown met by an equity cure; and
# bound by DSCR, the paydown from cash
REFI_CASES = {"refi-ltv-cure/base": ("min_dscr = 1.0, max_ltv = 0.30",
                                     "equity_cure = { max_cures = 1, max_amount = 200.0 }", True),
              "refi-dscr/base": ("min_dscr = 2.0, min_debt_yield = 0.4", "", False)}
# and with extension options instead: the first fails its LTV and is cured by a paydown,
# the second passes, then the balloon defaults
EXT_CASES = {"ext-ltv-cure/base": ("min_dscr = 1.5, max_ltv = 0.3, min_debt_yield = 0.1",
                                   "equity_cure = { max_cures = 1, max_amount = 20.0 }"),
             # the DSCR test failed, restored by a paydown (cured), then passed
             "ext-dscr-cure/base": ("min_dscr = 2.0", "equity_cure = { max_cures = 1, max_amount = 200.0 }"),
             # the LTV paydown 50 more than the 36.5 the quarter leaves after the fee, no cure:
             # the option is not exercised (no fee, no step-up) and the balloon defaults at 20
             "ext-unfunded/base": ("min_dscr = 1.5, max_ltv = 0.3", "")}
# the new loan's terms and the rent in place: a fixed-rate level payment; a floating level
# payment under the market's margin add-on; the appraisal on the rent in place after a
# later rent cut (tests/test_refinancing.py derives each by hand)
# and a sculpted new loan over a lease that ends before its amortisation does (rent in
# quarters 1-36 only: its shape pays 20 a quarter to 36, nothing after; cured shortfall)
TERMS_CASES = ["refi-fixed-level/plain", "refi-float-level/refi-wider", "refi-appraisal/cut-from-21",
               "refi-sculpted/plain"]


def _refinancing_workbooks(tmp: Path) -> dict:
    from tests.test_refinancing import write_deal
    out = {}
    for case, (refi, cure, junior) in REFI_CASES.items():
        deal = waterfall.load_deal(write_deal(tmp, refi, cure, junior, name=case.split("/")[0] + ".toml"))
        result = waterfall.run(deal, "base")
        out[case] = (write_workbook(result, tmp / f"f-{case.split('/')[0]}.xlsx", formulas=True, deal=deal),
                     deal, result)
    from tests import test_refinancing as tr
    plain = {"name": "plain", "adjustments": []}
    terms = {"refi-fixed-level/plain": (tr.terms_deal(tmp, tr.FIXED_LEVEL, name="fl.toml"), plain),
             "refi-float-level/refi-wider": (tr.terms_deal(tmp, tr.FLOAT_SL.replace(
                 "min_dscr", 'amortisation = "level_payment", min_dscr'), name="fv.toml"), tr.WIDER),
             "refi-appraisal/cut-from-21": (tr.appraisal_deal(tmp, "min_dscr = 1.0, max_ltv = 0.40", name="ap.toml"),
                                            tr.CUT_LATER),
             "refi-sculpted/plain": (tr.terms_deal(tmp, tr.FIXED_LEVEL.replace("level_payment", "sculpted"),
                                                   name="sc.toml", lease_months=108,
                                                   cure="equity_cure = { max_cures = 1, max_amount = 100.0 }"),
                                     plain)}
    for case, (path, scenario) in terms.items():
        # the scenario goes into the deal file, so the workbook and its checks find it by name
        adjustments = ", ".join("{ " + ", ".join(f"{k} = {v!r}" if isinstance(v, str) else f"{k} = {v}"
                                                 for k, v in adj.items()) + " }"
                                for adj in scenario["adjustments"]).replace("'", '"')
        path.write_text(path.read_text() + f'\n[[scenarios]]\nname = "{scenario["name"]}"\n'
                        f'description = "test case"\nadjustments = [{adjustments}]\n')
        deal = waterfall.load_deal(path)
        result = waterfall.run(deal, scenario["name"])
        out[case] = (write_workbook(result, tmp / f"f-{case.split('/')[0]}.xlsx", formulas=True, deal=deal),
                     deal, result)
    from tests.test_refinancing import EXT, extension_deal
    for case, (tests, cure) in EXT_CASES.items():
        deal = waterfall.load_deal(extension_deal(tmp, EXT.format(tests=tests), cure, name=case.split("/")[0] + ".toml"))
        result = waterfall.run(deal, "base")
        out[case] = (write_workbook(result, tmp / f"f-{case.split('/')[0]}.xlsx", formulas=True, deal=deal),
                     deal, result)
    return out


@pytest.fixture(scope="module")
def recalculated(tmp_path_factory):
    """{case: (written workbook, LibreOffice's recalculated copy, deal, engine result)}."""
    if soffice() is None:
        pytest.skip("LibreOffice (soffice) is not installed")
    tmp = tmp_path_factory.mktemp("lo-batch")
    cases = {}
    for name, scenario in FORMULA_CASES:
        deal = waterfall.load_deal(_deal_path(name))
        result = waterfall.run(deal, scenario)
        src = write_workbook(result, tmp / f"f-{name}-{scenario}.xlsx", formulas=True, deal=deal)
        cases[f"{name}/{scenario}"] = (src, deal, result)
    for path in builtin_deals():
        deal = waterfall.load_deal(path)
        result = waterfall.run(deal)
        cases[f"values:{path.stem}"] = (write_workbook(result, tmp / f"v-{path.stem}.xlsx", deal=deal),
                                        deal, result)
    deal = waterfall.load_deal(_exit_deal(tmp))
    result = waterfall.run(deal)
    cases["tieout-exit/base"] = (write_workbook(result, tmp / "f-tieout-exit.xlsx", formulas=True, deal=deal),
                                 deal, result)
    cases.update(_flexed_workbooks(tmp))
    cases.update(_refinancing_workbooks(tmp))
    outs = recalculate_many([src for src, _d, _r in cases.values()], tmp / "lo")
    return {key: (src, out, deal, result) for (key, (src, deal, result)), out in zip(cases.items(), outs)}


@needs_lo
@pytest.mark.parametrize("case", [f"{n}/{s}" for n, s in FORMULA_CASES] + ["tieout-exit/base"] + list(REFI_CASES)
                         + list(EXT_CASES) + TERMS_CASES)
def test_libreoffice_recalculates_to_the_engine(recalculated, case):
    """The --formulas workbook, recalculated by LibreOffice: every formula cell equals the
    value cached from the engine (relative 1e-9), no error cells, and every ledger line
    equals the engine's ledger."""
    src, out, deal, result = recalculated[case]
    count, bad = _compare_recalculated(src, out)
    assert count > 50 * (result.program.n_periods + 1)
    assert not bad, bad[:10]
    lo = openpyxl.load_workbook(out, data_only=True)
    assert not _error_cells(lo)
    _assert_ties_out(_ledger_rows(lo[CF_SHEET], _model(deal, result), result), case)
    summary = {row[0]: row[1] for row in lo["Summary"].iter_rows(values_only=True) if row[0]}
    for label, key in (("Minimum DSCR", "min_dscr"), ("LLCR (at COD)", "llcr"), ("PLCR (at COD)", "plcr"),
                       ("Equity distributions", "equity_distributions")):
        want = result.metrics[key]
        assert close(summary[label], None if want is None or math.isnan(want) else want), (case, label)
    # XIRR: LibreOffice's XIRR on the payment dates against the engine's ACT/365F root.
    # Measured: within 4e-16 (the file's 15 digits), from the engine's root as the guess
    # and from LibreOffice's default 10% alike; asserted to 1e-12.
    for label, key in (("Lender XIRR (actual dates, ACT/365F)", "lender_xirr"),
                       ("Equity XIRR (actual dates, ACT/365F)", "equity_xirr")):
        want = result.metrics[key]
        if want is None or math.isnan(want):
            assert summary[label] in (None, ""), (case, label)
        else:
            assert abs(summary[label] - want) <= 1e-12, (case, label, summary[label], want)


@needs_lo
@pytest.mark.parametrize("case", FLEX_CASES)
def test_refinancing_inputs_flow_through_as_the_engine_says(recalculated, case):
    """Flip the market-open flag at maturity, or widen the refinancing spread, in the
    Inputs sheet; LibreOffice recalculates to the engine's run with that change (the
    workbook was saved by openpyxl, so every number below is LibreOffice's)."""
    _src, out, deal, result = recalculated[case]
    lo = openpyxl.load_workbook(out, data_only=True)
    assert not _error_cells(lo)
    _assert_ties_out(_ledger_rows(lo[CF_SHEET], _model(deal, result), result), case)
    summary = {row[0]: row[1] for row in lo["Summary"].iter_rows(values_only=True) if row[0]}
    m = result.metrics
    assert summary["Default period"] == (m["default_period"] if m["default_period"] is not None else None) or \
        summary["Default period"] in ("", None) and m["default_period"] is None
    for label, key in (("Minimum DSCR", "min_dscr"), ("Equity distributions", "equity_distributions")):
        assert close(summary[label], m[key]), label
    assert close(summary["Equity IRR (annualised)"], m["equity_irr"], rel=1e-8)


@needs_lo
def test_libreoffice_replaces_wrong_cached_values(tmp_path, monkeypatch):
    """Cached values scaled by 3: LibreOffice must recalculate them back to the engine's."""
    deal = _tieout()
    result = waterfall.run(deal, "tenant-half-pay")
    real = excel._write_formula

    def wrong_cache(ws, row, col, expr, fmt, cached):
        value = excel._cell_value(cached)
        real(ws, row, col, expr, fmt, value * 3.0 + 1.0 if isinstance(value, float) else value)
    monkeypatch.setattr(excel, "_write_formula", wrong_cache)
    src = write_workbook(result, tmp_path / "wrong.xlsx", formulas=True)
    monkeypatch.undo()
    wrong = openpyxl.load_workbook(src, data_only=True)[CF_SHEET]
    rows = _ledger_rows(wrong, _model(deal, result), result)
    with pytest.raises(AssertionError):
        _assert_ties_out(rows, "cached")
    out = recalculate(src, tmp_path / "lo")
    lo = openpyxl.load_workbook(out, data_only=True)
    _assert_ties_out(_ledger_rows(lo[CF_SHEET], _model(deal, result), result), "recalculated")


@needs_lo
def test_changed_input_flows_through_as_the_engine_says(tmp_path):
    """Take the tenant-half-pay workbook, set the Inputs rent multipliers to the
    renegotiation scenario's, let LibreOffice recalculate: the sheet is the engine's
    renegotiation run (no default, a sweep instead)."""
    deal = _tieout()
    half = waterfall.run(deal, "tenant-half-pay")
    reneg = waterfall.run(deal, "renegotiation")
    src = write_workbook(half, tmp_path / "half.xlsx", formulas=True)
    wb = openpyxl.load_workbook(src)
    ws = wb[IN_SHEET]
    model = _model(deal, half)
    r = model.inputs.row_of("rent_mult") + 1
    assert ws.cell(row=r, column=1).value == "Rent multiplier (scenario)"
    for t in range(model.inputs.n + 1):
        ws.cell(row=r, column=model.inputs.col(t) + 1).value = 0.8 if t >= 9 else 1.0
    flexed = tmp_path / "flexed.xlsx"
    wb.save(flexed)   # openpyxl drops every cached value: all numbers below are LibreOffice's
    out = recalculate(flexed, tmp_path / "lo")
    lo = openpyxl.load_workbook(out, data_only=True)
    _assert_ties_out(_ledger_rows(lo[CF_SHEET], _model(deal, reneg), reneg), "flexed")
    summary = {row[0]: row[1] for row in lo["Summary"].iter_rows(values_only=True) if row[0]}
    m = reneg.metrics
    assert summary["Default period"] in (None, "")
    for label, key in (("Minimum DSCR", "min_dscr"), ("Average DSCR", "avg_dscr"), ("LLCR (at COD)", "llcr"),
                       ("Equity distributions", "equity_distributions")):
        assert close(summary[label], m[key]), label
    for label, key in (("Lender IRR (annualised)", "lender_irr"), ("Equity IRR (annualised)", "equity_irr")):
        assert close(summary[label], m[key], rel=1e-8), label


@needs_lo
def test_safe_text_survives_libreoffice(tmp_path):
    deal = waterfall.load_deal(_evil_deal(tmp_path))
    result = waterfall.run(deal, "tenant-half-pay")
    src = write_workbook(result, tmp_path / "evil.xlsx", formulas=True, deal=deal)
    out = recalculate(src, tmp_path / "lo")
    count, bad = _compare_recalculated(src, out)
    assert not bad, bad[:5]
    lo = openpyxl.load_workbook(out)
    texts = [c for ws in lo.worksheets for row in ws.iter_rows() for c in row
             if isinstance(c.value, str) and "HYPERLINK" in c.value]
    assert texts and all(c.data_type == "s" for c in texts)


@needs_lo
@pytest.mark.parametrize("path", builtin_deals(), ids=lambda p: p.stem)
def test_every_builtin_values_workbook_opens_without_error_cells(recalculated, path):
    _src, out, _deal, _result = recalculated[f"values:{path.stem}"]
    assert not _error_cells(openpyxl.load_workbook(out, data_only=True))


# --------------------------------------------------------------------------- CLI

def test_cli_xlsx_and_formulas(tmp_path, capsys):
    values, live = tmp_path / "v.xlsx", tmp_path / "f.xlsx"
    assert main(["run", "tieout", "--scenario", "tenant-half-pay", "--xlsx", str(values)]) == 0
    assert main(["run", "tieout", "--xlsx", str(live), "--formulas"]) == 0
    assert "workbook written" in capsys.readouterr().out
    assert "Inputs" not in openpyxl.load_workbook(values).sheetnames
    assert "Inputs" in openpyxl.load_workbook(live).sheetnames
    assert main(["run", "tieout", "--formulas"]) == 2


# --------------------------------------------------------------------------- sweep tables

def test_sweep_xlsx_is_a_formatted_workbook(tmp_path, capsys):
    """`waterfall sweep ... --out FILE.xlsx`: header row 1, frozen; a filterable Excel
    table; number formats by column; blanks where a metric is undefined; the definition
    on an About sheet; every value equal to the sweep's frame."""
    from waterfall.output.excel import NUMBER_FORMATS
    from waterfall.sweeps import sweep

    out = tmp_path / "grid.xlsx"
    vary = ["scenario.tenant_default.period=5,25", "scenario.tenant_default.relet_haircut=0.2,0.8",
            "covenants.lock_up_dscr=1.1,1.3"]
    argv = ["sweep", "tieout"] + [a for v in vary for a in ("--vary", v)] + ["--out", str(out), "--quiet"]
    assert main(argv) == 0
    frame = sweep(_tieout(), {"scenario.tenant_default.period": [5, 25],
                              "scenario.tenant_default.relet_haircut": [0.2, 0.8],
                              "covenants.lock_up_dscr": [1.1, 1.3]})
    assert sorted(p.name for p in tmp_path.iterdir()) == ["grid.xlsx"]
    wb = openpyxl.load_workbook(out)
    assert wb.sheetnames == ["sweep", "About"]
    ws = wb["sweep"]
    header = [c.value for c in ws[1]]
    assert header == list(frame.columns)
    assert ws.freeze_panes == "B2"
    assert "Sweep" in ws.tables and ws.tables["Sweep"].ref == f"A1:{ws.cell(1, len(header)).column_letter}{len(frame) + 1}"
    col = {name: j + 1 for j, name in enumerate(header)}
    expected_formats = {"min_dscr": NUMBER_FORMATS["ratio"], "llcr": NUMBER_FORMATS["ratio"],
                        "equity_irr": NUMBER_FORMATS["pct"], "recovery_rate": NUMBER_FORMATS["pct"],
                        "lender_loss": NUMBER_FORMATS["amount"], "loss_senior": NUMBER_FORMATS["amount"],
                        "wal_senior": NUMBER_FORMATS["years"], "default_period": NUMBER_FORMATS["int"],
                        "point": NUMBER_FORMATS["int"]}
    for name, number_format in expected_formats.items():
        assert ws.cell(2, col[name]).number_format == number_format, name
    for i in range(len(frame)):
        for name in header:
            want, got = frame[name].iloc[i], ws.cell(2 + i, col[name]).value
            if want is None or (isinstance(want, float) and math.isnan(want)):
                assert got is None, (i, name)
            else:
                assert close(float(want), got, rel=1e-15, abs_tol=0), (i, name, want, got)
    assert frame["default_period"].isna().any() and frame["default_period"].notna().any()
    about = {r[0]: r[1] for r in wb["About"].iter_rows(values_only=True) if r[0]}
    assert about["Deal"] == "tieout" and about["Points"] == len(frame) == 8
    assert about["scenario.tenant_default.period"] == "Input varied"
    assert about["equity_irr"] == "Equity IRR (annualised)"


def test_sweep_workbook_text_is_never_a_formula(tmp_path):
    import pandas as pd
    from waterfall.output.tables import write_sweep_workbook

    frame = pd.DataFrame({"point": [0, 1], "=cmd|calc": [0.5, float("nan")], "label": ["@SUM(1)", "ok"],
                          "lender_loss": [1.0, 2.0]})
    frame.attrs.update({"deal": "-evil", "inputs": ["=cmd|calc"]})
    out = write_sweep_workbook(frame, tmp_path / "t.xlsx")
    wb = openpyxl.load_workbook(out)
    ws = wb["sweep"]
    for cell in (ws["B1"], ws["C2"]):
        assert cell.data_type == "s" and cell.quotePrefix, cell.coordinate
    assert ws["B3"].value is None
    about = wb["About"]
    deal_cell = next(r[1] for r in about.iter_rows() if r[0].value == "Deal")
    assert deal_cell.value == "-evil" and deal_cell.data_type == "s" and deal_cell.quotePrefix
    assert [p.name for p in tmp_path.iterdir()] == ["t.xlsx"]
