"""Cell expressions that carry both a value and the Excel formula that computes it.

The spreadsheet model (formulas.py) is written once, in Python, with these: every
operation computes the number (IEEE doubles, in the same order as the reference
waterfall) and the formula text at the same time, so the value cached in a formula
cell is, by construction, what the formula recalculates to.

Text results ("" for a DSCR where there is no debt service) are strings; an
operation on a string gives NaN, which only ever happens in an IF branch not taken.
"""
from __future__ import annotations

import math

from xlsxwriter.utility import xl_rowcol_to_cell

NAN = math.nan


def _num(v):
    return v if isinstance(v, (int, float)) and not isinstance(v, bool) else (float(v) if isinstance(v, bool) else None)


class X:
    """An expression: value `v` (float, bool or str) and formula text `f` (no '=')."""

    __slots__ = ("v", "f", "atom")

    def __init__(self, v, f: str, atom: bool = True):
        self.v, self.f, self.atom = v, f, atom

    def w(self) -> str:
        """The formula text, parenthesised unless it is a single term."""
        return self.f if self.atom else f"({self.f})"

    def _bin(self, other, op: str, fn):
        other = lift(other)
        a, b = _num(self.v), _num(other.v)
        try:
            value = NAN if a is None or b is None else fn(a, b)
        except ZeroDivisionError:
            value = NAN
        return X(value, f"{self.w()}{op}{other.w()}", atom=False)

    def __add__(self, o):
        return self._bin(o, "+", lambda a, b: a + b)

    def __sub__(self, o):
        return self._bin(o, "-", lambda a, b: a - b)

    def __mul__(self, o):
        return self._bin(o, "*", lambda a, b: a * b)

    def __truediv__(self, o):
        return self._bin(o, "/", lambda a, b: a / b)

    def __radd__(self, o):
        return lift(o) + self

    def __rsub__(self, o):
        return lift(o) - self

    def __rmul__(self, o):
        return lift(o) * self

    def __rtruediv__(self, o):
        return lift(o) / self

    def __lt__(self, o):
        return self._bin(o, "<", lambda a, b: a < b)

    def __gt__(self, o):
        return self._bin(o, ">", lambda a, b: a > b)

    def __le__(self, o):
        return self._bin(o, "<=", lambda a, b: a <= b)

    def __ge__(self, o):
        return self._bin(o, ">=", lambda a, b: a >= b)

    def __repr__(self) -> str:
        return f"X({self.v!r}, {self.f!r})"


def const(v) -> X:
    """A literal number (only small exact constants are written as literals)."""
    if isinstance(v, str):
        return X(v, '"' + v.replace('"', '""') + '"')
    v = float(v)
    text = str(int(v)) if v.is_integer() and abs(v) < 1e15 else repr(v)
    return X(v, text if v >= 0 else f"({text})")


def lift(v) -> X:
    return v if isinstance(v, X) else const(v)


ZERO = const(0.0)
ONE = const(1.0)
EMPTY = const("")


def _truthy(v) -> bool:
    if isinstance(v, str):
        return False
    return bool(v) and not (isinstance(v, float) and math.isnan(v))


def IF(cond, a, b) -> X:
    cond, a, b = lift(cond), lift(a), lift(b)
    return X(a.v if _truthy(cond.v) else b.v, f"IF({cond.f},{a.f},{b.f})")


def MIN(*args) -> X:
    args = [lift(a) for a in args]
    vals = [_num(a.v) for a in args]
    value = NAN if any(v is None for v in vals) else min(vals)
    return X(value, f"MIN({','.join(a.f for a in args)})")


def MAX(*args) -> X:
    args = [lift(a) for a in args]
    vals = [_num(a.v) for a in args]
    value = NAN if any(v is None for v in vals) else max(vals)
    return X(value, f"MAX({','.join(a.f for a in args)})")


def EQ(a, b) -> X:
    """a = b, as Excel compares two numbers (exactly)."""
    a, b = lift(a), lift(b)
    x, y = _num(a.v), _num(b.v)
    return X(NAN if x is None or y is None else x == y, f"{a.w()}={b.w()}", atom=False)


def OR(*args) -> X:
    args = [lift(a) for a in args]
    return X(any(_truthy(a.v) for a in args), f"OR({','.join(a.f for a in args)})")


def FLAG(cond) -> X:
    """1 if cond else 0, as a number."""
    cond = lift(cond)
    return X(1.0 if _truthy(cond.v) else 0.0, f"IF({cond.f},1,0)")


def SUM_SEQ(items) -> X:
    """a + b + c ... evaluated left to right, as Python's sum() from 0.0 (0.0 + a == a)."""
    items = [lift(i) for i in items]
    if not items:
        return ZERO
    acc = items[0]
    for item in items[1:]:
        acc = acc + item
    return acc


def ref(value, row: int, col: int, sheet: str | None = None, absolute: bool = False) -> X:
    """A reference to a cell (zero-based row, col) holding `value`."""
    cell = xl_rowcol_to_cell(row, col, row_abs=absolute, col_abs=absolute)
    if sheet:
        cell = f"{quote_sheet(sheet)}!{cell}"
    return X(value, cell)


def quote_sheet(name: str) -> str:
    return f"'{name}'" if not name.replace("_", "").isalnum() else name


def range_ref(row: int, col0: int, col1: int, sheet: str | None = None) -> str:
    text = f"{xl_rowcol_to_cell(row, col0)}:{xl_rowcol_to_cell(row, col1)}"
    return f"{quote_sheet(sheet)}!{text}" if sheet else text
