"""Workbooks that every reader opens: text made valid for a cell, writing errors named.

Excel (and the XML under it) cannot hold most control characters, and a cell holds at
most 32,767 characters. Every string written through `Workbook` here - cells, table
headers, sheet names - has its control characters written as visible escapes (\\x1b)
and, past the limit, is cut with a marker saying how much was cut (with one warning
per workbook on stderr). A file that cannot be created (a full disk, a missing folder)
is an OSError naming the reason, which waterfall.files turns into an OutputError.
"""
from __future__ import annotations

import re
import sys

import xlsxwriter
from xlsxwriter.exceptions import FileCreateError
from xlsxwriter.worksheet import Worksheet

CELL_LIMIT = 32_767
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ufffe\uffff]")


def _escape(match: re.Match) -> str:
    return match.group().encode("unicode_escape").decode("ascii")


def cell_text(text: object, limit: int = CELL_LIMIT) -> tuple[str, bool]:
    """(`text` valid for a cell, whether it was cut)."""
    text = _CONTROL.sub(_escape, str(text))
    if len(text) <= limit:
        return text, False
    marker = f" ... [cut: {len(text):,} characters, Excel's cell limit is {limit:,}]"
    return text[: limit - len(marker)] + marker, True


class SafeWorksheet(Worksheet):
    """A worksheet whose strings are made valid for a cell (see cell_text)."""

    def _write_string(self, row, col, string, cell_format=None):
        text, cut = cell_text(string)
        if cut and not getattr(self, "_warned_cut", False):
            self._warned_cut = True
            print(f"warning: a text cell on sheet '{self.name}' was longer than Excel's limit of "
                  f"{CELL_LIMIT:,} characters and is cut (marked in the cell)", file=sys.stderr)
        return super()._write_string(row, col, text, cell_format)

    def add_table(self, first_row, first_col, last_row, last_col, options=None):
        options = dict(options or {})
        if "columns" in options:
            options["columns"] = [{**c, "header": cell_text(c["header"], 255)[0]} if "header" in c else c
                                  for c in options["columns"]]
        return super().add_table(first_row, first_col, last_row, last_col, options)


class Workbook(xlsxwriter.Workbook):
    """xlsxwriter's Workbook with SafeWorksheet sheets and sheet names made valid."""

    def add_worksheet(self, name=None, worksheet_class=None):
        if name is not None:
            name = re.sub(r"[\[\]:*?/\\]", "_", cell_text(name, 31)[0].replace("\\", "_"))[:31] or "Sheet"
        return super().add_worksheet(name, worksheet_class or SafeWorksheet)

    def close(self):
        try:
            return super().close()
        except FileCreateError as exc:   # xlsxwriter wraps the OSError of creating the file
            cause = exc.args[0] if exc.args and isinstance(exc.args[0], OSError) else None
            if cause is not None:
                raise OSError(cause.errno, cause.strerror or str(cause)) from exc
            raise OSError(str(exc)) from exc
