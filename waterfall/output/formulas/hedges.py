"""Interest-rate hedges in the workbook (reference._hedge_settlements, _terminate_hedges;
waterfall/hedges.py), in the reference's floating-point order.

Inputs sheet, per hedge: its notional and accrual by period, its fixed rate or strike
(column C), the settlement its terms give on the scenario's index each period (`leg`),
and its mark-to-market after each period, rolled back from the horizon
(mtm(t) = (leg(t+1) + mtm(t+1)) / (1 + index(t+1) x accrual(t+1))).
Cash flows sheet, per hedge: what settles this period (only before any acceleration),
the part capitalised onto the hedged tranche in construction, the part due in cash (a
receipt from the bank is a source of the period), what the hedge step paid, and at an
acceleration the termination amount, the bank's claim and its recovery.
"""
from __future__ import annotations

from ..cells import IF, MAX, ONE, SUM_SEQ, ZERO
from ..labels import GLOBAL_LABELS, HEDGE_LABELS
from .grid import Grid


def H(h: int, line: str) -> str:
    """Row key of hedge h's ledger line."""
    return f"L:h{h}.{line}"


def hedge_scalars(program) -> list:
    out = []
    for h, name in enumerate(program.names.get("hedges", [])):
        what = "fixed rate" if int(program.hedge_kind[h]) == 0 else "strike"
        out.append((f"h{h}.rate", f"Hedge {name}: {what} (annual)", "rate", float(program.hedge_rate[h])))
    return out


def hedge_input_rows(grid: Grid, program, names_safe) -> None:
    for h, name in enumerate(program.names.get("hedges", [])):
        kind = "swap (pay fixed)" if int(program.hedge_kind[h]) == 0 else "cap (bought)"
        grid.section(f"Hedge: {names_safe(name)}, {kind}")
        grid.add(f"h{h}.notional", "Notional", "amount")
        grid.add(f"h{h}.accrual", "Accrual (years in the period, the hedge's day count)", "years")
        grid.add(f"h{h}.leg", "Settlement on its terms: owed by the SPV (negative: the bank pays)", "amount",
                 total=True)
        grid.add(f"h{h}.mtm", "Mark-to-market after the period (the remaining settlements, discounted at "
                              "the index)", "amount")


def hedge_inputs(grid: Grid, program, scalar_x: dict) -> None:
    """Every period's hedge inputs, then the mark-to-market rolled back from the horizon."""
    n = program.n_periods
    for h in range(program.n_hedges):
        rate = scalar_x[f"h{h}.rate"]
        for t in range(n + 1):
            grid.put(f"h{h}.notional", t, float(program.hedge_notional[h, t]))
            grid.put(f"h{h}.accrual", t, float(program.hedge_accrual[h, t]))
            notional, acc = grid.ref(f"h{h}.notional", t), grid.ref(f"h{h}.accrual", t)
            index = grid.ref("base_rate", t) + grid.ref("rate_add", t)
            if int(program.hedge_kind[h]) == 0:
                leg = (notional * (rate - index)) * acc
            else:
                leg = ((ZERO - notional) * MAX(index - rate, 0)) * acc
            grid.put(f"h{h}.leg", t, leg)
        for t in range(n, -1, -1):
            if t == n:
                grid.put(f"h{h}.mtm", t, ZERO)
                continue
            u = t + 1
            index = grid.ref("base_rate", u) + grid.ref("rate_add", u)
            grid.put(f"h{h}.mtm", t, (grid.ref(f"h{h}.leg", u) + grid.ref(f"h{h}.mtm", u))
                     / (ONE + index * grid.ref(f"h{h}.accrual", u)))


def hedge_rows(grid: Grid, program, names_safe) -> None:
    """Cash flows rows of the hedges, after the accrual."""
    if not program.n_hedges:
        return
    grid.section("Interest-rate hedges")
    for h, name in enumerate(program.names["hedges"]):
        name = names_safe(name)
        grid.add(f"h{h}.live", f"{name}: settles this period (1 = yes: a normal period before any "
                               "acceleration)", "flag", level=1)
        for line in ("notional", "index_rate", "net_due", "capitalised"):
            label, total = HEDGE_LABELS[line]
            grid.add(H(h, line), f"{name}: {label}", "rate" if line == "index_rate" else "amount", total=total)
        grid.add(f"h{h}.cash_due", f"{name}: due in cash (negative: the bank pays, a source of the period)",
                 "amount", total=True, level=1)
    grid.add("hedge_receipts", "Hedges: what the banks pay this period", "amount", total=True, level=1)


def settlements(c, acc, st) -> list:
    """reference._hedge_settlements: each hedge's settlement this period; the part owed in a
    capitalised period of its tranche is capitalised onto it (acc.bal, acc.cap_lines).
    Returns what is due in cash [H] (cells)."""
    program = c.program
    workout, _ended, normal, cancelled = st
    out = []
    for h in range(program.n_hedges):
        k = int(program.hedge_tranche[h])
        live = c.put(f"h{h}.live", IF(normal, IF(cancelled, 0, 1), 0))
        c.put(H(h, "notional"), IF(live, c.I(f"h{h}.notional"), 0))
        c.put(H(h, "index_rate"), IF(live, c.I("base_rate") + c.I("rate_add"), 0))
        due = c.put(H(h, "net_due"), IF(live, c.I(f"h{h}.leg"), 0))
        cap = c.put(H(h, "capitalised"), IF(live, IF(c.I(f"t{k}.cap"), IF(due > 0, due, 0), 0), 0))
        acc.bal[k] = acc.bal[k] + cap
        acc.cap_lines[k].append(cap)
        out.append(c.put(f"h{h}.cash_due", IF(cap > 0, 0, due)))
    if program.n_hedges:
        c.put("hedge_receipts", SUM_SEQ(IF(d < 0, ZERO - d, 0) for d in out))
    return out


def owed_in_cash(dues):
    """What the SPV owes the banks this period (the lenders' `owed` adds it)."""
    return SUM_SEQ(MAX(d, 0) for d in dues)


def paid_rows(c, p) -> None:
    """reference._write_steps: each hedge's net settlement (paid at its step, less what the
    bank paid in) and their sum."""
    nets = []
    for h, due in enumerate(p.hedge_due):
        nets.append(c.put(H(h, "net_paid"), SUM_SEQ(p.hedge_pay[h]) - MAX(ZERO - due, 0)))
    c.put("L:hedge_settlement", SUM_SEQ(nets) if nets else ZERO)


def termination_rows(grid: Grid, program, names_safe) -> None:
    """Rows of the termination at an acceleration (in the enforcement block)."""
    if not program.n_hedges:
        return
    for h, name in enumerate(program.names.get("hedges", [])):
        name = names_safe(name)
        label, _total = HEDGE_LABELS["termination"]
        grid.add(H(h, "termination"), f"{name}: {label}", "amount", total=True)
        grid.add(f"h{h}.claim_in", f"{name}: the bank's claim before recoveries", "amount", level=1)
    grid.add("L:hedge_termination_received", GLOBAL_LABELS["hedge_termination_received"], "amount", total=True)


def terminate(c, p, eod, workout) -> tuple:
    """reference._terminate_hedges at an acceleration; in a workout the claims carried.
    Returns (received from the banks, {h: claim before recoveries})."""
    claims, parts = {}, []
    for h, due in enumerate(p.hedge_due):
        pay = SUM_SEQ(p.hedge_pay[h])
        amount = c.put(H(h, "termination"), IF(eod, c.I(f"h{h}.mtm") + (MAX(due, 0) - pay), 0))
        claims[h] = c.put(f"h{h}.claim_in", IF(eod, IF(amount > 0, amount, 0), IF(workout, c.P(H(h, "claim")), 0)))
        parts.append(IF(amount > 0, 0, ZERO - amount))
    received = c.put("L:hedge_termination_received", IF(eod, SUM_SEQ(parts), 0) if parts else ZERO)
    return received, claims


def close_rows(grid: Grid, program, names_safe) -> None:
    for h, name in enumerate(program.names.get("hedges", [])):
        name = names_safe(name)
        for line in ("recovery", "write_off", "claim"):
            label, total = HEDGE_LABELS[line]
            grid.add(H(h, line), f"{name}: {label}", "amount", total=total)
