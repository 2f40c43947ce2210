"""Excel output: the values workbook for every built-in deal, the --formulas workbook
recalculated headless by LibreOffice against the engine (tie-out to relative 1e-9),
recalculation after a changed input, safe text, atomic writes, the CLI."""
from __future__ import annotations

import math
from pathlib import Path

import openpyxl
import pytest

import waterfall
from waterfall.cli import main
from waterfall.compile import compile_scenarios
from waterfall.load import builtin_deals
from waterfall.output import excel
from waterfall.output.excel import FormulaTieOutError, write_workbook
from waterfall.output.formulas import (
    CF_SHEET, IN_SHEET, build_model, check_against, close, unsupported,
)
from waterfall.output.recalc import recalculate, soffice

TIEOUT = "deals/examples/tieout.toml"
ROOT = Path(__file__).resolve().parent.parent
needs_lo = pytest.mark.skipif(soffice() is None, reason="LibreOffice (soffice) is not installed")


def _tieout():
    return waterfall.load_deal(ROOT / TIEOUT)


def _model(deal, result):
    return build_model(result.program, compile_scenarios([deal.scenario(result.scenario)], result.program))


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
    grid = excel._values_grid(_model(deal, result))
    for j, key in enumerate(_model(deal, result).ledger_keys):
        r = grid.row_of(key) + 1
        cells = [ws.cell(row=r, column=grid.col(t) + 1).value for t in range(grid.n + 1)]
        engine = result.ledger[:, j]
        assert all(close(float(e), c if c is not None else (math.nan if math.isnan(e) else 0.0))
                   for e, c in zip(engine, cells)), key
    # Scenarios: a column per scenario, metrics as rows, in an Excel table
    sc = wb["Scenarios"]
    assert "ScenarioMetrics" in sc.tables
    names = [c.value for c in sc[3][2:]]
    assert names == [s.name for s in deal.scenarios] or names == ["base"]
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
    assert ws.cell(row=labels["DSCR"], column=6).number_format == '0.00"x"'
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
def test_formula_model_on_builtin_deals(path):
    deal = waterfall.load_deal(path)
    for scen in (deal.scenarios or [deal.scenario("base")]):
        result = waterfall.run(deal, scen)
        problems = unsupported(result.program)
        if problems:
            pytest.skip("; ".join(problems))
        assert check_against(_model(deal, result), result.ledger) == [], scen.name


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
    assert any(v.startswith("=IFERROR((1+IRR(") for v in summary)


def test_unsupported_deal_is_refused_and_nothing_written(tmp_path, monkeypatch):
    deal = _tieout()
    result = waterfall.run(deal)
    monkeypatch.setattr(excel, "unsupported", lambda program: ["not modelled"])
    with pytest.raises(FormulaTieOutError):
        write_workbook(result, tmp_path / "f.xlsx", formulas=True)
    assert list(tmp_path.iterdir()) == []


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


@needs_lo
@pytest.mark.parametrize("scenario", ["base", "renegotiation", "tenant-half-pay"])
def test_libreoffice_recalculates_to_the_engine(tmp_path, scenario):
    deal = _tieout()
    result = waterfall.run(deal, scenario)
    src = write_workbook(result, tmp_path / "tieout.xlsx", formulas=True)
    out = recalculate(src, tmp_path / "lo")
    count, bad = _compare_recalculated(src, out)
    assert count > 2000
    assert not bad, bad[:10]
    lo = openpyxl.load_workbook(out, data_only=True)
    assert not _error_cells(lo)
    _assert_ties_out(_ledger_rows(lo[CF_SHEET], _model(deal, result), result), scenario)


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
def test_every_builtin_values_workbook_opens_without_error_cells(tmp_path, path):
    deal = waterfall.load_deal(path)
    src = write_workbook(waterfall.run(deal), tmp_path / "deal.xlsx", deal=deal)
    out = recalculate(src, tmp_path / "lo")
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
