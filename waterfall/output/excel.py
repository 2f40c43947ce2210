"""Excel workbooks of a run: `Summary`, `Cash flows`, `Scenarios` (and `Inputs` with
--formulas), written with xlsxwriter.

    from waterfall.output.excel import write_workbook
    write_workbook(result, "tieout.xlsx")                  # values from the engine
    write_workbook(result, "tieout.xlsx", formulas=True)   # live formulas over Inputs

Without `formulas` the `Cash flows` sheet is the engine's ledger (every line, by
period), the covenant levels and the lender and equity cash flows, written from the
result alone: the formula model (formulas.py) is not imported, so a deal it cannot
express still gets its values workbook. With `formulas=True` the sheet is the waterfall
as Excel formulas, each cell caching the engine's value; the workbook is only written if
the formula model can express the deal (else FormulaTieOutError naming what it cannot)
and its formulas reproduce the engine's ledger for this deal and scenario.

Text from deal files (names, descriptions) is only ever written as a string cell; text
a spreadsheet would read as a formula when typed (a leading =, +, -, @) also gets the
quote-prefix style (Excel's own apostrophe escape), so it stays text when edited.
"""
from __future__ import annotations

import math
from pathlib import Path

import numpy as np

from dataclasses import dataclass, field

from .. import ops
from ..files import atomic_path
from ..metrics import cash_flows as engine_cash_flows
from .cells import X
from .labels import GLOBAL_LABELS, HEDGE_LABELS, TRANCHE_LABELS
from .text import needs_escape

SUMMARY_SHEET, SCENARIOS_SHEET = "Summary", "Scenarios"
# The Cash flows sheet's columns, as the formula model lays them out (formulas.py has
# the same; tests/test_defects_registry.py checks they agree): label, units, total,
# then period 0 in column D; the first period row is 7 (row index 6).
CF_SHEET = "Cash flows"
LABEL_COL, UNIT_COL, TOTAL_COL, FIRST_COL = 0, 1, 2, 3
CF_FIRST_ROW = 6
# Column widths (characters) of the period sheets: label, units, total, each period.
CF_WIDTHS = {"label": 52, "units": 9, "total": 12, "period": 11}
IN_WIDTHS = {"label": 50, "units": 9, "total": 12, "period": 11}

NUMBER_FORMATS = {
    "amount": '#,##0.000;-#,##0.000;"-"',
    "ratio": '0.00"x"',
    "pct": "0.00%",
    "rate": "0.000%",
    "flag": "0",
    "int": "0",
    "years": "0.00",
    "factor": "0.0000",
    "text": "@",
    "date": "yyyy-mm-dd",
}
UNITS = {"amount": "USD m", "ratio": "x", "pct": "%", "rate": "% a year", "flag": "1/0",
         "int": "", "years": "years", "factor": "", "text": "", "date": "date"}

METRIC_META = {  # name -> (label, fmt)
    "min_dscr": ("Minimum DSCR", "ratio"), "avg_dscr": ("Average DSCR", "ratio"),
    "llcr": ("LLCR (at COD)", "ratio"), "min_llcr": ("Minimum LLCR", "ratio"), "plcr": ("PLCR (at COD)", "ratio"),
    "default_period": ("Default period", "int"), "lender_claim": ("Lenders' claim at default", "amount"),
    "lender_received": ("Lenders received in the default period", "amount"),
    "recovery_rate": ("Recovery rate", "pct"), "lender_loss": ("Lenders' loss", "amount"),
    "lender_irr": ("Lender IRR (annualised)", "pct"), "equity_irr": ("Equity IRR (annualised)", "pct"),
    "lender_xirr": ("Lender XIRR (actual dates, ACT/365F)", "pct"),
    "equity_xirr": ("Equity XIRR (actual dates, ACT/365F)", "pct"),
    "equity_distributions": ("Equity distributions", "amount"),
    "equity_invested": ("Equity invested (incl. sponsor support)", "amount"),
    "income_tax_paid": ("Income tax paid (owner level)", "amount"),
    "equity_irr_after_tax": ("Equity IRR after tax (annualised)", "pct"),
}


# Other global ledger lines that are flows over a period (a Total adds them up); flags,
# ratios and balances get none.
FLOW_LINES = ("equity_cure", "workout_costs")


class FormulaTieOutError(ValueError):
    """The formulas would not reproduce the engine for this deal: no workbook is written."""


# --------------------------------------------------------------------------- helpers

class _Formats:
    def __init__(self, wb):
        self.wb = wb
        self.cache = {}

    def get(self, kind: str = "text", bold=False, italic=False, header=False, quote=False,
            fill=None, wrap=False):
        key = (kind, bold, italic, header, quote, fill, wrap)
        if key not in self.cache:
            props = {"num_format": NUMBER_FORMATS.get(kind, "General")}
            if kind == "text":
                props.pop("num_format")
            if bold or header:
                props["bold"] = True
            if italic:
                props["italic"] = True
                props["font_color"] = "#595959"
            if header:
                props["bg_color"] = "#DDEBF7"
                props["bottom"] = 1
            if fill:
                props["bg_color"] = fill
            if quote:
                props["quote_prefix"] = True
            if wrap:
                props["text_wrap"] = True
                props["valign"] = "top"
            self.cache[key] = self.wb.add_format(props)
        return self.cache[key]


def write_text(ws, fmts: _Formats, row: int, col: int, text, **style) -> None:
    """Text as a string cell, never a formula; formula-like text is quote-prefixed."""
    text = "" if text is None else str(text)
    ws.write_string(row, col, text, fmts.get("text", quote=needs_escape(text), **style))


def _cell_value(value):
    """A cached/written value: numbers as float, NaN/None as '' (a blank-looking cell)."""
    if value is None or isinstance(value, str):
        return "" if value is None else value
    if isinstance(value, (bool, np.bool_)):
        return 1.0 if value else 0.0
    value = float(value)
    return "" if math.isnan(value) or math.isinf(value) else value


def _write_value(ws, row, col, value, fmt) -> None:
    value = _cell_value(value)
    if value == "":
        ws.write_blank(row, col, None, fmt)
    else:
        ws.write_number(row, col, value, fmt)


def _write_formula(ws, row, col, expr: X, fmt, cached) -> None:
    if _is_literal(expr.f):
        _write_value(ws, row, col, expr.v, fmt)
        return
    ws.write_formula(row, col, "=" + expr.f, fmt, _cell_value(cached))


def _is_literal(text: str) -> bool:
    try:
        float(text.strip("()"))
        return True
    except ValueError:
        return False


def _resolve(result, deal, scenario):
    from ..engine import resolve_deal, resolve_scenario
    if deal is None:
        try:
            deal = resolve_deal(result.deal_name)
        except Exception as exc:  # noqa: BLE001 - any failure: ask for the deal
            raise ValueError(f"pass deal= to write a workbook for '{result.deal_name}' ({exc})") from None
    deal = resolve_deal(deal)
    return deal, resolve_scenario(deal, result.scenario if scenario is None else scenario)


# --------------------------------------------------------------------------- entry point

def write_workbook(result, path, formulas: bool = False, deal=None, batch=None, scenario=None) -> Path:
    """Write the workbook of `result` (a waterfall.run Result) to `path`, atomically.

    deal: the Deal (or its file/built-in name) if `result.deal_name` is not a built-in;
    batch: a BatchResult for the `Scenarios` sheet (default: run every scenario of the deal);
    scenario: the Scenario object if the result's scenario is not one of the deal's.
    """
    from ..engine import run_batch

    path = Path(path)
    deal, scen = _resolve(result, deal, scenario)
    model = None
    if formulas:  # the formula model only here: the values workbook never imports it
        from .formulas import IN_SHEET, metric_formulas
        model = _formula_model(result, deal, scen)
    if batch is None:
        try:
            batch = run_batch(deal, engine="auto" if result.engine != "reference" else "reference")
        except Exception:  # noqa: BLE001 - the Scenarios sheet then shows this run only
            batch = None

    from .safe_xlsx import Workbook

    with atomic_path(path, ".xlsx") as tmp:
        wb = Workbook(str(tmp), {"nan_inf_to_errors": False})
        fmts = _Formats(wb)
        summary = wb.add_worksheet(SUMMARY_SHEET)
        cf_ws = wb.add_worksheet(CF_SHEET)
        in_ws = wb.add_worksheet(IN_SHEET) if formulas else None
        sc_ws = wb.add_worksheet(SCENARIOS_SHEET)
        grid = model.cf if formulas else values_grid(result.program)
        values = None if formulas else values_by_key(result.program, result.ledger)
        _write_cash_flows(cf_ws, fmts, grid, model, result, values)
        if formulas:
            _write_inputs(in_ws, fmts, model, result)
        metrics = metric_formulas(model, result) if formulas else None
        _write_summary(wb, summary, fmts, deal, scen, result, grid, metrics)
        _write_scenarios(sc_ws, fmts, batch, result)
        _print_setup(deal, result, grid, model, summary, cf_ws, in_ws, sc_ws)
        summary.activate()
        wb.close()
    return path


def _print_setup(deal, result, grid, model, summary, cf_ws, in_ws, sc_ws) -> None:
    """Landscape, labels and headers repeated, the period sheets in blocks of years."""
    from . import printing

    printing.fit_one_page_wide(summary)
    printing.fit_one_page_wide(sc_ws)
    sc_ws.repeat_columns(0, 1)
    printing.period_sheet(cf_ws, result.dates, deal.timeline.period, (0, grid.first_row - 1), CF_WIDTHS)
    if in_ws is not None:
        hr = model.inputs.first_row - 1
        printing.period_sheet(in_ws, result.dates, deal.timeline.period, (hr, hr), IN_WIDTHS)


# --------------------------------------------------------------------------- formulas

def _formula_model(result, deal, scen):
    """The formula model of this run, or FormulaTieOutError: first what the formulas
    cannot express (before anything is built), then where they differ from the engine."""
    from ..compile import compile_scenarios
    from ..scenarios import prepare
    from . import formulas as fm

    program = result.program
    problems = fm.unsupported(program)
    if not problems:
        _, lowered = prepare(deal, scen)  # structural parts are already in result.program
        model = fm.build_model(program, compile_scenarios([lowered], program))
        problems = fm.check_against(model, result.ledger)
    if problems:
        raise FormulaTieOutError(
            f"the formulas do not reproduce the engine for '{result.deal_name}' / "
            f"'{result.scenario}':\n  " + "\n  ".join(problems[:20]))
    return model


# --------------------------------------------------------------------------- Cash flows (values)

@dataclass
class SheetRow:
    key: str | None          # None for a section header
    label: str
    fmt: str = "amount"
    total: bool = False
    level: int = 0           # outline level (1 = a detail line, grouped)
    header: bool = False


@dataclass
class ValuesGrid:
    """The values workbook's Cash flows layout: rows x periods (period t in column
    FIRST_COL + t), the same shape as the formula model's grid without its cells."""

    n: int
    first_row: int = CF_FIRST_ROW
    sheet: str = CF_SHEET
    rows: list = field(default_factory=list)
    index: dict = field(default_factory=dict)

    def section(self, title: str) -> None:
        self.rows.append(SheetRow(None, title, "text", header=True))

    def add(self, key: str, label: str, fmt: str = "amount", total: bool = False, level: int = 0) -> None:
        if key in self.index:
            raise ValueError(f"row {key!r} laid out twice")
        self.index[key] = len(self.rows)
        self.rows.append(SheetRow(key, label, fmt, total, level))

    def row_of(self, key: str) -> int:
        return self.first_row + self.index[key]

    def col(self, t: int) -> int:
        return FIRST_COL + t




def ledger_keys(program) -> list:
    """The row key of each ledger column, in ledger order: 'L:<global line>',
    'L:t<k>.<line>', 'L:a<a>.<line>', 'L:f<f>.<line>' (the formula model's keys)."""
    k_count, a_count = program.n_tranches, program.n_accounts
    keys = [None] * ops.n_lines(k_count, a_count, program.n_fees, program.n_hedges)
    for name in ops.GLOBAL_LINES:
        keys[ops.G[name]] = f"L:{name}"
    for k in range(k_count):
        for line in ops.TRANCHE_LINES:
            keys[ops.tranche_col(k, line)] = f"L:t{k}.{line}"
    for a in range(a_count):
        for line in ops.ACCOUNT_LINES:
            keys[ops.account_col(k_count, a, line)] = f"L:a{a}.{line}"
    for f in range(program.n_fees):
        for line in ops.FEE_LINES:
            keys[ops.fee_col(k_count, a_count, f, line)] = f"L:f{f}.{line}"
    for h in range(program.n_hedges):
        for line in ops.HEDGE_LINES:
            keys[ops.hedge_col(k_count, a_count, program.n_fees, h, line)] = f"L:h{h}.{line}"
    return keys


def _account_rows(grid, program, ac) -> None:
    """The reserve accounts' ledger rows: balances, and a DSRA letter of credit's lines."""
    if not program.n_accounts:
        return
    grid.section("Reserve accounts")
    for a in range(program.n_accounts):
        grid.add(f"L:a{a}.balance_open", f"{ac[a]}: opening balance", "amount")
        grid.add(f"L:a{a}.balance_close", f"{ac[a]}: closing balance", "amount")
        if program.acct_lc[a].any():   # a DSRA backed by a letter of credit (docs/money.md)
            grid.add(f"L:a{a}.lc_available", f"{ac[a]}: letter of credit at the waterfall's disposal", "amount")
            grid.add(f"L:a{a}.lc_drawn", f"{ac[a]}: letter of credit drawn (net)", "amount", total=True)
            grid.add(f"L:a{a}.lc_reimbursed", f"{ac[a]}: reimbursed to the LC bank (net)", "amount", total=True)
            grid.add(f"L:a{a}.lc_owed", f"{ac[a]}: owed to the LC bank", "amount")


def values_grid(program) -> ValuesGrid:
    """The values workbook's Cash flows rows, from the program alone: every ledger line
    (under the formula workbook's sections, with its labels), the covenant levels and
    the lender and equity cash flows."""
    tr, ac, fe = program.names["tranches"], program.names["accounts"], program.names["fees"]
    grid = ValuesGrid(program.n_periods)
    grid.section("Revenue")
    grid.add("L:revenue", GLOBAL_LABELS["revenue"], "amount", total=True)
    grid.section("Operating costs")
    grid.add("L:opex", GLOBAL_LABELS["opex"], "amount", total=True)
    grid.section("CFADS")
    grid.add("L:cfads", GLOBAL_LABELS["cfads"], "amount", total=True)
    grid.section("Sources")
    grid.add("L:capex", GLOBAL_LABELS["capex"], "amount", total=True)
    grid.add("L:equity_in", GLOBAL_LABELS["equity_in"], "amount", total=True)
    grid.add("L:draws", GLOBAL_LABELS["draws"], "amount", total=True)
    grid.add("L:reserve_release", GLOBAL_LABELS["reserve_release"], "amount")  # balances: no total
    grid.add("L:reserve_interest", GLOBAL_LABELS["reserve_interest"], "amount", total=True)
    grid.add("L:exit_proceeds", GLOBAL_LABELS["exit_proceeds"], "amount", total=True)
    grid.add("L:sponsor_support", "Sponsor support", "amount", total=True)
    grid.add("L:cash_available", GLOBAL_LABELS["cash_available"], "amount")  # includes reserve balances
    grid.section("Debt service and covenant tests")
    grid.add("L:debt_service", GLOBAL_LABELS["debt_service"], "amount", total=True)
    grid.add("L:dscr", GLOBAL_LABELS["dscr"], "ratio")
    grid.add("L:dscr_historic", GLOBAL_LABELS["dscr_historic"], "ratio")
    grid.add("L:dscr_projected", GLOBAL_LABELS["dscr_projected"], "ratio")
    grid.add("L:hedge_ratio", GLOBAL_LABELS["hedge_ratio"], "pct")
    grid.add("L:hedge_ratio_breach", GLOBAL_LABELS["hedge_ratio_breach"], "flag")
    grid.add("L:llcr", GLOBAL_LABELS["llcr"], "ratio")
    if program.lock_up_dscr >= 0:
        grid.add("cov_lock_up", "Lock-up DSCR covenant", "ratio", level=1)
    if program.default_dscr >= 0:
        grid.add("cov_default", "Default DSCR covenant", "ratio", level=1)
    grid.add("L:lock_up", GLOBAL_LABELS["lock_up"], "flag")
    for k in range(program.n_tranches):
        grid.section(f"Tranche: {tr[k]}")
        for line in ops.TRANCHE_LINES:
            label, total = TRANCHE_LABELS.get(line, (line.replace("_", " ").capitalize(), True))
            grid.add(f"L:t{k}.{line}", label, "rate" if line == "rate" else "amount", total=total)
    _account_rows(grid, program, ac)
    grid.add("L:reserve_funding", GLOBAL_LABELS["reserve_funding"], "amount")
    if program.n_fees:
        grid.section("Fees")
        for f in range(program.n_fees):
            grid.add(f"L:f{f}.due", f"{fe[f]}: due", "amount", total=True)
            grid.add(f"L:f{f}.paid", f"{fe[f]}: paid", "amount", total=True)
    grid.add("L:fees_paid", GLOBAL_LABELS["fees_paid"], "amount", total=True)
    if program.n_hedges:
        grid.section("Interest-rate hedges")
        for h, name in enumerate(program.names["hedges"]):
            for line in ops.HEDGE_LINES:
                label, total = HEDGE_LABELS[line]
                grid.add(f"L:h{h}.{line}", f"{name}: {label}", "rate" if line == "index_rate" else "amount",
                         total=total)
    grid.add("L:hedge_settlement", GLOBAL_LABELS["hedge_settlement"], "amount", total=True, level=1)
    grid.add("L:hedge_termination_received", GLOBAL_LABELS["hedge_termination_received"], "amount",
             total=True, level=1)
    grid.section("Event of default and enforcement")
    grid.add("L:event_of_default", GLOBAL_LABELS["event_of_default"], "flag")
    grid.add("L:seizure_gross", GLOBAL_LABELS["seizure_gross"], "amount", total=True)
    grid.add("L:seizure_net", GLOBAL_LABELS["seizure_net"], "amount", total=True)
    grid.add("L:guarantee_paid", GLOBAL_LABELS["guarantee_paid"], "amount", total=True)
    grid.section("Equity")
    grid.add("L:equity_distribution", GLOBAL_LABELS["equity_distribution"], "amount", total=True)
    grid.add("equity_cf", "Equity cash flow", "amount", total=True)
    grid.section("Lenders")
    grid.add("lender_cf", "Lender cash flow", "amount", total=True)
    rest = [key for key in ledger_keys(program) if key not in grid.index]
    if rest:  # a ledger line this layout does not place: still on the sheet, at the end
        grid.section("Other engine lines")
        for key in rest:
            grid.add(key, key[2:], "amount", total=key[2:] in FLOW_LINES)
    return grid


def values_by_key(program, ledger) -> dict:
    """Row key -> per-period values, from the engine's ledger alone."""
    out = {key: ledger[:, j] for j, key in enumerate(ledger_keys(program))}
    lender, equity = engine_cash_flows(program, ledger)
    out["lender_cf"], out["equity_cf"] = lender, equity
    n1 = program.n_periods + 1
    if program.lock_up_dscr >= 0:
        out["cov_lock_up"] = np.full(n1, program.lock_up_dscr)
    if program.default_dscr >= 0:
        out["cov_default"] = np.full(n1, program.default_dscr)
    return out


def _header_rows(ws, fmts, grid, dates, title: str, note: str) -> None:
    ws.write_string(0, 0, title, fmts.get("text", bold=True))
    ws.write_string(1, 0, note, fmts.get("text", italic=True))
    hr = grid.first_row - 2
    for col, text in ((LABEL_COL, "Line"), (UNIT_COL, "Units"), (TOTAL_COL, "Total")):
        ws.write_string(hr, col, text, fmts.get("text", header=True))
        ws.write_string(hr + 1, col, "", fmts.get("text", header=True))
    for t in range(grid.n + 1):
        ws.write_number(hr, grid.col(t), t, fmts.get("int", header=True))
        ws.write_string(hr + 1, grid.col(t), dates[t].isoformat() if t < len(dates) else "",
                        fmts.get("text", header=True))
    _widths(ws, grid, CF_WIDTHS)
    ws.freeze_panes(grid.first_row, FIRST_COL)


def _widths(ws, grid, widths) -> None:
    ws.set_column(LABEL_COL, LABEL_COL, widths["label"])
    ws.set_column(UNIT_COL, UNIT_COL, widths["units"])
    ws.set_column(TOTAL_COL, TOTAL_COL, widths["total"])
    ws.set_column(FIRST_COL, FIRST_COL + grid.n, widths["period"])


def _write_cash_flows(ws, fmts, grid, model, result, values) -> None:
    """The Cash flows sheet: `model`'s formulas (values cached from the engine), or with
    model None the `values` by row key."""
    formulas = model is not None
    scope = "live formulas over the Inputs sheet (values cached from the engine)" if formulas \
        else "values from the engine"
    _header_rows(ws, fmts, grid, result.dates,
                 f"Cash flows by period ({result.scenario}), USD millions", f"Period 0 is financial close; {scope}.")
    ledger_index = {key: j for j, key in enumerate(model.ledger_keys)} if formulas else {}
    for i, row in enumerate(grid.rows):
        r = grid.first_row + i
        if row.header:
            write_text(ws, fmts, r, LABEL_COL, row.label, bold=True, fill="#F2F2F2")
            for c in range(UNIT_COL, FIRST_COL + grid.n + 1):
                ws.write_blank(r, c, None, fmts.get("text", fill="#F2F2F2"))
            continue
        italic = row.level > 0
        write_text(ws, fmts, r, LABEL_COL, row.label, italic=italic)
        ws.write_string(r, UNIT_COL, UNITS.get(row.fmt, ""), fmts.get("text", italic=italic))
        fmt = fmts.get(row.fmt, italic=italic)
        if row.level:
            ws.set_row(r, None, None, {"level": 1})
        cells = []
        for t in range(grid.n + 1):
            if formulas:
                expr = model.cf.cells[(row.key, t)]
                cached = result.ledger[t, ledger_index[row.key]] if row.key in ledger_index else expr.v
                _write_formula(ws, r, grid.col(t), expr, fmt, cached)
                cells.append(_cell_value(cached))
            else:
                value = values[row.key][t]
                _write_value(ws, r, grid.col(t), value, fmt)
                cells.append(_cell_value(value))
        if row.total:
            total = float(sum(v for v in cells if v != ""))
            tfmt = fmts.get(row.fmt, bold=True, italic=italic)
            if formulas:
                ws.write_formula(r, TOTAL_COL, f"=SUM({grid.range(row.key, qualified=False)})", tfmt, total)
            else:
                ws.write_number(r, TOTAL_COL, total, tfmt)
    ws.outline_settings(True, False, True, False)


# --------------------------------------------------------------------------- Inputs

def _write_inputs(ws, fmts, model, result) -> None:
    from .formulas import SCALAR_COL

    grid = model.inputs
    ws.write_string(0, 0, "Inputs: change a blue cell and every formula recalculates", fmts.get("text", bold=True))
    ws.write_string(1, 0, "Scenario factors are this run's scenario; rates are annual decimals; amounts USD millions.",
                    fmts.get("text", italic=True))
    ws.write_string(3, 0, "Scalars", fmts.get("text", header=True))
    ws.write_string(3, 1, "Units", fmts.get("text", header=True))
    ws.write_string(3, 2, "Value", fmts.get("text", header=True))
    for key, label, fmt, x in model.scalars:
        r = model.scalar_row[key]
        write_text(ws, fmts, r, 0, label)
        ws.write_string(r, 1, UNITS.get(fmt, ""), fmts.get("text"))
        ws.write_number(r, SCALAR_COL, float(x.v), fmts.get(fmt, fill="#DDEBF7"))
    hr = grid.first_row - 1
    ws.write_string(hr, LABEL_COL, "Line", fmts.get("text", header=True))
    ws.write_string(hr, UNIT_COL, "Units", fmts.get("text", header=True))
    ws.write_string(hr, TOTAL_COL, "Total", fmts.get("text", header=True))
    for t in range(grid.n + 1):
        ws.write_string(hr, grid.col(t), result.dates[t].isoformat() if t < len(result.dates) else "",
                        fmts.get("text", header=True))
    for i, row in enumerate(grid.rows):
        r = grid.first_row + i
        if row.header:
            write_text(ws, fmts, r, LABEL_COL, row.label, bold=True, fill="#F2F2F2")
            continue
        write_text(ws, fmts, r, LABEL_COL, row.label)
        ws.write_string(r, UNIT_COL, UNITS.get(row.fmt, ""), fmts.get("text"))
        vals = []
        for t in range(grid.n + 1):
            expr = grid.cells[(row.key, t)]
            literal = _is_literal(expr.f)
            fmt = fmts.get(row.fmt, fill="#DDEBF7" if literal and row.key != "period" else None)
            _write_formula(ws, r, grid.col(t), expr, fmt, expr.v)
            vals.append(float(expr.v))
        if row.total:
            ws.write_formula(r, TOTAL_COL, f"=SUM({grid.range(row.key, qualified=False)})",
                             fmts.get(row.fmt, bold=True), float(sum(vals)))
    _widths(ws, grid, IN_WIDTHS)
    ws.freeze_panes(grid.first_row, FIRST_COL)


# --------------------------------------------------------------------------- Summary

def _stub_terms(tl) -> list:
    """Summary rows for a stated payment day and stub periods (docs/conventions.md)."""
    rows = []
    if tl.payment_day is not None:
        rows.append(("Payment day", tl.payment_day))
    if tl.first_payment_date is not None:
        rows.append(("First payment date (first period a stub)", tl.first_payment_date.isoformat()))
    if tl.final_date is not None:
        rows.append(("Final date (last period a stub)", tl.final_date.isoformat()))
    return rows


def _payment_terms(am) -> str:
    """' (payment 3,125.00 a period) (rounded to cent)' where the deal states them."""
    out = "" if am.payment is None else f" (payment {am.payment:,.2f} a period)"
    return out + ("" if am.round_to is None else f" (rounded to {am.round_to})")


def _terms(deal, scen, result) -> list:
    tl = deal.timeline
    rows = [
        ("Deal", deal.name), ("Description", deal.deal.description), ("Units", deal.deal.units),
        ("Kind", deal.deal.kind), ("Recourse", deal.deal.recourse),
        ("Financial close", tl.financial_close.isoformat()), ("Period", tl.period),
        ("Construction periods", tl.construction_periods), ("Operating periods", tl.operating_periods),
        *_stub_terms(tl),
        ("Scenario", scen.name), ("Scenario description", scen.description), ("Engine", result.engine),
    ]
    for k, tr in enumerate(deal.tranches):
        rate = (f"fixed {tr.rate.annual:.4%}" if tr.rate.kind == "fixed"
                else f"floating + {tr.rate.spread:.4%}")
        amount = float(result.program.amounts[k])  # a sized tranche states no amount: the sized one
        rows.append((f"Tranche {tr.name}", f"{amount:,.3f}; {rate}; {tr.day_count}; "
                                           f"{tr.amortisation.kind}{_payment_terms(tr.amortisation)}; "
                                           f"maturity period {tr.maturity_period or tl.n_periods}"))
    cov = deal.covenants
    rows.append(("Lock-up DSCR", "-" if cov.lock_up_dscr is None else f"{cov.lock_up_dscr:.2f}x"))
    rows.append(("Default DSCR", "-" if cov.default_dscr is None else
                 f"{cov.default_dscr:.2f}x after {cov.cure_periods} cure period(s)"))
    for acct in deal.accounts:
        rows.append((f"Account {acct.name}", f"{acct.kind}, {acct.target_periods} period(s)"))
    rows.append(("Fire-sale discount", f"{deal.enforcement.fire_sale_discount:.1%}"))
    for note in deal.deal.assumptions:
        rows.append(("Assumption", note))
    return rows


SUMMARY_CHARS_A_LINE = 70   # characters of wrapped text a line in Summary column B (60 wide)


def _wrapped_height(text: str) -> float | None:
    """Row height (points) for `text` wrapped in Summary column B; None for one line."""
    lines = sum(max(1, math.ceil(len(part) / SUMMARY_CHARS_A_LINE)) for part in str(text).split("\n"))
    return None if lines <= 1 else 15.0 * lines


def _write_summary(wb, ws, fmts, deal, scen, result, grid, metrics) -> None:
    ws.write_string(0, 0, "Deal summary", fmts.get("text", bold=True))
    r = 2
    for label, value in _terms(deal, scen, result):
        write_text(ws, fmts, r, 0, label, bold=True, wrap=True)  # wrap: top-aligned with its value
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            ws.write_number(r, 1, value, fmts.get("int"))
        else:  # wrapped inside column B, so no text runs under the charts beside it
            write_text(ws, fmts, r, 1, value, wrap=True)
            height = _wrapped_height(value)
            if height:
                ws.set_row(r, height)
        r += 1
    r += 1
    r = _write_metrics_table(ws, fmts, r, result, metrics)
    r = _write_summary_blocks(ws, fmts, r + 1, deal, scen, result, grid, live=metrics is not None)
    ws.set_column(0, 0, 40)
    ws.set_column(1, 1, 60)
    ws.set_column(2, 2, 10)
    _charts(wb, ws, grid, result, deal)


def _write_metrics_table(ws, fmts, r, result, metrics) -> int:
    ws.write_string(r, 0, f"Metrics ({'live formulas over the Cash flows and Inputs sheets' if metrics else 'engine values'})",
                    fmts.get("text", bold=True))
    r += 1
    m = result.metrics
    rows = []
    if metrics is not None:
        rows = [(label, fmt, expr) for _key, label, fmt, expr in metrics]
    else:
        for name, (label, fmt) in METRIC_META.items():
            rows.append((label, fmt, m.get(name)))
        for name, w in m["wal_years"].items():
            rows.append((f"WAL {name} (years)", "years", w))
    first = r
    ws.add_table(first, 0, first + len(rows), 2, {
        "name": "Metrics", "style": "Table Style Light 9", "autofilter": False,
        "columns": [{"header": "Metric"}, {"header": "Value"}, {"header": "Units"}]})
    for i, (label, fmt, value) in enumerate(rows):
        rr = first + 1 + i
        write_text(ws, fmts, rr, 0, label)
        if isinstance(value, X):
            ws.write_formula(rr, 1, "=" + value.f, fmts.get(fmt), _cell_value(value.v))
        else:
            _write_value(ws, rr, 1, value, fmts.get(fmt))
        ws.write_string(rr, 2, UNITS.get(fmt, ""), fmts.get("text"))
    return first + len(rows) + 1


def _write_summary_blocks(ws, fmts, r, deal, scen, result, grid, live: bool) -> int:
    """Sources and uses at close (live SUM formulas with `live`, else the engine's
    values: the values workbook has no formula), then the breakevens (waterfall.report)."""
    from ..errors import DealError
    from ..report.breakevens import breakevens
    from ..report.figures import sources_and_uses
    from .summary_blocks import write_breakevens, write_sources_uses

    su = sources_and_uses(result, deal.timeline.construction_periods)
    r = write_sources_uses(ws, fmts, r, su, grid, result.program, write_text, live)
    items, note = [], None
    try:
        items = breakevens(deal, scen, engine="reference" if result.engine == "reference" else "auto")
    except (DealError, ValueError) as exc:  # a deal the sweeps cannot vary: say so on the sheet
        note = f"Breakevens not computed: {exc}"
    return write_breakevens(ws, fmts, r, items, scen.name, note)


def _charts(wb, ws, grid, result, deal) -> None:
    from ..ops import G
    from ..report.chart import axis_cap
    program = result.program
    period_row = grid.first_row - 2
    ds = result.ledger[:, G["debt_service"]]
    tested = np.nonzero(ds > 0)[0]
    anchor_row = 1
    if len(tested) and "L:dscr" in grid.index:
        c0, c1 = grid.col(int(tested[0])), grid.col(int(tested[-1]))
        chart = wb.add_chart({"type": "line"})
        for key in ("L:dscr", "cov_lock_up", "cov_default"):
            if key not in grid.index:
                continue
            row = grid.row_of(key)
            series = {"name": [CF_SHEET, row, LABEL_COL],
                      "categories": [CF_SHEET, period_row, c0, period_row, c1],
                      "values": [CF_SHEET, row, c0, row, c1]}
            if key != "L:dscr":
                series["line"] = {"dash_type": "dash", "width": 1.5}
            chart.add_series(series)
        cap = axis_cap(deal.covenants.lock_up_dscr, deal.covenants.default_dscr)
        chart.set_title({"name": f"DSCR against the covenants (axis capped at {cap:.1f}x: "
                                 "max of 3x and 2 x lock-up)", "name_font": {"size": 11}})
        chart.set_x_axis({"name": "Period"})
        chart.set_y_axis({"name": "DSCR (x)", "num_format": '0.0"x"', "min": 0, "max": cap,
                          "major_unit": 0.5 if cap <= 4 else 1.0})
        chart.set_size({"width": 720, "height": 340})
        ws.insert_chart(anchor_row, 4, chart)
        anchor_row += 18
    chart = wb.add_chart({"type": "line"})
    for k in range(program.n_tranches):
        key = f"L:t{k}.balance_close"
        row = grid.row_of(key)
        header = _section_row_above(grid, key)
        chart.add_series({"name": [CF_SHEET, header, LABEL_COL] if header is not None else f"Tranche {k + 1}",
                          "categories": [CF_SHEET, period_row, grid.col(0), period_row, grid.col(grid.n)],
                          "values": [CF_SHEET, row, grid.col(0), row, grid.col(grid.n)]})
    chart.set_title({"name": "Tranche balances (closing)"})
    chart.set_x_axis({"name": "Period"})
    chart.set_y_axis({"name": "USD millions", "num_format": "#,##0"})
    chart.set_size({"width": 720, "height": 340})
    ws.insert_chart(anchor_row, 4, chart)


def _section_row_above(grid, key: str):
    i = grid.index[key]
    while i >= 0:
        if grid.rows[i].header:
            return grid.first_row + i
        i -= 1
    return None


# --------------------------------------------------------------------------- Scenarios

def _write_scenarios(ws, fmts, batch, result) -> None:
    ws.write_string(0, 0, "Metrics by scenario", fmts.get("text", bold=True))
    if batch is not None:
        frame = batch.metrics
        names = [str(s) for s in frame["scenario"]]
        columns = {name: [frame[name].iloc[i] for i in range(len(names))] for name in frame.columns}
    else:
        m = result.metrics
        names = [result.scenario]
        columns = {name: [m.get(name)] for name in ops.METRICS}
        for tname, w in m["wal_years"].items():
            columns[f"wal_{tname}"] = [w]
    rows = []
    for name, (label, fmt) in METRIC_META.items():
        rows.append((label, fmt, columns.get(name, [None] * len(names))))
    for name in result.program.names["tranches"]:
        rows.append((f"WAL {name} (years)", "years", columns.get(f"wal_{name}", [None] * len(names))))
    headers = ["Metric", "Units"] + _unique_headers(names)
    first = 2
    ws.add_table(first, 0, first + len(rows), len(headers) - 1, {
        "name": "ScenarioMetrics", "style": "Table Style Medium 2",
        "columns": [{"header": h, "header_format": fmts.get("text", bold=True, quote=needs_escape(h))}
                    for h in headers]})
    for i, (label, fmt, vals) in enumerate(rows):
        r = first + 1 + i
        write_text(ws, fmts, r, 0, label)
        ws.write_string(r, 1, UNITS.get(fmt, ""), fmts.get("text"))
        for j, value in enumerate(vals):
            _write_value(ws, r, 2 + j, value, fmts.get(fmt))
    ws.set_column(0, 0, 40)
    ws.set_column(1, 1, 8)
    ws.set_column(2, 1 + len(names), 16)
    ws.freeze_panes(first + 1, 2)


def _unique_headers(names) -> list:
    seen, out = set(), []
    for name in names:
        h = name or "scenario"
        while h.lower() in seen or h.lower() in ("metric", "units"):
            h += " (2)"
        seen.add(h.lower())
        out.append(h)
    return out
