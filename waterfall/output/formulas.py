"""The waterfall as a spreadsheet: an `Inputs` sheet and a `Cash flows` sheet whose every
cell is a live Excel formula over the inputs, with the value it recalculates to.

It is the reference waterfall (waterfall/reference.py) restated cell by cell, for any
deal built from its step kinds: fee, interest (cash or PIK; coupons and margins that
step up by period), principal (scheduled, balloon at maturity), reserve (DSRA sized on
the next periods' scheduled debt service, fixed, lock-up), sweep (share, share while
locked up), distribute (to equity or a lock-up account), the DSCR tests (lock-up;
default with cure periods), sponsor support, the sale of the assets at the last period
(exit), and the event of default with seizure and recoveries in tranche order.

Refinancing at maturity (reference.refinance) is a block of IF()s per tranche that has
one: at its maturity t (< the last period), with a positive balance, the market open
(Inputs: the scenario's market-open factor > 0 at t) and next period's projected CFADS
>= min DSCR x (balance x new rate x accrual + min(balance / periods, balance)), the
balance goes on from t+1 at max(base + shock, refinancing floor) + refinancing spread,
amortising balance / periods straight-line, maturing at min(t + periods, T); otherwise
the balloon is due. The terms in force (on refinanced terms, maturity, amortisation)
are carried period to period on the Cash flows sheet, so flipping the market-open
factor or the spread in Inputs flows through the waterfall.

Layout: period t is in column D + t on both sheets, so `Cash flows`!F.. reads
`Inputs`!F.. of the same period. Scalars (covenants, enforcement, step shares) are in
column C of `Inputs`. Each Cash-flows row is either a ledger line (`L:<column>`, the
engine's own number) or a working line (cash after each step, event-of-default flags,
the DSRA target, ...).

`build_model` computes every value while it writes every formula (cells.X), in the
same floating-point order as the reference, and `check_against` compares the ledger
lines with the engine's ledger: a deal the formulas would not reproduce is refused.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from .. import ops, reference
from ..metrics import cash_flows as engine_cash_flows
from ..irr import irr as periodic_irr
from ..program import Program
from .cells import (
    EMPTY, EQ, IF, MAX, MIN, ONE, SUM_SEQ, ZERO, X, const, range_ref, ref,
)

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
    for kind, prefix in (("tranches", "t"), ("accounts", "a"), ("fees", "f")):
        if name in program.names[kind] and line in {"tranches": ops.TRANCHE_LINES,
                                                    "accounts": ops.ACCOUNT_LINES,
                                                    "fees": ops.FEE_LINES}[kind]:
            return f"L:{prefix}{program.names[kind].index(name)}.{line}"
    raise KeyError(column)


STEP_VERB = {ops.OP_FEE: "fee", ops.OP_INTEREST: "interest", ops.OP_PRINCIPAL: "principal",
             ops.OP_RESERVE: "reserve", ops.OP_SWEEP: "sweep", ops.OP_DISTRIBUTE: "distribute",
             getattr(ops, "OP_BORROWING_BASE", 6): "borrowing base"}


def _step_name(program: Program, i: int) -> str:
    op, arg = int(program.step_op[i]), int(program.step_arg[i])
    names = program.names
    if op in (ops.OP_INTEREST, ops.OP_PRINCIPAL, ops.OP_SWEEP, ops.OP_BORROWING_BASE):
        return f"{i + 1}. {STEP_VERB[op]} {names['tranches'][arg]}"
    if op == ops.OP_RESERVE:
        return f"{i + 1}. reserve {names['accounts'][arg]}"
    if op == ops.OP_FEE:
        return f"{i + 1}. fee {names['fees'][arg]}"
    return f"{i + 1}. distribute" + (f" (lock-up: {names['accounts'][arg]})" if arg >= 0 else "")


# --------------------------------------------------------------------------- inputs

def _scenario_arrays(program: Program, batch, s: int = 0):
    factor, base = reference.scenario_factors(program, batch, s)
    annual, per_rate = reference.tranche_rates(program, base, factor[ops.CH_RATE_ADD])
    gross = np.zeros(program.n_periods + 1)
    for t in range(program.n_periods + 1):
        gross[t] = sum(program.asset_value[c, t] * factor[ops.CH_VAL_LAND + c, t] for c in range(4))
    return factor, base, annual, per_rate, gross


def _build_inputs(program: Program, batch, names_safe) -> tuple:
    n, k_count = program.n_periods, program.n_tranches
    factor, base, annual, per_rate, gross = _scenario_arrays(program, batch)
    tr, ac = program.names["tranches"], program.names["accounts"]

    scalars = []  # (key, label, fmt, value)
    if program.lock_up_dscr >= 0:
        scalars.append(("lock_up_dscr", "Lock-up DSCR (below it, cash is locked up)", "ratio", program.lock_up_dscr))
    if program.default_dscr >= 0:
        scalars.append(("default_dscr", "Default DSCR (event of default below it)", "ratio", program.default_dscr))
        scalars.append(("cure_periods", "Cure periods before a DSCR default", "int", float(program.cure_periods)))
    scalars += [
        ("fire_sale", "Fire-sale discount on seizure", "pct", program.fire_sale),
        ("cost_share", "Enforcement costs (share of gross value)", "pct", program.cost_share),
        ("cost_fixed", "Enforcement costs (fixed)", "amount", program.cost_fixed),
        ("sale_discount", "Time-to-sale discount factor", "factor", program.sale_discount),
    ]
    for i in range(len(program.step_op)):
        if int(program.step_op[i]) == ops.OP_SWEEP:
            name = tr[int(program.step_arg[i])]
            scalars.append((f"s{i}.share", f"Sweep {name}: share of cash (step {i + 1})", "pct",
                            float(program.step_share[i])))
            scalars.append((f"s{i}.share_locked", f"Sweep {name}: share while locked up (step {i + 1})",
                            "pct", float(program.step_share_locked[i])))
    for k in range(k_count):
        if program.bb_advance[k] > 0:
            scalars.append((f"t{k}.advance", f"Borrowing base {tr[k]}: advance rate", "pct",
                            float(program.bb_advance[k])))
    for k in refi_tranches(program):
        name = tr[k]
        floor = float(program.refi_floor[k])
        scalars += [
            (f"t{k}.maturity_period", f"Refinancing {name}: maturity period (original terms)", "int",
             float(program.maturity[k])),
            (f"t{k}.refi_spread", f"Refinancing {name}: spread (annual)", "rate", float(program.refi_spread[k])),
            (f"t{k}.refi_floor", f"Refinancing {name}: base-rate floor (annual)" +
             (" (none)" if floor <= -1e8 else ""), "rate", floor),
            (f"t{k}.refi_periods", f"Refinancing {name}: amortisation periods (straight-line)", "int",
             float(program.refi_periods[k])),
            (f"t{k}.refi_min_dscr", f"Refinancing {name}: minimum DSCR on the new terms (next period)", "ratio",
             float(program.refi_min_dscr[k])),
        ]
    if _exit_share(program) > 0:
        scalars.append(("exit_share", "Exit at the last period: net share of asset value realised", "pct",
                        _exit_share(program)))
    if program.rvg_cap > 0:
        scalars.append(("rvg_cap", "Residual value guarantee: cap", "amount", float(program.rvg_cap)))
    for a in range(program.n_accounts):
        if program.acct_kind[a] == ops.ACCOUNT_KIND["fixed"]:
            scalars.append((f"a{a}.target", f"Reserve {ac[a]}: fixed target", "amount",
                            float(program.acct_target[a])))

    first_row = 5 + len(scalars) + 2
    grid = Grid(IN_SHEET, n, first_row)
    scalar_row = {key: 4 + i for i, (key, *_rest) in enumerate(scalars)}
    scalar_x = {key: ref(value, scalar_row[key], SCALAR_COL, IN_SHEET, absolute=True)
                for key, _l, _f, value in scalars}

    grid.add("period", "Period", "int")
    grid.add("years", "Years from financial close", "years")
    grid.add("last", "Last period (1 = yes)", "flag")
    grid.section("Revenue and costs")
    grid.add("rent", "Scheduled rent", "amount", total=True)
    grid.add("rent_mult", "Rent multiplier (scenario)", "factor")
    grid.add("opex", "Scheduled operating costs", "amount", total=True)
    grid.add("opex_mult", "Opex multiplier (scenario)", "factor")
    grid.add("capex", "Construction spend (capex)", "amount", total=True)
    grid.add("equity_in", "Equity contributions", "amount", total=True)
    grid.add("seizure_gross", "Asset value, gross (scenario: seizure or exit)", "amount")
    refis = refi_tranches(program)
    if refis:
        grid.add("refi_open", "Refinancing market open (scenario; > 0 = open)", "factor")
    any_floating = bool(program.is_floating.any()) or bool(refis)
    if any_floating:
        grid.section("Base rate")
        grid.add("base_rate", "Base rate (annual, scenario path)", "rate")
        grid.add("rate_add", "Rate shock (annual, added)", "rate")
    for k in range(k_count):
        grid.section(f"Tranche: {names_safe(tr[k])}")
        grid.add(f"t{k}.draw", "Draws", "amount", total=True)
        if program.is_floating[k]:
            grid.add(f"t{k}.spread", "Spread (annual)", "rate")
            grid.add(f"t{k}.floor", "Base-rate floor (annual)", "rate")
        grid.add(f"t{k}.annual", "Interest rate (annual, all-in)", "rate")
        grid.add(f"t{k}.accrual", "Accrual (years in the period)", "years")
        grid.add(f"t{k}.per_rate", "Interest rate for the period", "rate")
        grid.add(f"t{k}.sched", "Scheduled principal", "amount", total=True)
        grid.add(f"t{k}.cap", "Interest capitalised (1 = yes)", "flag")
        if k in refis:
            grid.add(f"t{k}.maturity", "Maturity period, original terms (1 = yes)", "flag")
            grid.add(f"t{k}.live", "Up to the original maturity (1 = yes)", "flag")
            grid.add(f"t{k}.refi_annual", "Refinancing rate (annual, all-in: max(base + shock, floor) + spread)",
                     "rate")
            grid.add(f"t{k}.refi_per_rate", "Refinancing rate for the period", "rate")
        else:
            grid.add(f"t{k}.maturity", "Maturity period (1 = yes)", "flag")
            grid.add(f"t{k}.live", "Up to maturity (1 = yes)", "flag")
        if program.bb_advance[k] > 0:
            grid.add(f"t{k}.collateral", "Borrowing-base collateral value (scenario)", "amount")
    if program.rvg_cap > 0:
        grid.section("Residual value guarantee")
        grid.add("rvg_factor", "Share of the guarantee paid (scenario)", "factor")
        grid.add("rvg_live", "Guarantee in force (1 = yes)", "flag")
    for f in range(program.n_fees):
        grid.section(f"Fee: {names_safe(program.names['fees'][f])}")
        grid.add(f"f{f}.due", "Fee due", "amount", total=True)
    covered = [k for k in range(k_count) if program.dscr_mask[k]]
    # a senior that can refinance discounts at its rate as refinanced: the discount
    # factors then live on the Cash flows sheet (they depend on the waterfall)
    discount_here = bool(covered) and covered[0] not in refis
    if covered or refis:
        grid.section("Cover ratios (LLCR, PLCR)" if covered else "Projected CFADS")
        grid.add("proj_cfads", "Projected CFADS (scenario)", "amount", total=True)
    if covered:
        if discount_here:
            grid.add("discount", "Discount factor at the senior rate, from COD", "factor")
        grid.add("loan_life", "Within the loan life (1 = yes)", "flag")

    months = program.months_per_period
    last_maturity = max((int(program.maturity[k]) for k in covered), default=-1)
    p0 = program.cod_period
    for t in range(n + 1):
        I = lambda key: grid.ref(key, t)  # noqa: E731
        grid.put("period", t, float(t))
        grid.put("years", t, t * months / 12.0)
        grid.put("last", t, 1.0 if t == n else 0.0)
        grid.put("rent", t, float(program.base_rent[t]))
        grid.put("rent_mult", t, float(factor[ops.CH_RENT, t]))
        grid.put("opex", t, float(program.opex[t]))
        grid.put("opex_mult", t, float(factor[ops.CH_OPEX, t]))
        grid.put("capex", t, float(program.capex[t]))
        grid.put("equity_in", t, float(program.equity_in[t]))
        grid.put("seizure_gross", t, float(gross[t]))
        if refis:
            grid.put("refi_open", t, float(factor[ops.CH_REFI, t]))
        if any_floating:
            grid.put("base_rate", t, float(base[t]))
            grid.put("rate_add", t, float(factor[ops.CH_RATE_ADD, t]))
        for k in range(k_count):
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
            if k in refis:
                grid.put(f"t{k}.maturity", t, IF(EQ(I("period"), scalar_x[f"t{k}.maturity_period"]), 1, 0))
                grid.put(f"t{k}.live", t, IF(I("period") <= scalar_x[f"t{k}.maturity_period"], 1, 0))
                # reference.refinance: max(0, max(base + shock, floor) + spread)
                refi_x = grid.put(f"t{k}.refi_annual", t, MAX(MAX(I("base_rate") + I("rate_add"),
                                                                  scalar_x[f"t{k}.refi_floor"])
                                                              + scalar_x[f"t{k}.refi_spread"], 0))
                grid.put(f"t{k}.refi_per_rate", t, refi_x * I(f"t{k}.accrual"))
            else:
                grid.put(f"t{k}.maturity", t, 1.0 if t == program.maturity[k] else 0.0)
                grid.put(f"t{k}.live", t, 1.0 if t <= program.maturity[k] else 0.0)
            if program.bb_advance[k] > 0:
                grid.put(f"t{k}.collateral", t, float(sum(
                    program.asset_value[c, t] * factor[ops.CH_VAL_LAND + c, t]
                    for c in range(4) if program.bb_mask[k, c])))
        if program.rvg_cap > 0:
            grid.put("rvg_factor", t, float(factor[ops.CH_RVG, t]))
            grid.put("rvg_live", t, 1.0 if t <= program.rvg_until else 0.0)
        for f in range(program.n_fees):
            grid.put(f"f{f}.due", t, float(program.fee_due[f, t]))
        if covered or refis:
            grid.put("proj_cfads", t, I("rent") * I("rent_mult") - I("opex") * I("opex_mult"))
        if covered:
            if discount_here:
                _put_discount(grid, I(f"t{covered[0]}.per_rate"), p0, t)
            grid.put("loan_life", t, 1.0 if p0 <= t <= last_maturity else 0.0)
    # the model's values must be the engine's inputs exactly
    for k in range(k_count):
        assert np.allclose(grid.values(f"t{k}.per_rate"), per_rate[k], rtol=1e-15, atol=0)
    return grid, scalars, scalar_row, scalar_x


def _per_period(values, k: int, t: int) -> float:
    """values[k] at period t: a [K, T+1] array (terms that step up), or [K] (constant)."""
    row = np.asarray(values[k], dtype=float)
    return float(row[t] if row.ndim else row)


def _exit_share(program: Program) -> float:
    return float(getattr(program, "exit_share", 0.0) or 0.0)


def refi_tranches(program: Program) -> list:
    """Tranches that can be refinanced at maturity (a refinancing with amortisation periods)."""
    periods = getattr(program, "refi_periods", np.zeros(program.n_tranches, dtype=np.int64))
    return [k for k in range(program.n_tranches) if int(periods[k]) > 0]


def _put_discount(grid: Grid, rate: X, p0: int, t: int) -> None:
    """Discount factor from COD at the senior's period rate (metrics.cover_ratio)."""
    if t < p0:
        grid.put("discount", t, 0.0)
    elif t == p0:
        grid.put("discount", t, ONE / (ONE + rate))
    else:
        grid.put("discount", t, grid.ref("discount", t - 1) / (ONE + rate))


# --------------------------------------------------------------------------- cash flows

def _layout_cash_flows(program: Program, grid: Grid, names_safe) -> None:
    tr, ac, fe = program.names["tranches"], program.names["accounts"], program.names["fees"]
    k_count = program.n_tranches
    grid.add("alive", "Deal live (1 = yes)", "flag", level=1)
    grid.section("Revenue")
    grid.add("L:revenue", "Revenue", "amount", total=True)
    grid.section("Operating costs")
    grid.add("L:opex", "Operating costs", "amount", total=True)
    grid.section("CFADS")
    grid.add("L:cfads", "Cash flow available for debt service (CFADS)", "amount", total=True)
    grid.section("Sources")
    grid.add("L:capex", "Construction spend (capex)", "amount", total=True)
    grid.add("L:equity_in", "Equity contributions", "amount", total=True)
    grid.add("L:draws", "Debt drawn", "amount", total=True)
    grid.add("L:reserve_release", "Reserves available (opening balances)", "amount", total=True)
    grid.add("L:exit_proceeds", "Exit: net sale proceeds (last period)", "amount", total=True)
    grid.add("cash0", "Cash before sponsor support", "amount", level=1)
    grid.add("L:sponsor_support", "Sponsor support", "amount", total=True)
    grid.add("L:cash_available", "Cash available", "amount", total=True)
    covered = [k for k in range(k_count) if program.dscr_mask[k]]
    for k in refi_tranches(program):
        name = names_safe(tr[k])
        grid.section(f"Refinancing at maturity: {name}")
        grid.add(f"t{k}.on", "On refinanced terms (1 = yes)", "flag", level=1)
        grid.add(f"t{k}.mat", "Maturity period (current terms)", "int", level=1)
        grid.add(f"t{k}.amort", "Straight-line amortisation (current terms)", "amount", level=1)
        grid.add(f"t{k}.annual", "Interest rate (annual, current terms)", "rate", level=1)
        grid.add(f"t{k}.per_rate", "Interest rate for the period (current terms)", "rate", level=1)
        grid.add(f"t{k}.sched", "Scheduled principal (current terms)", "amount", level=1)
        grid.add(f"t{k}.at_mat", "Maturity this period (1 = yes)", "flag", level=1)
        grid.add(f"t{k}.refi_service", "Debt service next period on the new terms", "amount", level=1)
        grid.add(f"t{k}.refi_cfads", "Projected CFADS next period", "amount", level=1)
        grid.add(f"t{k}.refi", "Refinanced this period (1 = yes: market open and DSCR test met)", "flag")
        grid.add(f"t{k}.balloon", "Balloon due this period (1 = yes)", "flag")
        grid.add(f"t{k}.on_after", "On refinanced terms after this period (1 = yes)", "flag", level=1)
        grid.add(f"t{k}.mat_after", "Maturity period after this period", "int", level=1)
        grid.add(f"t{k}.amort_after", "Amortisation after this period", "amount", level=1)
    if covered and covered[0] in refi_tranches(program):
        grid.add("discount", f"Discount factor at the {names_safe(tr[covered[0]])} rate, from COD (LLCR, PLCR)",
                 "factor", level=1)
    grid.section("Debt service and covenant tests")
    for k in range(k_count):
        grid.add(f"t{k}.bal_due", f"{names_safe(tr[k])}: balance before payments", "amount", level=1)
    grid.add("L:debt_service", "Scheduled debt service (covenant tranches)", "amount", total=True)
    grid.add("L:dscr", "DSCR", "ratio")
    grid.add("dscr_tested", "DSCR where debt service > 0", "ratio", level=1)
    if program.lock_up_dscr >= 0:
        grid.add("cov_lock_up", "Lock-up DSCR covenant", "ratio", level=1)
    if program.default_dscr >= 0:
        grid.add("cov_default", "Default DSCR covenant", "ratio", level=1)
    grid.add("L:lock_up", "Lock-up (1 = cash locked up)", "flag")
    if program.default_dscr >= 0:
        grid.add("cure", "Periods below the default DSCR", "int", level=1)
        grid.add("eod_dscr", "Event of default: DSCR test (1 = yes)", "flag", level=1)
    grid.section("Priority of payments")
    for i in range(len(program.step_op)):
        op, arg = int(program.step_op[i]), int(program.step_arg[i])
        name = names_safe(_step_name(program, i))
        if op == ops.OP_FEE:
            pass  # the fee lines themselves (below) are the step's lines
        elif op == ops.OP_RESERVE:
            for k in range(k_count):
                if program.acct_kind[arg] == ops.ACCOUNT_KIND["dsra"] and program.acct_mask[arg, k]:
                    for j in range(1, int(program.acct_periods[arg])):
                        grid.add(f"s{i}.proj{k}.{j}", f"{name}: projected {names_safe(tr[k])} balance +{j}",
                                 "amount", level=1)
            grid.add(f"s{i}.target", f"{name}: target", "amount", level=1)
            grid.add(f"s{i}.pay", f"{name}: balance set", "amount")
        elif op == ops.OP_DISTRIBUTE:
            if arg >= 0:
                grid.add(f"s{i}.acct", f"{name}: to the lock-up account", "amount", total=True)
            grid.add(f"s{i}.pay", f"{name}: to equity", "amount", total=True)
        elif op == ops.OP_BORROWING_BASE:
            grid.add(f"s{i}.excess", f"{name}: balance over the borrowing base", "amount", level=1)
            grid.add(f"s{i}.pay", f"{name}: prepaid", "amount", total=True)
        elif op == ops.OP_INTEREST:
            grid.add(f"s{i}.pay", f"{name}: paid", "amount", total=True)
            if not program.hard[arg]:
                grid.add(f"s{i}.pik", f"{name}: shortfall capitalised", "amount", total=True)
        else:
            grid.add(f"s{i}.pay", f"{name}: paid", "amount", total=True)
        grid.add(f"s{i}.cash", f"{name}: cash left", "amount", level=1)
        if (op == ops.OP_PRINCIPAL or (op in (ops.OP_INTEREST, ops.OP_BORROWING_BASE)
                                       and program.hard[arg])):
            grid.add(f"s{i}.eod", f"{name}: event of default so far (1 = yes)", "flag", level=1)
    for k in range(k_count):
        grid.section(f"Tranche: {names_safe(tr[k])}")
        labels = {
            "balance_open": ("Opening balance", False), "draw": ("Draws", True),
            "rate": ("Interest rate (annual)", False), "interest_due": ("Interest due", True),
            "interest_paid": ("Interest paid", True), "interest_capitalised": ("Interest capitalised", True),
            "principal_due": ("Scheduled principal due", True), "principal_paid": ("Principal paid", True),
            "prepayment": ("Prepayment (cash sweep)", True), "recovery_interest": ("Recovery: interest", True),
            "recovery_principal": ("Recovery: principal", True), "write_off": ("Write-off", True),
            "refinanced": ("Refinanced at maturity", True),
            "balance_close": ("Closing balance", False),
        }
        for line in ops.TRANCHE_LINES:
            label, total = labels[line]
            grid.add(T(k, line), label, "rate" if line == "rate" else "amount", total=total)
        grid.add(f"t{k}.repaid", "Principal repaid (all kinds, for WAL)", "amount", total=True, level=1)
    if program.n_accounts:
        grid.section("Reserve accounts")
        for a in range(program.n_accounts):
            grid.add(A(a, "balance_open"), f"{names_safe(ac[a])}: opening balance", "amount")
            grid.add(A(a, "balance_close"), f"{names_safe(ac[a])}: closing balance", "amount")
    grid.add("L:reserve_funding", "Reserves: closing balances", "amount")
    if program.n_fees:
        grid.section("Fees")
        for f in range(program.n_fees):
            grid.add(F(f, "due"), f"{names_safe(fe[f])}: due", "amount", total=True)
            grid.add(F(f, "paid"), f"{names_safe(fe[f])}: paid", "amount", total=True)
    grid.add("L:fees_paid", "Fees paid", "amount", total=True)
    grid.section("Event of default and enforcement")
    grid.add("L:event_of_default", "Event of default (1 = yes)", "flag")
    grid.add("L:seizure_gross", "Seizure value, gross", "amount", total=True)
    grid.add("L:seizure_net", "Seizure value, net", "amount", total=True)
    grid.add("L:guarantee_paid", "Residual value guarantee paid", "amount", total=True)
    grid.add("pool", "Recovery pool (cash, reserves, net seizure)", "amount", total=True, level=1)
    grid.add("claim", "Lenders' claim", "amount", total=True, level=1)
    grid.add("received", "Lenders received in the default period", "amount", total=True, level=1)
    grid.section("Equity")
    grid.add("L:equity_distribution", "Distributions to equity", "amount", total=True)
    grid.add("equity_cf", "Equity cash flow", "amount", total=True)
    grid.section("Lenders")
    grid.add("lender_cf", "Lender cash flow", "amount", total=True)


def _cash_flow_period(program: Program, cf: Grid, inputs: Grid, S: dict, t: int) -> None:
    n, k_count, a_count = program.n_periods, program.n_tranches, program.n_accounts
    I = lambda key: inputs.ref(key, t, qualified=True)  # noqa: E731

    def P(key):
        return cf.ref(key, t - 1) if t > 0 else ZERO

    def put(key, expr):
        return cf.put(key, t, expr)

    if t == 0:
        alive = put("alive", ONE)
    else:
        alive = put("alive", IF(P("L:event_of_default") > 0, 0, P("alive")))
    revenue = put("L:revenue", IF(alive, I("rent") * I("rent_mult"), 0))
    opex = put("L:opex", IF(alive, I("opex") * I("opex_mult"), 0))
    cfads = put("L:cfads", revenue - opex)
    capex = put("L:capex", IF(alive, I("capex"), 0))
    equity_in = put("L:equity_in", IF(alive, I("equity_in"), 0))

    refis = refi_tranches(program)
    bal, int_due, prin_due, scheduled, cap_lines, draws = [], [], [], [], [], []
    balloon, after = {}, {}
    for k in range(k_count):
        opening = put(T(k, "balance_open"), P(T(k, "balance_close")))
        if k in refis:
            terms = _refi_terms(program, cf, inputs, S, k, t, put)
            annual, per_rate, sched = terms["annual"], terms["per_rate"], terms["sched"]
        else:
            annual, per_rate, sched = I(f"t{k}.annual"), I(f"t{k}.per_rate"), I(f"t{k}.sched")
        put(T(k, "rate"), IF(alive, annual, 0))
        interest = put(T(k, "interest_due"), opening * per_rate)
        cap = I(f"t{k}.cap")
        cap_lines.append([IF(cap, interest, 0)])
        int_due.append(IF(cap, 0, interest))
        draw = put(T(k, "draw"), IF(alive, I(f"t{k}.draw"), 0))
        draws.append(draw)
        b = put(f"t{k}.bal_due", (opening + IF(cap, interest, 0)) + draw)
        bal.append(b)
        if k in refis:
            balloon[k], after[k] = _refinance(program, cf, inputs, S, k, t, b, terms, put)
        else:
            balloon[k] = I(f"t{k}.maturity")
            put(T(k, "refinanced"), ZERO)
        scheduled.append(MIN(sched, b))
        prin_due.append(put(T(k, "principal_due"), IF(balloon[k], b, scheduled[k])))
    covered = [k for k in range(k_count) if program.dscr_mask[k]]
    if covered and covered[0] in refis:
        _put_discount(cf, cf.ref(f"t{covered[0]}.per_rate", t), program.cod_period, t)
    draws_total = put("L:draws", SUM_SEQ(draws))

    openings = [put(A(a, "balance_open"), P(A(a, "balance_close"))) for a in range(a_count)]
    release = put("L:reserve_release", SUM_SEQ(openings))
    cash0 = (((cfads + draws_total) + equity_in) - capex) + release
    if _exit_share(program) > 0 and t == n:   # the assets are sold at the horizon's end
        exit_proceeds = put("L:exit_proceeds", IF(alive, S["exit_share"] * I("seizure_gross"), 0))
        cash0 = cash0 + exit_proceeds
    else:
        exit_proceeds = put("L:exit_proceeds", ZERO)
    cash0 = put("cash0", cash0)
    put("L:sponsor_support", IF(cash0 < 0, ZERO - cash0, 0))
    cash = put("L:cash_available", IF(cash0 < 0, 0, cash0))

    ds = put("L:debt_service", SUM_SEQ(int_due[k] + scheduled[k] for k in range(k_count)
                                       if program.dscr_mask[k]))
    dscr = put("L:dscr", IF(ds > 0, cfads / ds, IF(alive, EMPTY, 0)))
    put("dscr_tested", IF(ds > 0, dscr, EMPTY))
    if program.lock_up_dscr >= 0:
        put("cov_lock_up", S["lock_up_dscr"])
        locked = put("L:lock_up", IF(I("last"), 0, IF(ds > 0, IF(dscr < S["lock_up_dscr"], 1, 0), 0)))
    else:
        locked = put("L:lock_up", ZERO)
    if program.default_dscr >= 0:
        put("cov_default", S["default_dscr"])
        cure = put("cure", IF(ds > 0, IF(dscr < S["default_dscr"], P("cure") + 1, 0), 0))
        D = put("eod_dscr", IF(cure > S["cure_periods"], 1, 0))
    else:
        D = ZERO

    int_paid = [[] for _ in range(k_count)]
    prin_paid = [[] for _ in range(k_count)]
    prepaid = [[] for _ in range(k_count)]
    paid = [[] for _ in range(k_count)]
    reserve = [ZERO] * a_count
    equity_parts, fee_pays = [], []
    fee_rows = {}
    for i in range(len(program.step_op)):
        op, arg = int(program.step_op[i]), int(program.step_arg[i])
        if op == ops.OP_FEE:
            due = put(F(arg, "due"), IF(D, 0, IF(alive, I(f"f{arg}.due"), 0)))
            pay = put(F(arg, "paid"), IF(D, 0, MIN(cash, due)))
            fee_rows[arg] = True
            fee_pays.append(pay)
            cash = put(f"s{i}.cash", cash - pay)
        elif op == ops.OP_INTEREST:
            pay = put(f"s{i}.pay", IF(D, 0, MIN(cash, int_due[arg])))
            cash = put(f"s{i}.cash", cash - pay)
            int_paid[arg].append(pay)
            if program.hard[arg]:
                D = put(f"s{i}.eod", IF(D, 1, IF(int_due[arg] - pay > 0, 1, 0)))
            else:
                short = put(f"s{i}.pik", IF(D, 0, int_due[arg] - pay))
                bal[arg] = bal[arg] + short
                cap_lines[arg].append(short)
                int_due[arg] = IF(D, int_due[arg], pay)
        elif op == ops.OP_PRINCIPAL:
            pay = put(f"s{i}.pay", IF(D, 0, MIN(cash, prin_due[arg])))
            cash = put(f"s{i}.cash", cash - pay)
            bal[arg] = bal[arg] - pay
            paid[arg].append(pay)
            prin_paid[arg].append(pay)
            short = prin_due[arg] - pay > 0
            trigger = short if program.hard[arg] else IF(balloon[arg], short, 0)
            D = put(f"s{i}.eod", IF(D, 1, IF(trigger, 1, 0)))
        elif op == ops.OP_BORROWING_BASE:
            excess = put(f"s{i}.excess", MAX(0, bal[arg] - S[f"t{arg}.advance"] * I(f"t{arg}.collateral")))
            pay = put(f"s{i}.pay", IF(D, 0, MIN(cash, excess)))
            cash = put(f"s{i}.cash", cash - pay)
            bal[arg] = bal[arg] - pay
            paid[arg].append(pay)
            prepaid[arg].append(pay)
            if program.hard[arg]:
                D = put(f"s{i}.eod", IF(D, 1, IF(excess - pay > 0, 1, 0)))
        elif op == ops.OP_RESERVE:
            target = put(f"s{i}.target", _reserve_target(program, cf, inputs, S, bal, arg, i, t, put, after))
            new = put(f"s{i}.pay", IF(D, reserve[arg], MIN(target, cash)))
            cash = put(f"s{i}.cash", IF(D, cash, cash - new))
            reserve[arg] = new
        elif op == ops.OP_SWEEP:
            share = IF(locked, S[f"s{i}.share_locked"], S[f"s{i}.share"])
            pay = put(f"s{i}.pay", IF(D, 0, MIN(cash * share, bal[arg])))
            cash = put(f"s{i}.cash", cash - pay)
            bal[arg] = bal[arg] - pay
            paid[arg].append(pay)
            prepaid[arg].append(pay)
        elif op == ops.OP_DISTRIBUTE:
            if arg >= 0:
                to_acct = put(f"s{i}.acct", IF(D, 0, IF(locked, cash, 0)))
                reserve[arg] = reserve[arg] + to_acct
                to_equity = put(f"s{i}.pay", IF(D, 0, IF(locked, 0, cash)))
            else:
                to_equity = put(f"s{i}.pay", IF(D, 0, cash))
            equity_parts.append(to_equity)
            cash = put(f"s{i}.cash", IF(D, cash, 0))
    for f in range(program.n_fees):
        if f not in fee_rows:
            put(F(f, "due"), ZERO)
            put(F(f, "paid"), ZERO)

    eod = put("L:event_of_default", D)
    has_exit = _exit_share(program) > 0 and t == n
    gross = put("L:seizure_gross", IF(eod, IF(exit_proceeds > 0, 0, I("seizure_gross")) if has_exit
                                       else I("seizure_gross"), 0))
    net = put("L:seizure_net", IF(eod, MAX(0, ((gross * (ONE - S["fire_sale"])) - S["cost_share"] * gross)
                                            - S["cost_fixed"]) * S["sale_discount"], 0))
    pool = (cash + SUM_SEQ(reserve)) + net
    if program.rvg_cap > 0:
        owed = SUM_SEQ((int_due[k] - SUM_SEQ(int_paid[k])) + bal[k] for k in range(k_count))
        guarantee = put("L:guarantee_paid", IF(eod, IF(I("rvg_live"), MIN(S["rvg_cap"] * I("rvg_factor"),
                                                                          MAX(0, owed - pool)), 0), 0))
        pool = pool + guarantee
    else:
        put("L:guarantee_paid", ZERO)
    pool = put("pool", IF(eod, pool, 0))
    claims, received = [], []
    lender_terms = []
    for k in range(k_count):
        ip = put(T(k, "interest_paid"), SUM_SEQ(int_paid[k]))
        put(T(k, "interest_capitalised"), SUM_SEQ(cap_lines[k]))
        pp = put(T(k, "principal_paid"), SUM_SEQ(prin_paid[k]))
        pre = put(T(k, "prepayment"), SUM_SEQ(prepaid[k]))
        rec_int = put(T(k, "recovery_interest"), IF(eod, MIN(pool, int_due[k] - ip), 0))
        pool = pool - rec_int
        rec_prin = put(T(k, "recovery_principal"), IF(eod, MIN(pool, bal[k]), 0))
        pool = pool - rec_prin
        put(T(k, "write_off"), IF(eod, bal[k] - rec_prin, 0))
        put(T(k, "balance_close"), IF(eod, 0, bal[k]))
        paid_k = SUM_SEQ(paid[k])
        claims.append((bal[k] + paid_k) + int_due[k])
        received += [ip, (paid_k + rec_int) + rec_prin]
        put(f"t{k}.repaid", (pp + pre) + rec_prin)
        lender_terms += [(-1, cf.ref(T(k, "draw"), t)), (1, ip), (1, pp), (1, pre), (1, rec_int),
                         (1, rec_prin)]
    equity_parts.append(IF(eod, pool, 0))
    put("claim", IF(eod, SUM_SEQ(claims), 0))
    put("received", IF(eod, SUM_SEQ(received), 0))
    dist = put("L:equity_distribution", SUM_SEQ(equity_parts))
    closes = [put(A(a, "balance_close"), IF(eod, 0, reserve[a])) for a in range(a_count)]
    put("L:reserve_funding", SUM_SEQ(closes))
    put("L:fees_paid", SUM_SEQ(fee_pays))
    put("equity_cf", (dist - equity_in) - cf.ref("L:sponsor_support", t))
    # lender flows as metrics.cash_flows adds them: 0 - draw + interest + principal + ...
    acc = ZERO
    for sign, term in lender_terms:
        acc = acc - term if sign < 0 else acc + term
    put("lender_cf", acc)


def _refi_terms(program: Program, cf: Grid, inputs: Grid, S: dict, k: int, t: int, put) -> dict:
    """Tranche k's terms in period t, as left by any refinancing before t: the original
    rate and schedule, or the refinancing rate and straight-line amortisation."""
    I = lambda key: inputs.ref(key, t, qualified=True)  # noqa: E731
    if t == 0:
        on = put(f"t{k}.on", ZERO)
        mat = put(f"t{k}.mat", S[f"t{k}.maturity_period"])
        amort = put(f"t{k}.amort", ZERO)
    else:
        on = put(f"t{k}.on", cf.ref(f"t{k}.on_after", t - 1))
        mat = put(f"t{k}.mat", cf.ref(f"t{k}.mat_after", t - 1))
        amort = put(f"t{k}.amort", cf.ref(f"t{k}.amort_after", t - 1))
    annual = put(f"t{k}.annual", IF(on, I(f"t{k}.refi_annual"), I(f"t{k}.annual")))
    per_rate = put(f"t{k}.per_rate", IF(on, I(f"t{k}.refi_per_rate"), I(f"t{k}.per_rate")))
    # reference.refinance: amortisation up to t0 + periods, i.e. up to the new maturity
    sched = put(f"t{k}.sched", IF(on, IF(I("period") <= mat, amort, 0), I(f"t{k}.sched")))
    at_mat = put(f"t{k}.at_mat", IF(EQ(I("period"), mat), 1, 0))
    return {"on": on, "mat": mat, "amort": amort, "annual": annual, "per_rate": per_rate,
            "sched": sched, "at_mat": at_mat}


def _refinance(program: Program, cf: Grid, inputs: Grid, S: dict, k: int, t: int, b: X, terms: dict, put):
    """reference.refinance as formulas: at maturity t (< the last period), with a positive
    balance b, the market open and next period's projected CFADS >= min DSCR x (b x new
    rate x accrual + min(b / periods, b)), tranche k goes on at the refinancing rate,
    amortising b / periods a period, maturing at min(t + periods, T); else the balloon is due.
    Returns (balloon due flag, the terms after this period)."""
    n = program.n_periods
    I = lambda key: inputs.ref(key, t, qualified=True)  # noqa: E731
    periods = S[f"t{k}.refi_periods"]
    if t < n:
        N = lambda key: inputs.ref(key, t + 1, qualified=True)  # noqa: E731
        service = put(f"t{k}.refi_service", ((b * N(f"t{k}.refi_annual")) * N(f"t{k}.accrual"))
                      + MIN(b / periods, b))
        cfads_next = put(f"t{k}.refi_cfads", N("proj_cfads"))
        refi = put(f"t{k}.refi", IF(terms["at_mat"], IF(b > 0, IF(I("refi_open") > 0, IF(
            cfads_next < S[f"t{k}.refi_min_dscr"] * service, 0, 1), 0), 0), 0))
    else:   # the last period: nothing to refinance into
        put(f"t{k}.refi_service", ZERO)
        put(f"t{k}.refi_cfads", ZERO)
        refi = put(f"t{k}.refi", ZERO)
    put(T(k, "refinanced"), IF(refi, b, 0))
    last = ref(inputs.cells[("period", n)].v, inputs.row_of("period"), inputs.col(n), IN_SHEET, absolute=True)
    on_after = put(f"t{k}.on_after", IF(refi, 1, terms["on"]))
    mat_after = put(f"t{k}.mat_after", IF(refi, MIN(I("period") + periods, last), terms["mat"]))
    amort_after = put(f"t{k}.amort_after", IF(refi, b / periods, terms["amort"]))
    balloon = put(f"t{k}.balloon", IF(refi, 0, terms["at_mat"]))
    return balloon, {"on": on_after, "mat": mat_after, "amort": amort_after}


def _reserve_target(program: Program, cf: Grid, inputs: Grid, S: dict, bal, a: int, i: int, t: int, put,
                    after: dict | None = None):
    """reference.reserve_target as a formula of the running balances (and of the terms
    after this period's refinancings, for a tranche that can be refinanced)."""
    after = after or {}
    n = program.n_periods
    kind = int(program.acct_kind[a])
    for k in range(program.n_tranches):
        for j in range(1, int(program.acct_periods[a])):
            if kind == ops.ACCOUNT_KIND["dsra"] and program.acct_mask[a, k]:
                put(f"s{i}.proj{k}.{j}", ZERO)   # overwritten below where the projection runs
    if t >= n:
        return ZERO
    if kind == ops.ACCOUNT_KIND["fixed"]:
        return S[f"a{a}.target"]
    if kind != ops.ACCOUNT_KIND["dsra"]:
        return ZERO
    terms = []
    for k in range(program.n_tranches):
        if not program.acct_mask[a, k]:
            continue
        b = bal[k]
        for j, u in enumerate(range(t + 1, min(t + int(program.acct_periods[a]), n) + 1), start=1):
            U = lambda key: inputs.ref(key, u, qualified=True)  # noqa: E731
            if k in after:   # terms (and maturity) as this period's refinancing left them
                on, mat, amort = after[k]["on"], after[k]["mat"], after[k]["amort"]
                within = U("period") <= mat
                per_rate = IF(on, U(f"t{k}.refi_per_rate"), U(f"t{k}.per_rate"))
                sched = IF(on, IF(within, amort, 0), U(f"t{k}.sched"))
                interest = IF(U(f"t{k}.cap"), 0, b * per_rate)
                principal = MIN(sched, b)
                terms.append(IF(within, interest + principal, 0))
            else:
                if u > program.maturity[k]:
                    break
                interest = IF(U(f"t{k}.cap"), 0, b * U(f"t{k}.per_rate"))
                principal = MIN(U(f"t{k}.sched"), b)
                terms.append(interest + principal)
            if j < int(program.acct_periods[a]):
                b = put(f"s{i}.proj{k}.{j}", b - principal)
    return SUM_SEQ(terms)


# --------------------------------------------------------------------------- model

def build_model(program: Program, batch, names_safe=lambda s: s, cf_first_row: int = 6) -> Model:
    """The Inputs and Cash flows grids for scenario 0 of `batch` (values and formulas)."""
    inputs, scalars, scalar_row, S = _build_inputs(program, batch, names_safe)
    cf = Grid(CF_SHEET, program.n_periods, cf_first_row)
    _layout_cash_flows(program, cf, names_safe)
    for t in range(program.n_periods + 1):
        _cash_flow_period(program, cf, inputs, S, t)
    missing = [(r.key, t) for r in cf.rows if r.key for t in range(program.n_periods + 1)
               if (r.key, t) not in cf.cells]
    assert not missing, missing[:5]
    scalar_list = [(key, label, fmt, S[key]) for key, label, fmt, _v in scalars]
    from ..results import ledger_columns
    return Model(program=program, inputs=inputs, scalars=scalar_list, scalar_row=scalar_row, cf=cf,
                 metrics=[], ledger_keys=[ledger_key(program, c) for c in ledger_columns(program)])


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
    from ..results import ledger_columns
    problems = []
    for j, (column, key) in enumerate(zip(ledger_columns(model.program), model.ledger_keys)):
        for t, value in enumerate(model.cf.values(key)):
            if not close(value, float(ledger[t, j])):
                problems.append(f"{column} at period {t}: formulas give {value!r}, the engine {ledger[t, j]!r}")
    return problems


def metric_formulas(model: Model, result) -> list:
    """[(key, label, fmt, X)]: the metrics as formulas over the two sheets, each with the
    engine's value. Ranges are qualified, so they can sit on any sheet."""
    program, cf, inputs = model.program, model.cf, model.inputs
    m = result.metrics
    ppy = 12 // program.months_per_period if 12 % program.months_per_period == 0 else 12 / program.months_per_period

    def val(v):
        return "" if v is None else float(v)

    r = cf.range
    out = []
    tested = r("dscr_tested")
    out.append(("min_dscr", "Minimum DSCR", "ratio",
                X(val(m["min_dscr"]), f'IF(COUNT({tested})=0,"",MIN({tested}))')))
    out.append(("avg_dscr", "Average DSCR", "ratio",
                X(val(m["avg_dscr"]), f'IF(COUNT({tested})=0,"",AVERAGE({tested}))')))
    covered = [k for k in range(program.n_tranches) if program.dscr_mask[k]]
    p0 = program.cod_period
    if covered and p0 <= program.n_periods:
        debt = SUM_SEQ(cf.ref(T(k, "balance_open"), p0, qualified=True) for k in covered)
        disc = inputs.range("discount") if "discount" in inputs.index else cf.range("discount")
        pc, life = inputs.range("proj_cfads"), inputs.range("loan_life")
        out.append(("llcr", "LLCR (at COD)", "ratio",
                    X(val(m["llcr"]), f'IF({debt.f}>0,SUMPRODUCT({pc},{disc},{life})/({debt.f}),"")')))
        out.append(("plcr", "PLCR (at COD)", "ratio",
                    X(val(m["plcr"]), f'IF({debt.f}>0,SUMPRODUCT({pc},{disc})/({debt.f}),"")')))
    else:
        out.append(("llcr", "LLCR (at COD)", "ratio", X("", '""')))
        out.append(("plcr", "PLCR (at COD)", "ratio", X("", '""')))
    eod, period = r("L:event_of_default"), inputs.range("period")
    claim, received = f"SUM({r('claim')})", f"SUM({r('received')})"
    out.append(("default_period", "Default period", "int",
                X(val(m["default_period"]), f'IF(SUM({eod})>0,SUMPRODUCT({eod},{period}),"")')))
    out.append(("lender_claim", "Lenders' claim at default", "amount", X(val(m["lender_claim"]), claim)))
    out.append(("lender_received", "Lenders received in the default period", "amount",
                X(val(m["lender_received"]), received)))
    out.append(("recovery_rate", "Recovery rate", "pct",
                X(val(m["recovery_rate"]), f'IF({claim}>0,{received}/{claim},"")')))
    out.append(("lender_loss", "Lenders' loss", "amount",
                X(val(m["lender_loss"]), f'IF(SUM({eod})>0,{claim}-{received},0)')))
    lender, equity = engine_cash_flows(program, result.ledger)
    for key, label, flows, row in (("lender_irr", "Lender IRR (annualised)", lender, "lender_cf"),
                                   ("equity_irr", "Equity IRR (annualised)", equity, "equity_cf")):
        guess = periodic_irr(flows)
        guess = 0.1 if math.isnan(guess) else guess
        # the engine's own root first; if an analyst's change moves the root out of its
        # reach, LibreOffice/Excel IRR gets further guesses (positive, then negative rates)
        irr_expr = '""'
        for g in (-0.1, -0.02, 0.01, guess):
            irr_expr = f"IFERROR(IRR({r(row)},{g!r}),{irr_expr})"
        out.append((key, label, "pct", X(val(m[key]),
                    f'IFERROR((1+{irr_expr})^{ppy}-1,"")')))
    out.append(("equity_distributions", "Equity distributions", "amount",
                X(val(m["equity_distributions"]), f"SUM({r('L:equity_distribution')})")))
    out.append(("equity_invested", "Equity invested (incl. sponsor support)", "amount",
                X(val(m["equity_invested"]), f"SUM({r('L:equity_in')})+SUM({r('L:sponsor_support')})")))
    years = inputs.range("years")
    for k, name in enumerate(program.names["tranches"]):
        rep = r(f"t{k}.repaid")
        out.append((f"wal_{k}", f"WAL {name} (years)", "years",
                    X(val(m["wal_years"][name]), f'IF(SUM({rep})>0,SUMPRODUCT({years},{rep})/SUM({rep}),"")')))
    return out


def unsupported(program: Program) -> list[str]:
    """Deal features the formulas do not restate (the values workbook still has them)."""
    problems = []
    known = set(STEP_VERB)
    for i, op in enumerate(program.step_op):
        if int(op) not in known:
            problems.append(f"step {i + 1}: step kind {int(op)} is not modelled in formulas")
    return problems
