"""The waterfall as a spreadsheet: an `Inputs` sheet and a `Cash flows` sheet whose every
cell is a live Excel formula over the inputs, with the value it recalculates to.

The priority of payments is not restated here: each step kind's cash rule (the step
registry, waterfall/steps) is evaluated on cell expressions (protocol.CellPeriod) and
so writes its own formulas; on floats the same rule is the reference's step. Around the
steps this package restates the reference period (reference.py steps 1-4 and 6): the
accrual with coupons and margins that step up by period, refinancing at maturity
(refinancing.py), sources with the exit sale and sponsor support, the DSCR tests
(lock-up; default with cure periods), and the event of default with seizure, the
residual value guarantee and recoveries in tranche order.

Layout: period t is in column D + t on both sheets, so `Cash flows`!F.. reads
`Inputs`!F.. of the same period. Scalars (covenants, enforcement, step terms) are in
column C of `Inputs`. Each Cash-flows row is either a ledger line (`L:<column>`, the
engine's own number) or a working line (cash after each step, event-of-default flags,
the DSRA target, ...).

`build_model` computes every value while it writes every formula (cells.X), in the
same floating-point order as the reference, and `check_against` compares the ledger
lines with the engine's ledger: a deal the formulas would not reproduce is refused.
"""
from __future__ import annotations

from ... import steps
from ...program import Program
from .grid import (
    CF_SHEET, FIRST_COL, IN_SHEET, LABEL_COL, SCALAR_COL, TOTAL_COL, UNIT_COL, Grid, Model, Row,
    check_against, close, ledger_key,
)
from .inputs import build_inputs
from .layout import layout_cash_flows
from .metric_cells import metric_formulas
from .period import cash_flow_period, finish
from .refinancing import refi_tranches


def build_model(program: Program, batch, names_safe=lambda s: s, cf_first_row: int = 6) -> Model:
    """The Inputs and Cash flows grids for scenario 0 of `batch` (values and formulas)."""
    from ...errors import EngineError
    from ...results import ledger_columns

    inputs, scalars, scalar_row, S = build_inputs(program, batch, names_safe)
    cf = Grid(CF_SHEET, program.n_periods, cf_first_row)
    layout_cash_flows(program, cf, names_safe)
    for t in range(program.n_periods + 1):
        cash_flow_period(program, cf, inputs, S, t)
    finish(program, cf, inputs)
    missing = [(r.key, t) for r in cf.rows if r.key for t in range(program.n_periods + 1)
               if (r.key, t) not in cf.cells]
    if missing:
        raise EngineError(f"the formula model left cells empty: {missing[:5]}")
    scalar_list = [(key, label, fmt, S[key]) for key, label, fmt, _v in scalars]
    return Model(program=program, inputs=inputs, scalars=scalar_list, scalar_row=scalar_row, cf=cf,
                 metrics=[], ledger_keys=[ledger_key(program, c) for c in ledger_columns(program)])


def unsupported(program: Program) -> list[str]:
    """Deal features the formulas do not restate (the values workbook still has them):
    an opcode no step kind has, since every registered kind's rule writes formulas."""
    out = [f"step {i + 1}: opcode {int(op)} is no step kind of this version"
           for i, op in enumerate(program.step_op) if int(op) not in steps.BY_CODE]
    return out


__all__ = ["CF_SHEET", "FIRST_COL", "IN_SHEET", "LABEL_COL", "SCALAR_COL", "TOTAL_COL", "UNIT_COL",
           "Grid", "Model", "Row", "build_model", "check_against", "close", "ledger_key",
           "metric_formulas", "refi_tranches", "unsupported"]
