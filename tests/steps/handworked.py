"""Shared helpers for the hand-worked step tests (tests/steps/test_*.py).

Each test file holds a tiny deal written inline as TOML and, in its comments, the
ledger worked out by hand period by period. The helpers here only load the deal, run
it on an engine, read a recalculated workbook and compare ledger lines with the hand
values; they never compute an expected number.

The live-formula workbooks of every test file are recalculated by LibreOffice in ONE
soffice start (each start costs seconds): a test file names the deal and the scenario
of its workbook in `workbook_case()`, and the session fixture `lo_ledgers`
(tests/steps/conftest.py) writes and recalculates the workbooks of every file in the
session, as tests/test_excel.py's `recalculated` fixture does for its cases.
"""
from __future__ import annotations

import math
import tomllib
from pathlib import Path

import pytest

import waterfall
from waterfall.load import deal_from_data
from waterfall.output.recalc import soffice

ENGINES = ("reference", "compiled")
ABS = 1e-9      # engine ledger vs hand value: absolute 1e-9 (USD millions) ...
REL = 1e-9      # ... or relative 1e-9, whichever is wider (as waterfall.output.formulas.close)
NAN = float("nan")

# As tests/test_excel.py: skip on a developer machine without LibreOffice; in CI
# (CI=true) tests/conftest.py fails the session before any test when it is missing.
needs_lo = pytest.mark.skipif(soffice() is None, reason="LibreOffice (soffice) is not installed")


def deal_from_toml(text: str, source: str = "<hand-worked deal>") -> waterfall.Deal:
    """A validated, checked Deal from inline TOML text."""
    return deal_from_data(tomllib.loads(text), source)


def run(deal, scenario: str, engine: str):
    """waterfall.run on one engine; the compiled kernel is skipped only where it is not
    built (in CI tests/conftest.py makes a missing kernel fail the session)."""
    if engine == "compiled" and not waterfall.kernel_available():
        pytest.skip("the compiled kernel is not built")
    return waterfall.run(deal, scenario, engine=engine)


def _blank(v) -> bool:
    return v is None or v == "" or (isinstance(v, float) and math.isnan(v))


def _same(want, got, rel: float, abs_tol: float) -> bool:
    if _blank(want) or _blank(got):
        return _blank(want) and _blank(got)
    want, got = float(want), float(got)
    return abs(want - got) <= max(rel * max(abs(want), abs(got)), abs_tol)


def ledger_lines(result) -> dict[str, list]:
    """The engine's ledger as {column: [value per period]} (result.cash_flows() columns)."""
    frame = result.cash_flows()
    return {c: [float(v) for v in frame[c]] for c in frame.columns if c != "date"}


def assert_lines(got: dict[str, list], expected: dict[str, list], rel: float = REL,
                 abs_tol: float = ABS, what: str = "") -> None:
    """Every expected line equals the ledger line period by period. A hand line may be
    shorter than the ledger: the periods after it must then be zero (after an event of
    default the deal has ended)."""
    bad = []
    for line, want in expected.items():
        assert line in got, f"{what}: no ledger line {line!r}"
        have = got[line]
        full = list(want) + [0.0] * (len(have) - len(want))
        assert len(full) == len(have), f"{what}: {line} has {len(have)} periods, the hand ledger {len(want)}"
        for t, (w, g) in enumerate(zip(full, have)):
            if not _same(w, g, rel, abs_tol):
                bad.append((line, t, w, g))
    assert not bad, f"{what}: {len(bad)} cells differ from the hand ledger (line, period, hand, engine): " \
                    + "; ".join(map(str, bad[:12]))


def assert_metrics(result, expected: dict) -> None:
    m = result.metrics
    bad = [(k, v, m[k]) for k, v in expected.items() if not _same(v, m[k], REL, ABS)]
    assert not bad, f"metrics differ from the hand values (metric, hand, engine): {bad}"


# --------------------------------------------------------------------------- workbooks

def _workbook_ledger(recalculated: Path, deal, result) -> dict[str, list]:
    """{column: [cell value per period]} of the ledger lines on the recalculated
    Cash flows sheet (rows located as tests/test_excel.py `_ledger_rows` does)."""
    import openpyxl

    from waterfall.compile import compile_scenarios
    from waterfall.output.formulas import CF_SHEET, build_model
    from waterfall.results import ledger_columns
    from waterfall.scenarios import prepare

    _, lowered = prepare(deal, deal.scenario(result.scenario))
    model = build_model(result.program, compile_scenarios([lowered], result.program))
    ws = openpyxl.load_workbook(recalculated, data_only=True)[CF_SHEET]
    grid = model.cf
    out = {}
    for column, key in zip(ledger_columns(result.program), model.ledger_keys):
        if key not in grid.index:   # a line the deal does not use (taxes when off) has no row: zero
            out[column] = [0.0] * (grid.n + 1)
            continue
        r = grid.row_of(key) + 1
        out[column] = [ws.cell(row=r, column=grid.col(t) + 1).value for t in range(grid.n + 1)]
    return out


def recalculate_cases(cases: dict, tmp: Path) -> dict:
    """cases {key: a callable returning (deal, scenario name)} -> {key: {column:
    [LibreOffice value per period]} or the exception that building, writing or
    recalculating that workbook raised}. Every workbook goes through one soffice start."""
    from waterfall.output.excel import write_workbook
    from waterfall.output.recalc import recalculate_many

    out, written = {}, {}
    for key, case in cases.items():
        try:
            deal, scenario = case()
            result = waterfall.run(deal, scenario, engine="reference")
            src = write_workbook(result, tmp / f"{key.replace('.', '_')}.xlsx", formulas=True, deal=deal)
            written[key] = (src, deal, result)
        except Exception as exc:  # noqa: BLE001 - reported by that file's test
            out[key] = exc
    if written:
        recalculated = recalculate_many([src for src, _d, _r in written.values()], tmp / "lo")
        for (key, (_src, deal, result)), path in zip(written.items(), recalculated):
            try:
                out[key] = _workbook_ledger(path, deal, result)
            except Exception as exc:  # noqa: BLE001
                out[key] = exc
    return out


def workbook_lines(lo_ledgers: dict, module: str) -> dict[str, list]:
    """The recalculated ledger of `module`'s workbook (re-raising its failure, if any)."""
    got = lo_ledgers[module]
    if isinstance(got, Exception):
        raise got
    return got
