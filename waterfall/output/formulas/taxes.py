"""The owner-level income tax as formulas (waterfall/taxes.py; docs/taxes.md): taxable
income before depreciation from the period's ledger lines, tax depreciation from the
Inputs sheet, the gain on an exit sale over the undepreciated basis, the loss carried
forward (or used at once) and the income tax; the after-tax equity cash flow. Periods
from the lenders' acceleration on are not taxed (the engine's rule)."""
from __future__ import annotations

from ...program import Program
from ..cells import IF, MIN, ZERO
from ..labels import GLOBAL_LABELS
from .grid import Grid, T, exit_share


def tax_scalars(program: Program) -> list:
    """Column C of Inputs: the tax terms."""
    if not program.tax_on:
        return []
    out = [("tax_rate", "Income tax rate (owner level)", "pct", float(program.tax_rate)),
           ("tax_basis", "Tax basis: total asset cost (an exit gain is measured from it)", "amount",
            float(program.tax_basis))]
    if not program.tax_offset:
        out.append(("tax_nol_limit", "Share of taxable income a carried-forward loss may offset", "pct",
                    float(program.tax_nol_limit)))
    return out


def tax_input_rows(grid: Grid, program: Program) -> None:
    if program.tax_on:
        grid.section("Taxes")
        grid.add("tax_dep", "Tax depreciation (by component class, from COD)", "amount", total=True)


def tax_inputs(grid: Grid, program: Program, t: int) -> None:
    if program.tax_on:
        grid.put("tax_dep", t, float(program.tax_depreciation[t]))


def tax_rows(grid: Grid, program: Program) -> None:
    """The Cash flows sheet's tax rows (after the equity's)."""
    if not program.tax_on:
        return
    losses = "used at once against other income" if program.tax_offset else "carried forward"
    grid.section(f"Taxes (owner level; losses {losses})")
    grid.add("taxed", "Taxed: no acceleration so far (1 = yes)", "flag", level=1)
    interest = " - cash interest paid" if program.tax_interest else ""
    grid.add("tax_income", f"Taxable income before depreciation: CFADS - fees - hedges{interest}", "amount",
             total=True, level=1)
    grid.add("L:depreciation", GLOBAL_LABELS["depreciation"], "amount", total=True)
    grid.add("tax_basis_left", "Tax basis not yet depreciated", "amount", level=1)
    grid.add("L:taxable_income", GLOBAL_LABELS["taxable_income"], "amount", total=True)
    if not program.tax_offset:
        grid.add("tax_loss_used", "Tax loss carried forward used this period", "amount", total=True, level=1)
    grid.add("L:tax_loss_carried", GLOBAL_LABELS["tax_loss_carried"], "amount")
    grid.add("L:income_tax", GLOBAL_LABELS["income_tax"], "amount", total=True)
    grid.add("L:equity_after_tax", GLOBAL_LABELS["equity_after_tax"], "amount", total=True)


def tax_period(c) -> None:
    """Period t's tax cells (taxes.owner_tax, in its order of operations)."""
    program, S = c.program, c.S
    if not program.tax_on:
        return
    taxed = c.put("taxed", IF(c.ref("accel_at") < 0, 1, 0))
    income = (c.ref("L:cfads") - c.ref("L:fees_paid")) - c.ref("L:hedge_settlement")
    if program.tax_interest:
        for k in range(program.n_tranches):
            income = income - c.ref(T(k, "interest_paid"))
    income = c.put("tax_income", IF(taxed, income, 0))
    dep = c.put("L:depreciation", IF(taxed, c.I("tax_dep"), 0))
    left = c.put("tax_basis_left", c.P("tax_basis_left", S["tax_basis"]) - dep)
    taxable = income - dep
    if c.t == program.n_periods and exit_share(program) > 0:   # the exit sale's gain over the basis
        proceeds = c.ref("L:exit_proceeds")
        taxable = taxable + IF(proceeds > 0, proceeds - left, 0)
    taxable = c.put("L:taxable_income", IF(taxed, taxable, 0))
    if program.tax_offset:
        c.put("L:tax_loss_carried", ZERO)
        tax = c.put("L:income_tax", IF(taxed, S["tax_rate"] * taxable, 0))
    else:
        before = c.P("L:tax_loss_carried")
        used = c.put("tax_loss_used", IF(taxed, IF(taxable < 0, 0, MIN(before, S["tax_nol_limit"] * taxable)), 0))
        c.put("L:tax_loss_carried", IF(taxed, IF(taxable < 0, before - taxable, before - used), 0))
        tax = c.put("L:income_tax", IF(taxed, IF(taxable < 0, 0, S["tax_rate"] * (taxable - used)), 0))
    c.put("L:equity_after_tax", c.ref("equity_cf") - tax)
