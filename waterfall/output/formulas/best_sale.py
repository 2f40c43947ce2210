"""The best-execution sale period (workout.best_sale) as formulas, for a deal with
`sale_rule = "best_execution"`. In every period's column a block of rows values each
candidate sale j = 0..P periods later (P: the time to sale in periods, at most the
horizon), as if the lenders accelerated in that period: the discount factor at the
senior's per-period rate (the recovery PV's rate), the workout's net cash (CFADS less
workout costs) of the periods after the acceleration up to the sale, discounted, and
the sale's net proceeds discounted; then, candidate by candidate, the best value so far
and its offset, keeping the earlier one on a tie. The acceleration period reads its
own column's last offset. The rows look forward on the Inputs sheet only (and at the
senior's refinancing state in the column itself), so no cell depends on itself."""
from __future__ import annotations

from ..cells import IF, MAX, ONE, ZERO, const
from .refinancing import has_ext, has_refi, new_per_rate
from ...workout import senior


def candidates(program) -> int:
    """The last candidate offset P the rows are built for: the time to sale in periods,
    at most the horizon."""
    return min(int(program.sale_periods), int(program.n_periods))


def best_sale_rows(grid, program) -> None:
    """The Cash flows rows of the choice (layout_enforce._event_rows)."""
    for j in range(candidates(program) + 1):
        tag = f"sale {j} period{'s' if j != 1 else ''} after"
        grid.add(f"bx{j}.disc", f"Best execution, {tag}: discount factor at the senior rate", "factor", level=1)
        grid.add(f"bx{j}.cash", f"Best execution, {tag}: workout net cash up to it, discounted", "amount", level=1)
        grid.add(f"bx{j}.value", f"Best execution, {tag}: value (net cash + net sale proceeds, discounted; "
                                 "0: beyond the horizon)", "amount", level=1)
        grid.add(f"bx{j}.best", f"Best execution, {tag}: best value so far", "amount", level=1)
        grid.add(f"bx{j}.at", f"Best execution, {tag}: periods from the acceleration to the best sale so far",
                 "int", level=1)


def _rate(c, k: int, u: int):
    """Tranche k's per-period rate at period u, as the engine holds it at this period's
    acceleration: the refinancing rate if it is on refinanced terms after this period."""
    rate = c.inputs.ref(f"t{k}.per_rate", u, qualified=True)
    if has_refi(c.program, k):
        rate = IF(c.ref(f"t{k}.on_after"), new_per_rate(c.inputs, k, u, c.ref(f"t{k}.radd_after")), rate)
    if has_ext(c.program, k):   # the margin the extensions added (refinancing.extend)
        rate = rate + c.ref(f"t{k}.ext_add_after") * c.inputs.ref(f"t{k}.accrual", u, qualified=True)
    return rate


def best_offset(c):
    """Write this period's candidate rows; the offset of the best sale (an X)."""
    program, S, a, n = c.program, c.S, c.t, c.program.n_periods
    k = senior(program)
    before_cod = c.I("period") < S["cod_period"]
    disc = cash = best = at = None
    for j in range(candidates(program) + 1):
        u = a + j
        if u > n:   # beyond the horizon: not a candidate
            c.put(f"bx{j}.disc", ZERO)
            c.put(f"bx{j}.cash", ZERO)
            c.put(f"bx{j}.value", ZERO)
            best, at = c.put(f"bx{j}.best", best), c.put(f"bx{j}.at", at)
            continue
        N = lambda key: c.inputs.ref(key, u, qualified=True)  # noqa: E731
        if j == 0:
            disc, cash = c.put("bx0.disc", ONE), c.put("bx0.cash", ZERO)
        else:
            disc = c.put(f"bx{j}.disc", disc / (ONE + _rate(c, k, u)))
            net = ((N("rent") * N("rent_mult")) - (N("opex") * N("opex_mult"))) - S["workout_cost"]
            cash = c.put(f"bx{j}.cash", cash + net * disc)
        # construction stops at an acceleration: before COD the sale is at the cost spent by then
        gross = IF(before_cod, c.I("sale_value"), N("sale_value"))
        proceeds = MAX(0, ((gross * (ONE - S["fire_sale"])) - S["cost_share"] * gross) - S["cost_fixed"])
        value = c.put(f"bx{j}.value", cash + proceeds * disc)
        if j == 0:
            best, at = c.put("bx0.best", value), c.put("bx0.at", ZERO)
            continue
        # a shorter time to sale typed into Inputs leaves the later candidates out
        better = IF(const(float(j)) <= S["sale_periods"], IF(value > best, 1, 0), 0)
        best = c.put(f"bx{j}.best", IF(better, value, best))
        at = c.put(f"bx{j}.at", IF(better, float(j), at))
    return at
