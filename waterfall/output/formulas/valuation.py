"""The Inputs sheet's asset values (workout.sale_values as formulas): each component's
value on its curve x the scenario's multiplier, their sum (the depreciated replacement
cost, DRC), and the value if the assets are sold at the end of each period: the DRC,
or an appraisal. The appraisal, while the asset earns rent, is the income value: the
projected CFADS after the period discounted back (income_t = (CFADS_t+1 + income_t+1)
x the period's discount factor) on top of a residual, the market net rent at the
horizon capitalised at the exit cap rate; while it is dark, the market net rent
capitalised, received after the re-letting downtime, less re-letting costs; floored at
a share of the DRC. Before commercial operation the value is the cost spent (DRC)."""
from __future__ import annotations

from ... import ops
from ...program import Program
from ..cells import IF, MAX, SUM_SEQ, ZERO, X
from .grid import Grid
from .refinancing import refi_tranches
from .xmath import POW


def components(program: Program) -> list:
    """Asset components with a value in some period (the others add nothing)."""
    return [c for c in range(len(ops.COMPONENTS)) if bool((program.asset_value[c] != 0.0).any())]


def appraisal(program: Program) -> bool:
    return int(program.val_method) == 1


def exit_value_share(program: Program) -> float:
    """Gross exit value as a share of replacement cost (0: the deal has no exit)."""
    return float(getattr(program, "exit_value_share", 0.0) or 0.0)


def valuation_scalars(program: Program) -> list:
    """Column C terms of the sale value: (key, label, format, value)."""
    out = [("cod_period", "Commercial operation: first operating period (before it: valued at cost spent)",
            "int", float(program.cod_period))]
    if not appraisal(program):
        return out
    return out + [
        ("val_discount", "Appraisal: discount factor a period (income approach)", "factor",
         float(program.val_discount)),
        ("exit_cap", "Appraisal: exit cap rate (annual)", "rate", float(program.exit_cap)),
        ("relet_periods", "Appraisal: periods a dark asset takes to re-let", "int", float(program.relet_periods)),
        ("reletting_cost", "Appraisal: re-letting costs (years of market rent)", "years",
         float(program.reletting_cost)),
        ("replacement_floor", "Appraisal: floor (share of depreciated replacement cost)", "pct",
         float(program.replacement_floor)),
    ] + ([("exit_value_share", "Appraisal residual: the exit's gross value (share of replacement cost)", "pct",
           exit_value_share(program))] if exit_value_share(program) > 0 else [])


def valuation_rows(grid: Grid, program: Program) -> None:
    grid.section("Asset value (sale, exit, borrowing base)")
    for c in components(program):
        name = ops.COMPONENTS[c]
        grid.add(f"val.{name}", f"Asset value: {name} (cost x value curve)", "amount")
        grid.add(f"val.{name}_mult", f"Value multiplier: {name} (scenario)", "factor")
    grid.add("drc", "Depreciated replacement cost (sum of the components)", "amount")
    if appraisal(program):
        grid.add("market_rent", "Market rent (annual, with growth)", "amount")
        grid.add("market_mult", "Market rent multiplier (scenario)", "factor")
        grid.add("market", "Market rent (annual, scenario)", "amount")
        grid.add("periods_a_year", "Periods a year (a stub: by its length in regular periods)", "factor")
        grid.add("market_noi", "Market net rent (annual): market rent - opex x periods a year", "amount")
        grid.add("cap_add", "Cap rate shift (scenario, added)", "rate")
        grid.add("cap_rate", "Exit cap rate (with the scenario's shift)", "rate")
        grid.add("capitalised", "Market net rent capitalised (0 for a loss or a cap rate <= 0)", "amount")
        grid.add("income_value", "Income value: next period's CFADS + its income value, discounted "
                                 "(the horizon: the exit value, else the capitalised market net rent)", "amount")
        grid.add("dark_value", "Dark value: capitalised market net rent after re-letting, less its costs",
                 "amount")
        grid.add("earning", "Earning rent (1 = yes: the income value applies)", "flag")
        grid.add("appraisal", "Appraised value: income or dark value, at least the floor", "amount")
    grid.add("sale_value", "Sale value if sold at the end of the period (gross)", "amount")
    if in_place_appraisal(program):
        grid.add("refi_rent_pv", "Refinancing appraisal: PV of the scheduled rent after the period", "amount")
        grid.add("refi_cost_pv", "Refinancing appraisal: PV of the base-case opex after the period", "amount")
        grid.add("refi_residual_pv", "Refinancing appraisal: PV of the residual at the horizon", "amount")
        grid.add("refi_value", "Appraised value on the rent in place (the refinancing lender's; "
                               "in-place share x rent PV - opex PV + residual PV)", "amount")


def in_place_appraisal(program: Program) -> bool:
    """The refinancing lender's appraisal has rows of its own (refinancing.appraisal): an
    income appraisal and a tranche with terms at maturity. On replacement cost it is the
    sale value (the DRC)."""
    return appraisal(program) and bool(refi_tranches(program))


def refi_value_key(program: Program) -> str:
    """The Inputs row of the value a refinancing or extension test reads."""
    return "refi_value" if in_place_appraisal(program) else "sale_value"


def component_values(grid: Grid, program: Program, factor, t: int) -> dict:
    """Write the components' value and multiplier rows of period t; {c: value x multiplier}."""
    out = {}
    for c in components(program):
        name = ops.COMPONENTS[c]
        value = grid.put(f"val.{name}", t, float(program.asset_value[c, t]))
        mult = grid.put(f"val.{name}_mult", t, float(factor[ops.CH_VAL_LAND + c, t]))
        out[c] = value * mult
    return out


def collateral(program: Program, parts: dict, k: int) -> X:
    """Tranche k's borrowing-base collateral: its components' values (reference._Terms)."""
    return SUM_SEQ(parts[c] for c in sorted(parts) if program.bb_mask[k, c])


def _capitalised(noi, cap) -> X:
    return IF(noi > 0, IF(cap > 0, noi / cap, 0), 0)


def market_period(grid: Grid, program: Program, factor, S: dict, t: int) -> None:
    """The forward rows of the appraisal for period t (market rent, cap rate)."""
    I = lambda key: grid.ref(key, t)  # noqa: E731
    grid.put("market_rent", t, float(program.market_rent[t]))
    grid.put("market_mult", t, float(factor[ops.CH_MARKET_RENT, t]))
    market = grid.put("market", t, I("market_rent") * I("market_mult"))
    grid.put("periods_a_year", t, float(program.periods_a_year[t]))
    grid.put("market_noi", t, market - (I("opex") * I("opex_mult")) * I("periods_a_year"))
    grid.put("cap_add", t, float(factor[ops.CH_CAP_ADD, t]))
    grid.put("cap_rate", t, S["exit_cap"] + I("cap_add"))
    grid.put("capitalised", t, _capitalised(I("market_noi"), I("cap_rate")))


def sale_value_rows(grid: Grid, program: Program, S: dict) -> None:
    """The sale value of every period (after the forward rows): the income value runs
    backwards from the horizon, so this pass goes from the last period to the first."""
    n = program.n_periods
    for t in range(n, -1, -1):
        I = lambda key: grid.ref(key, t)  # noqa: E731
        if not appraisal(program):
            grid.put("sale_value", t, I("drc"))
            continue
        d = S["val_discount"]
        if t == n:   # the residual: the deal's own exit value where it has one
            residual = (IF(S["exit_value_share"] > 0, S["exit_value_share"] * I("drc"), I("capitalised"))
                        if "exit_value_share" in S else I("capitalised"))
            income = grid.put("income_value", t, residual)
        else:
            income = grid.put("income_value", t, (grid.ref("proj_cfads", t + 1) + grid.ref("income_value", t + 1)) * d)
        dark = grid.put("dark_value", t, I("capitalised") * POW(d, S["relet_periods"])
                        - S["reletting_cost"] * I("market"))
        earning = grid.put("earning", t, IF(I("rent") * I("rent_mult") > 0, 1, 0))
        value = grid.put("appraisal", t, MAX(IF(earning, income, dark), S["replacement_floor"] * I("drc"), 0))
        grid.put("sale_value", t, IF(I("period") < S["cod_period"], I("drc"), value))
        if in_place_appraisal(program):
            _refi_value(grid, S, t, n, earning, dark)


def _refi_value(grid: Grid, S: dict, t: int, n: int, earning: X, dark: X) -> None:
    """refinancing.appraisal for period t (this pass runs from the horizon back): the PVs of
    the scheduled rent and base-case opex after t and of the residual, then the value on
    the rent in place (the period's rent multiplier), dark or floored as the sale value."""
    I = lambda key: grid.ref(key, t)  # noqa: E731
    d = S["val_discount"]
    if t == n:
        rent, cost, residual = ZERO, ZERO, I("income_value")
    else:
        N = lambda key: grid.ref(key, t + 1)  # noqa: E731
        rent = (N("rent") + N("refi_rent_pv")) * d
        cost = (N("opex") + N("refi_cost_pv")) * d
        residual = N("refi_residual_pv") * d
    rent = grid.put("refi_rent_pv", t, rent)
    cost = grid.put("refi_cost_pv", t, cost)
    residual = grid.put("refi_residual_pv", t, residual)
    income = I("rent_mult") * rent - cost + residual
    value = MAX(IF(earning, income, dark), S["replacement_floor"] * I("drc"), 0)
    grid.put("refi_value", t, IF(I("period") < S["cod_period"], I("drc"), value))


def drc_period(grid: Grid, parts: dict, t: int) -> X:
    return grid.put("drc", t, SUM_SEQ(parts[c] for c in sorted(parts)) if parts else ZERO)
