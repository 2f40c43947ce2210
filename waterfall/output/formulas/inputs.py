"""The Inputs sheet: the deal's terms (scalars in column C) and the scenario's per-period
inputs (rent, multipliers, rates, draws, schedules, flags), values and formulas."""
from __future__ import annotations

import datetime as dt

import numpy as np

from ... import ops, reference, steps
from ...program import Program
from ..cells import EQ, IF, MAX, ZERO, ref
from .grid import IN_SHEET, SCALAR_COL, Grid, exit_share, put_discount
from .hedges import hedge_input_rows, hedge_inputs, hedge_scalars
from .refinancing import has_ext, has_refi, refi_cures_possible, refi_tranches
from .taxes import tax_input_rows, tax_inputs, tax_scalars
from .valuation import (
    appraisal, collateral, component_values, drc_period, market_period, sale_value_rows, valuation_rows,
    valuation_scalars,
)

SERIAL_EPOCH = dt.date(1899, 12, 30)  # day 0 of spreadsheet date serials (Excel, LibreOffice)


def scenario_arrays(program: Program, batch, s: int = 0):
    """(factor, base rate, annual rate, per-period rate) of scenario s."""
    factor, base = reference.scenario_factors(program, batch, s)
    annual, per_rate = reference.tranche_rates(program, base, factor[ops.CH_RATE_ADD])
    return factor, base, annual, per_rate


def _covenant_scalars(program: Program) -> list:
    out = []
    if program.lock_up_dscr >= 0:
        out.append(("lock_up_dscr", "Lock-up DSCR (below it, cash is locked up)", "ratio", program.lock_up_dscr))
    if program.default_dscr >= 0:
        out.append(("default_dscr", "Default DSCR (event of default below it)", "ratio", program.default_dscr))
        out.append(("cure_periods", "Cure periods before a DSCR default", "int", float(program.cure_periods)))
    if program.hedge_ratio_min >= 0:
        out.append(("hedge_ratio_min", "Hedge-ratio covenant: minimum notional / floating covenant debt", "pct",
                    float(program.hedge_ratio_min)))
    if program.default_dscr >= 0 and program.breach_accelerates:
        out.append(("accelerate_after", "Periods in breach (past the cure periods) before the lenders "
                                        "accelerate", "int", float(program.accelerate_after)))
    if cures_possible(program) or refi_cures_possible(program):
        out.append(("cure_max", "Equity cures allowed (over the life)", "int", float(program.cure_max)))
        out.append(("cure_until", "Last period an equity cure may be made", "int", float(program.cure_until)))
        if program.cure_max_amount >= 0:
            out.append(("cure_max_amount", "Equity cure: at most, per cure", "amount",
                        float(program.cure_max_amount)))
    if int(program.support_kind) == 1:
        out.append(("support_cap", "Sponsor support: cap (total over the life)", "amount",
                    float(program.support_cap)))
    return out + [
        ("sale_periods", "Periods from acceleration to the sale", "int", float(program.sale_periods)),
        ("workout_cost", "Workout costs a period (receiver, legal)", "amount", float(program.workout_cost)),
        ("default_margin", "Default margin (annual, on top of the contract rate in the workout)", "rate",
         float(program.default_margin)),
        ("fire_sale", "Fire-sale discount on the sale value", "pct", program.fire_sale),
        ("cost_share", "Enforcement costs (share of gross value)", "pct", program.cost_share),
        ("cost_fixed", "Enforcement costs (fixed)", "amount", program.cost_fixed),
    ]


def cures_possible(program: Program) -> bool:
    """An equity cure can be made: a default DSCR, cures allowed, a period they may be made."""
    return program.default_dscr >= 0 and int(program.cure_max) > 0 and int(program.cure_until) >= 0


def _refi_scalars(program: Program, k: int) -> list:
    name, floor = program.names["tranches"][k], float(program.refi_floor[k])
    out = [(f"t{k}.maturity_period", f"Refinancing {name}: maturity period (original terms)", "int",
            float(program.maturity[k]))]
    if has_refi(program, k):
        rate = ([(f"t{k}.refi_fixed", f"Refinancing {name}: fixed rate (annual)", "rate", float(program.refi_fixed[k]))]
                if program.refi_rate_kind[k] == 1 else [
            (f"t{k}.refi_spread", f"Refinancing {name}: spread (annual)", "rate", float(program.refi_spread[k])),
            (f"t{k}.refi_floor", f"Refinancing {name}: base-rate floor (annual)" +
             (" (none)" if floor <= -1e8 else ""), "rate", floor)])
        profile = ("straight-line", "level payment", "sculpted")[int(program.refi_profile[k])]
        out += rate + [
            (f"t{k}.refi_periods", f"Refinancing {name}: amortisation periods ({profile})", "int",
             float(program.refi_periods[k])),
            (f"t{k}.refi_min_dscr", f"Refinancing {name}: minimum DSCR of the new loan's sizing (0: no test)",
             "ratio", float(program.refi_min_dscr[k])),
        ]
        if program.refi_max_ltv[k] > 0:
            out.append((f"t{k}.refi_max_ltv", f"Refinancing {name}: maximum LTV, all the SPV's debt", "pct",
                        float(program.refi_max_ltv[k])))
        if program.refi_min_dy[k] > 0:
            out.append((f"t{k}.refi_min_dy", f"Refinancing {name}: minimum debt yield, all the SPV's debt", "pct",
                        float(program.refi_min_dy[k])))
    if has_ext(program, k):
        out += [
            (f"t{k}.ext_options", f"Extension {name}: options", "int", float(program.ext_options[k])),
            (f"t{k}.ext_periods", f"Extension {name}: periods each option adds", "int", float(program.ext_periods[k])),
            (f"t{k}.ext_fee", f"Extension {name}: fee (share of the balloon)", "pct", float(program.ext_fee[k])),
            (f"t{k}.ext_step", f"Extension {name}: margin step-up (annual)", "rate", float(program.ext_step[k])),
        ]
        for key, label, fmt, value in (("ext_min_dscr", "minimum DSCR, the period before", "ratio",
                                        program.ext_min_dscr[k]),
                                       ("ext_max_ltv", "maximum LTV, all the SPV's debt", "pct", program.ext_max_ltv[k]),
                                       ("ext_min_dy", "minimum debt yield, all the SPV's debt", "pct",
                                        program.ext_min_dy[k])):
            if value > 0:
                out.append((f"t{k}.{key}", f"Extension {name}: {label}", fmt, float(value)))
    return out


def scalar_inputs(program: Program) -> list:
    """Column C of Inputs: (key, label, format, value), the steps' own terms included."""
    tr = program.names["tranches"]
    scalars = _covenant_scalars(program)
    for i, kind in enumerate(steps.kinds_of(program.step_op)):
        scalars += kind.scalars(program, i, int(program.step_arg[i]))
    for k in range(program.n_tranches):
        if program.bb_advance[k] > 0:
            scalars.append((f"t{k}.advance", f"Borrowing base {tr[k]}: advance rate", "pct",
                            float(program.bb_advance[k])))
    for k in range(program.n_tranches):
        if program.round_to[k] > 0:
            scalars.append((f"t{k}.round_to", f"Rounding {tr[k]}: interest to the nearest (deal units)", "amount",
                            float(program.round_to[k])))
    for k in refi_tranches(program):
        scalars += _refi_scalars(program, k)
    if exit_share(program) > 0:
        scalars.append(("exit_share", "Exit at the last period: net share of asset value realised", "pct",
                        exit_share(program)))
    if program.rvg_cap > 0:
        scalars.append(("rvg_cap", "Residual value guarantee: cap", "amount", float(program.rvg_cap)))
    scalars += valuation_scalars(program)
    scalars += hedge_scalars(program)
    scalars += tax_scalars(program)
    return scalars


class _Shape:
    """What decides the Inputs sheet's rows."""

    def __init__(self, program: Program):
        self.cross = bool(program.cross_accelerates)
        self.refis = refi_tranches(program)
        self.any_floating = bool(program.is_floating.any()) or bool(self.refis)
        self.covered = [k for k in range(program.n_tranches) if program.dscr_mask[k]]
        # a senior that can refinance discounts at its rate as refinanced: the discount
        # factors then live on the Cash flows sheet (they depend on the waterfall)
        self.discount_here = bool(self.covered) and self.covered[0] not in self.refis
        self.last_maturity = int(program.llcr_end)   # the LLCR's last period (notional maturity)
        self.proj_cfads = bool(self.covered) or bool(self.refis) or appraisal(program)
        self.tenant = bool(program.tenant_accelerates)


def _top_rows(grid: Grid, shape: _Shape) -> None:
    grid.add("period", "Period", "int")
    grid.add("years", "Years from financial close", "years")
    grid.add("pay_date", "Payment date (business-day adjusted; the XIRR's dates)", "date")
    grid.add("last", "Last period (1 = yes)", "flag")
    grid.section("Revenue and costs")
    grid.add("rent", "Scheduled rent", "amount", total=True)
    grid.add("rent_mult", "Rent multiplier (scenario)", "factor")
    grid.add("opex", "Scheduled operating costs", "amount", total=True)
    grid.add("opex_mult", "Opex multiplier (scenario)", "factor")
    grid.add("capex", "Construction spend (capex)", "amount", total=True)
    grid.add("equity_in", "Equity contributions", "amount", total=True)
    if shape.tenant:
        grid.add("tenant_event", "Tenant event: rent earned last period, due now, none paid (1 = yes)", "flag")
    if shape.cross:
        grid.add("cross_mult", "Linked obligor performing (scenario; 0 = it has defaulted)", "factor")
    if shape.refis:
        grid.add("refi_open", "Refinancing market open (scenario; > 0 = open)", "factor")
        grid.add("refi_add", "Refinancing margin add-on (scenario, annual; locked into a new loan at signing)",
                 "rate")
    if shape.any_floating:
        grid.section("Base rate")
        grid.add("base_rate", "Base rate (annual, scenario path)", "rate")
        grid.add("rate_add", "Rate shock (annual, added)", "rate")


def _tranche_rows(grid: Grid, program: Program, shape: _Shape, k: int, names_safe) -> None:
    grid.section(f"Tranche: {names_safe(program.names['tranches'][k])}")
    grid.add(f"t{k}.draw", "Draws", "amount", total=True)
    if program.is_floating[k]:
        grid.add(f"t{k}.spread", "Spread (annual)", "rate")
        grid.add(f"t{k}.floor", "Base-rate floor (annual)", "rate")
    grid.add(f"t{k}.annual", "Interest rate (annual, all-in)", "rate")
    grid.add(f"t{k}.accrual", "Accrual (years in the period)", "years")
    grid.add(f"t{k}.per_rate", "Interest rate for the period", "rate")
    grid.add(f"t{k}.sched", "Scheduled principal", "amount", total=True)
    grid.add(f"t{k}.cap", "Interest capitalised (1 = yes)", "flag")
    if k in shape.refis:
        grid.add(f"t{k}.maturity", "Maturity period, original terms (1 = yes)", "flag")
        grid.add(f"t{k}.live", "Up to the original maturity (1 = yes)", "flag")
        if has_refi(program, k):
            grid.add(f"t{k}.refi_annual", "Refinancing rate before the market add-on (annual: max(base + shock, "
                                          "floor) + spread, or the fixed rate)", "rate")
    else:
        grid.add(f"t{k}.maturity", "Maturity period (1 = yes)", "flag")
        grid.add(f"t{k}.live", "Up to maturity (1 = yes)", "flag")
    if program.bb_advance[k] > 0:
        grid.add(f"t{k}.collateral", "Borrowing-base collateral value (scenario)", "amount")


def _bottom_rows(grid: Grid, program: Program, shape: _Shape, names_safe) -> None:
    if shape.proj_cfads:
        grid.section("Cover ratios (LLCR, PLCR)" if shape.covered else "Projected CFADS")
        grid.add("proj_cfads", "Projected CFADS (scenario)", "amount", total=True)
    valuation_rows(grid, program)
    if program.rvg_cap > 0:
        grid.section("Residual value guarantee")
        grid.add("rvg_factor", "Share of the guarantee paid (scenario)", "factor")
        grid.add("rvg_live", "Guarantee in force (1 = yes)", "flag")
    for a in range(program.n_accounts):
        grid.section(f"Reserve: {names_safe(program.names['accounts'][a])}")
        grid.add(f"a{a}.rate", "Interest earned for the period (annual rate x ACT/365F years)", "rate")
        if program.acct_kind[a] == ops.ACCOUNT_KIND["fixed"]:
            grid.add(f"a{a}.target", "Fixed target (its amount, or months of its cost lines)", "amount")
        if program.acct_lc[a].any():
            grid.add(f"a{a}.lc", "Letter of credit: face amount", "amount")
    for f in range(program.n_fees):
        grid.section(f"Fee: {names_safe(program.names['fees'][f])}")
        grid.add(f"f{f}.due", "Fee due", "amount", total=True)
    if shape.covered:
        if shape.discount_here:
            grid.add("discount", "Discount factor at the senior rate, from COD", "factor")
        grid.add("loan_life", "Within the loan life to its notional maturity (1 = yes: the LLCR's periods)",
                 "flag")
    tax_input_rows(grid, program)


def _per_period(values, k: int, t: int) -> float:
    """values[k] at period t: a [K, T+1] array (terms that step up), or [K] (constant)."""
    row = np.asarray(values[k], dtype=float)
    return float(row[t] if row.ndim else row)


def _tranche_period(grid: Grid, program: Program, shape: _Shape, arrays, scalar_x, parts, k: int, t: int) -> None:
    _factor, _base, annual, _per_rate = arrays
    I = lambda key: grid.ref(key, t)  # noqa: E731
    grid.put(f"t{k}.draw", t, float(program.draw[k, t]))
    if program.is_floating[k]:
        grid.put(f"t{k}.spread", t, _per_period(program.spread, k, t))
        grid.put(f"t{k}.floor", t, float(program.floor[k]))
        # an all-in rate below zero is charged as zero (reference.tranche_rates)
        annual_x = grid.put(f"t{k}.annual", t, MAX(MAX(I("base_rate") + I("rate_add"), I(f"t{k}.floor"))
                                                   + I(f"t{k}.spread"), 0))
    else:
        annual_x = grid.put(f"t{k}.annual", t, float(annual[k, t]))
    grid.put(f"t{k}.accrual", t, float(program.accrual[k, t]))
    grid.put(f"t{k}.per_rate", t, annual_x * I(f"t{k}.accrual"))
    grid.put(f"t{k}.sched", t, float(program.sched[k, t]))
    grid.put(f"t{k}.cap", t, float(program.capitalise[k, t]))
    if k in shape.refis:
        grid.put(f"t{k}.maturity", t, IF(EQ(I("period"), scalar_x[f"t{k}.maturity_period"]), 1, 0))
        grid.put(f"t{k}.live", t, IF(I("period") <= scalar_x[f"t{k}.maturity_period"], 1, 0))
        if has_refi(program, k) and program.refi_rate_kind[k] == 1:   # refinancing.new_rates, before the add-on
            grid.put(f"t{k}.refi_annual", t, scalar_x[f"t{k}.refi_fixed"])
        elif has_refi(program, k):
            grid.put(f"t{k}.refi_annual", t, MAX(I("base_rate") + I("rate_add"), scalar_x[f"t{k}.refi_floor"])
                     + scalar_x[f"t{k}.refi_spread"])
    else:
        grid.put(f"t{k}.maturity", t, 1.0 if t == program.maturity[k] else 0.0)
        grid.put(f"t{k}.live", t, 1.0 if t <= program.maturity[k] else 0.0)
    if program.bb_advance[k] > 0:
        grid.put(f"t{k}.collateral", t, collateral(program, parts, k))


def _tenant_event(grid: Grid, t: int):
    """reference._tenant_event: rent is due now and none comes, after rent was earned."""
    if t == 0:
        return ZERO
    I = lambda key: grid.ref(key, t)  # noqa: E731
    before = grid.ref("rent", t - 1) * grid.ref("rent_mult", t - 1)
    return IF(I("rent") > 0, IF(before > 0, IF(I("rent") * I("rent_mult") > 0, 0, 1), 0), 0)


def _period(grid: Grid, program: Program, shape: _Shape, arrays, scalar_x, t: int) -> None:
    factor, base, _annual, _per_rate = arrays
    I = lambda key: grid.ref(key, t)  # noqa: E731
    grid.put("period", t, float(t))
    grid.put("years", t, t * program.months_per_period / 12.0)
    grid.put("pay_date", t, float((program.dates[t] - SERIAL_EPOCH).days))
    grid.put("last", t, 1.0 if t == program.n_periods else 0.0)
    for key, values in (("rent", program.base_rent), ("rent_mult", factor[ops.CH_RENT]),
                        ("opex", program.opex), ("opex_mult", factor[ops.CH_OPEX]),
                        ("capex", program.capex), ("equity_in", program.equity_in)):
        grid.put(key, t, float(values[t]))
    if shape.tenant:
        grid.put("tenant_event", t, _tenant_event(grid, t))
    if program.cross_accelerates:
        grid.put("cross_mult", t, float(factor[ops.CH_CROSS, t]))
    if shape.refis:
        grid.put("refi_open", t, float(factor[ops.CH_REFI, t]))
        grid.put("refi_add", t, float(factor[ops.CH_REFI_SPREAD, t]))
    if shape.any_floating:
        grid.put("base_rate", t, float(base[t]))
        grid.put("rate_add", t, float(factor[ops.CH_RATE_ADD, t]))
    parts = component_values(grid, program, factor, t)
    drc_period(grid, parts, t)
    for k in range(program.n_tranches):
        _tranche_period(grid, program, shape, arrays, scalar_x, parts, k, t)
    for a in range(program.n_accounts):
        grid.put(f"a{a}.rate", t, float(program.acct_rate[a, t]))
        if program.acct_kind[a] == ops.ACCOUNT_KIND["fixed"]:
            grid.put(f"a{a}.target", t, float(program.acct_target[a, t]))
        if program.acct_lc[a].any():
            grid.put(f"a{a}.lc", t, float(program.acct_lc[a, t]))
    if program.rvg_cap > 0:
        grid.put("rvg_factor", t, float(factor[ops.CH_RVG, t]))
        grid.put("rvg_live", t, 1.0 if t <= program.rvg_until else 0.0)
    for f in range(program.n_fees):
        grid.put(f"f{f}.due", t, float(program.fee_due[f, t]))
    if shape.proj_cfads:
        grid.put("proj_cfads", t, I("rent") * I("rent_mult") - I("opex") * I("opex_mult"))
    if appraisal(program):
        market_period(grid, program, factor, scalar_x, t)
    if shape.covered:
        if shape.discount_here:
            put_discount(grid, I(f"t{shape.covered[0]}.per_rate"), program.cod_period, t)
        grid.put("loan_life", t, 1.0 if program.cod_period <= t <= shape.last_maturity else 0.0)
    tax_inputs(grid, program, t)


def build_inputs(program: Program, batch, names_safe) -> tuple:
    """(Inputs grid, scalars [(key, label, fmt, value)], scalar rows, scalar refs by key)."""
    arrays = scenario_arrays(program, batch)
    scalars = scalar_inputs(program)
    grid = Grid(IN_SHEET, program.n_periods, 5 + len(scalars) + 2)
    scalar_row = {key: 4 + i for i, (key, *_rest) in enumerate(scalars)}
    scalar_x = {key: ref(value, scalar_row[key], SCALAR_COL, IN_SHEET, absolute=True)
                for key, _l, _f, value in scalars}
    shape = _Shape(program)
    _top_rows(grid, shape)
    for k in range(program.n_tranches):
        _tranche_rows(grid, program, shape, k, names_safe)
    _bottom_rows(grid, program, shape, names_safe)
    hedge_input_rows(grid, program, names_safe)
    for t in range(program.n_periods + 1):
        _period(grid, program, shape, arrays, scalar_x, t)
    hedge_inputs(grid, program, scalar_x)
    sale_value_rows(grid, program, scalar_x)
    # the model's values must be the engine's inputs exactly
    for k in range(program.n_tranches):
        assert np.allclose(grid.values(f"t{k}.per_rate"), arrays[3][k], rtol=1e-15, atol=0)
    return grid, scalars, scalar_row, scalar_x
