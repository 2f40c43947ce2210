"""The workbook's grids: a sheet as rows x periods of cell expressions (cells.X), the
model both sheets make, row keys of the engine's ledger lines, and the tie-out check."""
from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from ... import ops
from ...program import Program
from ..cells import ONE, X, const, range_ref, ref

CF_SHEET = "Cash flows"
IN_SHEET = "Inputs"
FIRST_COL = 3          # period 0 in column D
LABEL_COL, UNIT_COL, TOTAL_COL = 0, 1, 2
SCALAR_COL = 2


@dataclass
class Row:
    key: str | None          # None for a section header or a spacer
    label: str
    fmt: str = "amount"      # amount | ratio | pct | rate | flag | int | years | factor | text
    total: bool = False      # a Total column (sum over periods)
    level: int = 0           # outline level (1 = a working line, grouped)
    header: bool = False


@dataclass
class Grid:
    """A sheet laid out as rows x periods; cells hold X expressions."""

    sheet: str
    n: int
    first_row: int
    rows: list = field(default_factory=list)
    index: dict = field(default_factory=dict)
    cells: dict = field(default_factory=dict)      # (key, t) -> X (formula + value)
    scalars: dict = field(default_factory=dict)    # key -> (row, X)

    def section(self, title: str) -> None:
        self.rows.append(Row(None, title, "text", header=True))

    def add(self, key: str, label: str, fmt: str = "amount", total: bool = False, level: int = 0):
        assert key not in self.index, key
        self.index[key] = len(self.rows)
        self.rows.append(Row(key, label, fmt, total, level))

    def row_of(self, key: str) -> int:
        return self.first_row + self.index[key]

    def col(self, t: int) -> int:
        return FIRST_COL + t

    def put(self, key: str, t: int, expr) -> X:
        expr = expr if isinstance(expr, X) else const(expr)
        self.cells[(key, t)] = expr
        return self.ref(key, t)

    def ref(self, key: str, t: int, qualified: bool = False) -> X:
        value = self.cells[(key, t)].v
        return ref(value, self.row_of(key), self.col(t), self.sheet if qualified else None)

    def abs_ref(self, key: str, t: int) -> X:
        """An absolute reference ($D$9) to the cell of `key` at period t."""
        return ref(self.cells[(key, t)].v, self.row_of(key), self.col(t), absolute=True)

    def range(self, key: str, qualified: bool = True, last: int | None = None) -> str:
        return range_ref(self.row_of(key), self.col(0), self.col(self.n if last is None else last),
                         self.sheet if qualified else None)

    def values(self, key: str) -> list:
        return [self.cells[(key, t)].v for t in range(self.n + 1)]


@dataclass
class Model:
    program: Program
    inputs: Grid
    scalars: list            # [(key, label, fmt, X)] in Inputs column C
    scalar_row: dict         # key -> row
    cf: Grid
    metrics: list            # [(key, label, fmt, X formula over the sheets)]
    ledger_keys: list        # ledger column name per ledger column, or None


def T(k: int, line: str) -> str:
    return f"L:t{k}.{line}"


def A(a: int, line: str) -> str:
    return f"L:a{a}.{line}"


def F(f: int, line: str) -> str:
    return f"L:f{f}.{line}"


def ledger_key(program: Program, column: str) -> str:
    """Model row key of an engine ledger column ('senior.balance_open' -> 'L:t0.balance_open')."""
    if column in ops.GLOBAL_LINES:
        return f"L:{column}"
    name, line = column.rsplit(".", 1)
    for kind, prefix in (("tranches", "t"), ("accounts", "a"), ("fees", "f"), ("hedges", "h")):
        if name in program.names.get(kind, []) and line in {"tranches": ops.TRANCHE_LINES,
                                                            "accounts": ops.ACCOUNT_LINES,
                                                            "fees": ops.FEE_LINES,
                                                            "hedges": ops.HEDGE_LINES}[kind]:
            return f"L:{prefix}{program.names[kind].index(name)}.{line}"
    raise KeyError(column)



def close(a, b, rel: float = 1e-9, abs_tol: float = 1e-9) -> bool:
    """Tie-out tolerance: relative 1e-9, with an absolute floor of 1e-9 (USD millions)."""
    a_blank = a is None or a == "" or (isinstance(a, float) and math.isnan(a))
    b_blank = b is None or b == "" or (isinstance(b, float) and math.isnan(b))
    if a_blank or b_blank:
        return a_blank and b_blank
    a, b = float(a), float(b)
    return abs(a - b) <= max(rel * max(abs(a), abs(b)), abs_tol)


def check_against(model: Model, ledger: np.ndarray) -> list[str]:
    """Where the formula model's ledger lines differ from the engine's ledger."""
    from ...results import ledger_columns
    problems = []
    for j, (column, key) in enumerate(zip(ledger_columns(model.program), model.ledger_keys)):
        if key not in model.cf.index:   # a line the deal does not use (taxes when off): zero
            if np.any(ledger[:, j] != 0.0):
                problems.append(f"{column}: not in the formulas, yet the engine's is not zero")
            continue
        for t, value in enumerate(model.cf.values(key)):
            if not close(value, float(ledger[t, j])):
                problems.append(f"{column} at period {t}: formulas give {value!r}, the engine {ledger[t, j]!r}")
    return problems



def exit_share(program: Program) -> float:
    """Net share of asset value realised by an exit sale at the last period (0: none)."""
    return float(getattr(program, "exit_share", 0.0) or 0.0)


def put_discount(grid: Grid, rate: X, p0: int, t: int) -> None:
    """Discount factor from COD at the senior's period rate (metrics.cover_ratio)."""
    if t < p0:
        grid.put("discount", t, 0.0)
    elif t == p0:
        grid.put("discount", t, ONE / (ONE + rate))
    else:
        grid.put("discount", t, grid.ref("discount", t - 1) / (ONE + rate))
