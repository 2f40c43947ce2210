"""Blocks of the workbook's Summary sheet besides the terms and metrics: sources and uses
at close (live SUM formulas over the Cash flows sheet, the engine's value cached) and the
breakevens (values from the engine's sweeps, waterfall.report.breakevens)."""
from __future__ import annotations

from xlsxwriter.utility import xl_rowcol_to_cell

from .cells import quote_sheet, range_ref

# Sources-and-uses line (waterfall.report.figures) -> ledger lines it sums; '{k}' for each tranche.
SU_LINES = {
    "su.idc_debt": ["L:t{k}.interest_capitalised"], "su.idc": ["L:t{k}.interest_capitalised"],
    "su.equity_in": ["L:equity_in"], "su.sponsor_support": ["L:sponsor_support"],
    "su.equity_cure": ["L:equity_cure"], "su.revenue": ["L:revenue"], "su.seizure_net": ["L:seizure_net"],
    "su.reserve_interest": ["L:reserve_interest"],
    "su.guarantee_paid": ["L:guarantee_paid"], "su.exit_proceeds": ["L:exit_proceeds"],
    "su.capex": ["L:capex"], "su.interest_paid": ["L:t{k}.interest_paid"],
    "su.repaid": ["L:t{k}.principal_paid", "L:t{k}.prepayment", "L:t{k}.recovery_interest",
                  "L:t{k}.recovery_principal"],
    "su.opex": ["L:opex"], "su.fees": ["L:fees_paid"], "su.workout_costs": ["L:workout_costs"],
    "su.distributions": ["L:equity_distribution"],
    "su.lc_drawn": ["L:a{a}.lc_drawn"], "su.lc_reimbursed": ["L:a{a}.lc_reimbursed"],
}


def su_formula(line_key: str, grid, program, last: int) -> str:
    """The Excel formula (no '=') of a sources-and-uses line over periods 0..last."""
    sheet = grid.sheet
    if line_key == "su.reserves":   # closing reserves at the end less opening reserves at close
        end = f"{quote_sheet(sheet)}!{xl_rowcol_to_cell(grid.row_of('L:reserve_funding'), grid.col(last))}"
        start = f"{quote_sheet(sheet)}!{xl_rowcol_to_cell(grid.row_of('L:reserve_release'), grid.col(0))}"
        return f"{end}-{start}"
    from ..report.figures import CLOSE_KEYS

    at_close = {CLOSE_KEYS[k]: v for k, v in (program.uses_at_close or {}).items() if v}
    if line_key in at_close:        # a cost at close inside the capex line: the compiled amount
        return repr(float(at_close[line_key]))
    if line_key == "su.capex" and at_close:
        rest = "+".join(repr(float(v)) for v in at_close.values())
        return f"SUM({range_ref(grid.row_of('L:capex'), grid.col(0), grid.col(last), sheet)})-({rest})"
    if line_key.startswith("su.draw."):
        k = program.names["tranches"].index(line_key[len("su.draw."):])
        keys = [f"L:t{k}.draw"]
    else:
        keys = [p.format(k=k, a=k) for p in SU_LINES[line_key] for k in
                (range(program.n_tranches) if "{k}" in p else range(program.n_accounts) if "{a}" in p else [0])]
    return "+".join(f"SUM({range_ref(grid.row_of(key), grid.col(0), grid.col(last), sheet)})" for key in keys)


def write_sources_uses(ws, fmts, r: int, su, grid, program, write_text, live: bool) -> int:
    """Sources and uses from row r (SUM formulas over Cash flows with `live`, else
    values); returns the next free row."""
    how = "SUM formulas over Cash flows" if live else "engine values"
    ws.write_string(r, 0, f"Sources and uses at close (periods 0 to {su.last_period}: financial close to "
                          f"the last period before operation; {how})", fmts.get("text", bold=True))
    r += 1
    for title, lines in (("Sources", su.sources), ("Uses", su.uses)):
        ws.write_string(r, 0, title, fmts.get("text", header=True))
        ws.write_string(r, 1, "USD m", fmts.get("text", header=True))
        first = r + 1
        for line in lines:
            r += 1
            write_text(ws, fmts, r, 0, line.label)
            if live:
                ws.write_formula(r, 1, "=" + su_formula(line.key, grid, program, su.last_period),
                                 fmts.get("amount"), float(line.value))
            else:
                ws.write_number(r, 1, float(line.value), fmts.get("amount"))
        r += 1
        total = su.total_sources if title == "Sources" else su.total_uses
        ws.write_string(r, 0, f"Total {title.lower()}", fmts.get("text", bold=True))
        if live:
            ws.write_formula(r, 1, f"=SUM({xl_rowcol_to_cell(first, 1)}:{xl_rowcol_to_cell(r - 1, 1)})",
                             fmts.get("amount", bold=True), float(total))
        else:
            ws.write_number(r, 1, float(total), fmts.get("amount", bold=True))
        r += 1
    return r + 1


def write_breakevens(ws, fmts, r: int, items, scenario: str, note: str | None) -> int:
    """The breakevens (waterfall.report.breakevens) from row r; returns the next free row."""
    from ..report.breakevens import describe, target_label

    ws.write_string(r, 0, f"Breakevens (on top of scenario {scenario}; engine values from sweeps)",
                    fmts.get("text", bold=True))
    r += 1
    if note:
        ws.write_string(r, 0, note, fmts.get("text", italic=True))
        return r + 2
    for col, head in enumerate(("Stress and crossing", "Breakeven", "Units")):
        ws.write_string(r, col, head, fmts.get("text", header=True))
    for b in items:
        r += 1
        ws.write_string(r, 0, f"{b.stress} {target_label(b.target)}", fmts.get("text"))
        if b.value is None:
            ws.write_string(r, 1, describe(b), fmts.get("text"))
        else:
            fmt = "pct" if b.unit == "pct" else "amount"
            ws.write_number(r, 1, float(b.value), fmts.get(fmt))
        ws.write_string(r, 2, "bp" if b.unit == "bp" else "", fmts.get("text"))
    r += 1
    ws.write_string(r, 0, "Rent haircut: all rent x (1 - haircut) from period 1. Re-let rate: the tenant stops "
                          "paying at COD, re-let at once at this share of the rent (the highest that crosses). "
                          "Rate shock: base rate + shock from close.", fmts.get("text", italic=True))
    return r + 2
