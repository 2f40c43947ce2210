"""A sweep's result table as an Excel workbook an analyst can filter and read.

    write_sweep_workbook(frame, "sweep.xlsx")

Sheet `sweep`: one row per point, the header in row 1 (so pandas.read_excel reads the
frame back as it was), frozen with the `point` column; an Excel Table (filterable);
number formats by column (USD millions, %, 0.00x for ratios, years); blank cells where a
metric is undefined. Sheet `About`: the sweep's definition (deal, mode, seed, digest, the
inputs varied) and what each column means. Text (column names from the vary paths, the
deal name) is only ever written as strings, quote-prefixed where it would read as a
formula. The file is written atomically.
"""
from __future__ import annotations

import math
from pathlib import Path

import numpy as np

from ..files import atomic_path
from .text import needs_escape

SWEEP_SHEET, ABOUT_SHEET = "sweep", "About"

# metric column -> (meaning, number format kind); kinds as in excel.NUMBER_FORMATS
METRIC_COLUMNS = {
    "min_dscr": ("Minimum DSCR", "ratio"), "avg_dscr": ("Average DSCR", "ratio"),
    "llcr": ("LLCR (at COD)", "ratio"), "min_llcr": ("Minimum LLCR", "ratio"), "plcr": ("PLCR (at COD)", "ratio"),
    "default_period": ("Default period (blank: no default)", "int"),
    "lender_claim": ("Lenders' claim at default", "amount"),
    "lender_received": ("Lenders received in the default period", "amount"),
    "recovery_rate": ("Recovery rate", "pct"), "lender_loss": ("Lenders' loss", "amount"),
    "lender_irr": ("Lender IRR (annualised)", "pct"), "equity_irr": ("Equity IRR (annualised)", "pct"),
    "lender_xirr": ("Lender XIRR (actual dates, ACT/365F)", "pct"),
    "equity_xirr": ("Equity XIRR (actual dates, ACT/365F)", "pct"),
    "equity_distributions": ("Equity distributions", "amount"),
    "equity_invested": ("Equity invested (incl. sponsor support)", "amount"),
    "income_tax_paid": ("Income tax paid (owner level; blank: no taxes)", "amount"),
    "equity_irr_after_tax": ("Equity IRR after tax (annualised; blank: no taxes)", "pct"),
}


def column_kind(name: str, dtype, inputs=()) -> tuple[str, str]:
    """(meaning, format kind) of a sweep column."""
    if name == "point":
        return "Point number", "int"
    if name in METRIC_COLUMNS:
        return METRIC_COLUMNS[name]
    if name.startswith("wal_"):
        return f"WAL of {name[4:]} (years from financial close)", "years"
    if name.startswith("loss_"):
        return f"Loss of {name[5:]}", "amount"
    meaning = "Input varied" if name in inputs else "Column"
    try:
        integer = np.issubdtype(dtype, np.integer)
    except TypeError:   # a pandas extension dtype (strings ...)
        integer = False
    return meaning, "int" if integer else "general"


def _formats(wb):
    from .excel import NUMBER_FORMATS
    cache = {}

    def get(kind: str, **extra):
        key = (kind, tuple(sorted(extra.items())))
        if key not in cache:
            props = dict(extra)
            if kind in NUMBER_FORMATS and kind != "text":
                props["num_format"] = NUMBER_FORMATS[kind]
            elif kind == "general":
                props["num_format"] = "General"
            cache[key] = wb.add_format(props)
        return cache[key]
    return get


def _text(ws, fmt, row: int, col: int, text, **style) -> None:
    text = "" if text is None else str(text)
    ws.write_string(row, col, text, fmt("text", **({"quote_prefix": True} if needs_escape(text) else {}), **style))


def _number(ws, row: int, col: int, value, cell_format) -> None:
    try:
        value = float(value)
    except (TypeError, ValueError):
        value = math.nan
    if math.isnan(value) or math.isinf(value):
        ws.write_blank(row, col, None, cell_format)
    else:
        ws.write_number(row, col, value, cell_format)


def write_sweep_workbook(frame, path) -> Path:
    """Write a sweep result frame (waterfall.sweep) to `path` as an .xlsx, atomically."""
    from .safe_xlsx import Workbook

    path = Path(path)
    attrs = dict(getattr(frame, "attrs", {}) or {})
    inputs = list(attrs.get("inputs") or [])
    columns = [str(c) for c in frame.columns]
    kinds = [column_kind(name, frame[col].dtype, inputs) for name, col in zip(columns, frame.columns)]
    n_rows = len(frame)
    with atomic_path(path, ".xlsx") as tmp:
        wb = Workbook(str(tmp), {"nan_inf_to_errors": False})
        fmt = _formats(wb)
        ws = wb.add_worksheet(SWEEP_SHEET)
        # the data first, column by column, then the Table over it
        for j, (col, (_meaning, kind)) in enumerate(zip(frame.columns, kinds)):
            values = frame[col].to_numpy()
            cell_format = fmt(kind)
            if getattr(values.dtype, "kind", "O") in "biuf":
                for i, v in enumerate(values):
                    _number(ws, 1 + i, j, v, cell_format)
            else:
                for i, v in enumerate(values):
                    if v is None or (isinstance(v, float) and math.isnan(v)):
                        ws.write_blank(1 + i, j, None, cell_format)
                    elif isinstance(v, (int, float, np.integer, np.floating)):
                        _number(ws, 1 + i, j, v, cell_format)
                    else:
                        _text(ws, fmt, 1 + i, j, v)
        header_fmt = {name: fmt("text", bold=True, **({"quote_prefix": True} if needs_escape(name) else {}))
                      for name in columns}
        if columns:
            ws.add_table(0, 0, max(n_rows, 1), len(columns) - 1, {
                "name": "Sweep", "style": "Table Style Medium 2",
                "columns": [{"header": name, "header_format": header_fmt[name]} for name in columns]})
        for j, (name, (_meaning, kind)) in enumerate(zip(columns, kinds)):
            width = max(len(name) + 4, 12 if kind in ("amount", "general") else 10)
            ws.set_column(j, j, min(width, 48))
        ws.freeze_panes(1, 1 if columns and columns[0] == "point" else 0)

        about = wb.add_worksheet(ABOUT_SHEET)
        about.write_string(0, 0, "Sweep", fmt("text", bold=True))
        r = 2
        for label, key in (("Deal", "deal"), ("Mode", "mode"), ("Seed", "seed"), ("Digest", "digest")):
            if attrs.get(key) is not None:
                _text(about, fmt, r, 0, label, bold=True)
                _text(about, fmt, r, 1, attrs[key])
                r += 1
        _text(about, fmt, r, 0, "Points", bold=True)
        about.write_number(r, 1, n_rows, fmt("int"))
        r += 2
        about.add_table(r, 0, r + len(columns), 2, {
            "name": "Columns", "style": "Table Style Light 9", "autofilter": False,
            "columns": [{"header": "Column"}, {"header": "Meaning"}, {"header": "Units"}]})
        from .excel import UNITS
        for i, (name, (meaning, kind)) in enumerate(zip(columns, kinds)):
            _text(about, fmt, r + 1 + i, 0, name)
            _text(about, fmt, r + 1 + i, 1, meaning)
            _text(about, fmt, r + 1 + i, 2, UNITS.get(kind, ""))
        about.set_column(0, 0, 40)
        about.set_column(1, 1, 50)
        about.set_column(2, 2, 10)
        ws.activate()
        wb.close()
    return path


PORTFOLIO_KINDS = {
    "default_period": "int", "min_dscr": "ratio", "recovery_rate": "pct", "equity_irr": "pct",
    "debt": "amount", "exposure": "amount", "loss": "amount", "recovery": "amount",
    "commitment": "amount", "lender_loss": "amount",
}


def write_frames_workbook(sheets: dict, path, title: str, notes=()) -> Path:
    """Several DataFrames as one workbook, a sheet each (header in row 1, an Excel Table,
    frozen header, number formats by column name), plus an `About` sheet with `title`
    and `notes`. Text is written as strings only; the file is written atomically."""
    from .safe_xlsx import Workbook

    path = Path(path)
    with atomic_path(path, ".xlsx") as tmp:
        wb = Workbook(str(tmp), {"nan_inf_to_errors": False})
        fmt = _formats(wb)
        for index, (sheet, frame) in enumerate(sheets.items()):
            ws = wb.add_worksheet(str(sheet)[:31])
            columns = [str(c) for c in frame.columns]
            kinds = [PORTFOLIO_KINDS.get(c, "general") for c in columns]
            for j, col in enumerate(frame.columns):
                for i, v in enumerate(frame[col].tolist()):
                    if isinstance(v, str):
                        _text(ws, fmt, 1 + i, j, v)
                    elif v is None:
                        ws.write_blank(1 + i, j, None, fmt(kinds[j]))
                    else:
                        _number(ws, 1 + i, j, v, fmt(kinds[j]))
            if columns:
                ws.add_table(0, 0, max(len(frame), 1), len(columns) - 1, {
                    "name": "".join(ch for ch in f"Table_{sheet}" if ch.isalnum() or ch == "_"),
                    "style": "Table Style Medium 2",
                    "columns": [{"header": c, "header_format": fmt("text", bold=True)} for c in columns]})
                for j, c in enumerate(columns):
                    ws.set_column(j, j, min(max(len(c) + 4, 12), 48))
            ws.freeze_panes(1, 1)
        about = wb.add_worksheet(ABOUT_SHEET)
        _text(about, fmt, 0, 0, title, bold=True)
        for i, note in enumerate(notes):
            _text(about, fmt, 2 + i, 0, note)
        about.set_column(0, 0, 100)
        wb.close()
    return path
