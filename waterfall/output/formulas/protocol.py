"""The step protocol (waterfall/steps/base.py) on cell expressions: each step kind's cash
rule, evaluated here, writes its live formulas into the Cash flows sheet, carrying the
values the reference computes from the same rule on floats."""
from __future__ import annotations

from ... import ops
from ..cells import IF, MAX, MIN, SUM_SEQ, ZERO
from .grid import F
from .refinancing import has_refi, new_per_rate, new_sched, sculpt, shape_pay, shape_roll


class CellPeriod:
    """Period t of the workbook. `c` is the period's sheet context (period.Sheets); the
    per-tranche state lists come from the accrual block (period.Accrued). `normal` is the
    period's flag of a normal period (not in a workout, not ended): outside one, every
    input of the steps is zero, so they pay nothing."""

    IF = staticmethod(IF)
    MIN = staticmethod(MIN)
    MAX = staticmethod(MAX)

    def __init__(self, c, normal, cash, default, locked, acc):
        k_count = c.program.n_tranches
        self.c, self.normal, self.acc = c, normal, acc
        self.cash, self.D, self.locked = cash, default, locked
        self.int_due, self.prin_due, self.bal = acc.int_due, acc.prin_due, acc.bal
        self.reserve = [ZERO] * c.program.n_accounts
        self.int_paid = [[] for _ in range(k_count)]
        self.cap_lines = acc.cap_lines
        self.prin_paid = [[] for _ in range(k_count)]
        self.prepay = [[] for _ in range(k_count)]
        self.paid = [[] for _ in range(k_count)]
        self.fee_pays, self.equity_parts, self.fee_rows = [], [], set()
        self.hedge_due = list(acc.hedge_due)     # due in cash per hedge (hedges.settlements)
        self.hedge_pay = [[] for _ in self.hedge_due]
        self.lc_owed = [ZERO] * c.program.n_accounts   # letters_of_credit.lc_liquidity sets them
        self.lc_out = [ZERO] * c.program.n_accounts

    def put(self, i, name, x):
        return self.c.put(f"s{i}.{name}", x)

    def hard(self, k):
        return bool(self.c.program.hard[k])

    def balloon(self, k):
        return self.acc.balloon[k]

    def share(self, i):
        return self.c.S[f"s{i}.share"]

    def share_locked(self, i):
        return self.c.S[f"s{i}.share_locked"]

    def advance(self, k):
        return self.c.S[f"t{k}.advance"]

    def collateral(self, k):
        return self.c.I(f"t{k}.collateral")

    def fee_due(self, f):
        return IF(self.normal, self.c.I(f"f{f}.due"), 0)

    def has_lc(self, a):
        return bool(self.c.program.acct_lc[a].any())

    def lc_face(self, a):
        return self.c.I(f"a{a}.lc")

    def reserve_target(self, i, a):
        return reserve_target(self.c, self.bal, a, i, self.acc.after)

    def interest_paid(self, k, x):
        self.int_paid[k].append(x)

    def capitalised(self, k, x):
        self.bal[k] = self.bal[k] + x
        self.cap_lines[k].append(x)

    def principal_paid(self, k, x):
        self.prin_paid[k].append(x)
        self.paid[k].append(x)

    def prepaid(self, k, x):
        self.prepay[k].append(x)
        self.paid[k].append(x)

    def fee_line(self, f, line, x):
        self.fee_rows.add(f)
        return self.c.put(F(f, line), x)

    def hedge_paid(self, h, x):
        self.hedge_pay[h].append(x)

    def fee_paid(self, x):
        self.fee_pays.append(x)

    def to_equity(self, x):
        self.equity_parts.append(x)


def _zero_projection_rows(c, a: int, i: int) -> None:
    program = c.program
    if int(program.acct_kind[a]) != ops.ACCOUNT_KIND["dsra"]:
        return
    for k in range(program.n_tranches):
        if program.acct_mask[a, k]:
            for j in range(1, int(program.acct_periods[a])):
                c.put(f"s{i}.proj{k}.{j}", ZERO)   # overwritten below where the projection runs
                if sculpt(program, k):
                    c.put(f"s{i}.proj{k}.{j}.sb", ZERO)


def projected_service(c, k: int, u: int, b, after: dict):
    """(interest + principal due at period u on balance b, principal) for tranche k, on
    the terms this period's refinancing left (if it can be refinanced); None past maturity."""
    U = lambda key: c.inputs.ref(key, u, qualified=True)  # noqa: E731
    if k in after:
        on, mat, amort = after[k]["on"], after[k]["mat"], after[k]["amort"]
        within = U("period") <= mat
        refi = has_refi(c.program, k)
        per_rate = IF(on, new_per_rate(c.inputs, k, u, after[k]["radd"]), U(f"t{k}.per_rate")) if refi else U(f"t{k}.per_rate")
        if "ext_add" in after[k]:   # the margin the extensions added (refinancing.extend)
            per_rate = per_rate + after[k]["ext_add"] * U(f"t{k}.accrual")
        sched = new_sched(c.program, c.inputs, c.S, k, u, after[k]) if refi else U(f"t{k}.sched")
        principal = MIN(sched, b)
        return IF(within, IF(U(f"t{k}.cap"), 0, b * per_rate) + principal, 0), principal
    if u > c.program.maturity[k]:
        return None
    principal = MIN(U(f"t{k}.sched"), b)
    return IF(U(f"t{k}.cap"), 0, b * U(f"t{k}.per_rate")) + principal, principal


def reserve_target(c, bal, a: int, i: int, after: dict):
    """reference.reserve_target as a formula of the running balances (and of the terms
    after this period's refinancings, for a tranche that can be refinanced)."""
    program, t, n = c.program, c.t, c.program.n_periods
    kind = int(program.acct_kind[a])
    _zero_projection_rows(c, a, i)
    if t >= n:
        return ZERO
    if kind == ops.ACCOUNT_KIND["fixed"]:
        return c.I(f"a{a}.target")
    if kind != ops.ACCOUNT_KIND["dsra"]:
        return ZERO
    terms, periods = [], int(program.acct_periods[a])
    for k in range(program.n_tranches):
        if not program.acct_mask[a, k]:
            continue
        b = bal[k]
        for j, u in enumerate(range(t + 1, min(t + periods, n) + 1), start=1):
            due = projected_service(c, k, u, b, after)
            if due is None:
                break
            weight = float(program.acct_last_weight[a])
            terms.append(weight * due[0] if j == periods and weight != 1.0 else due[0])
            if j < periods:
                b = c.put(f"s{i}.proj{k}.{j}", b - due[1])
                if sculpt(program, k) and k in after:   # the sculpted shape rolls on with it
                    after = {**after, k: shape_roll(c.put, f"s{i}.proj{k}.{j}.sb", after[k],
                                                    shape_pay(c.inputs, c.S, k, u, after[k]))}
    legs = hedge_legs(c, program.acct_mask[a], t, min(t + periods, n))
    if legs is None:
        return SUM_SEQ(terms)
    return MAX(SUM_SEQ(terms) + SUM_SEQ(legs), 0)   # with the hedges: never below zero


def hedge_legs(c, mask, t: int, last: int):
    """dscr_windows.hedge_service as cells: each settlement owed in cash over periods
    t+1 .. last by the hedges on the tranches `mask` selects, on the scenario's index (the
    Inputs legs; a part owed in a capitalised period is left out). None: no such hedge."""
    program = c.program
    hedged = [h for h in range(program.n_hedges) if mask[int(program.hedge_tranche[h])]]
    if not hedged:
        return None
    U = lambda key, u: c.inputs.ref(key, u, qualified=True)  # noqa: E731
    legs = []
    for h in hedged:
        k = int(program.hedge_tranche[h])
        for u in range(t + 1, last + 1):
            leg = U(f"h{h}.leg", u)
            legs.append(IF(U(f"t{k}.cap", u), IF(leg > 0, 0, leg), leg))
    return legs
