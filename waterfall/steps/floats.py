"""The step protocol on floats: the reference interpreter's priority of payments.

`FloatPeriod` carries one period's state through the steps (see steps/base.py for the
protocol); `run_steps` applies a program's steps to it in order. Ledger effects are
gathered per line in the order the steps pay them and summed left to right, as the
workbook's formulas add them.
"""
from __future__ import annotations

from . import kinds_of


def IF(cond, a, b):
    return a if cond else b


class FloatPeriod:
    """Period t of one scenario, on floats. `program` and `t` locate the deal's terms;
    `terms` gives what depends on the scenario: reserve_target(a, balances),
    collateral(k), balloon(k)."""

    __slots__ = ("program", "t", "terms", "cash", "D", "locked", "int_due", "prin_due", "bal",
                 "reserve", "int_paid", "cap", "prin_paid", "prepay", "paid", "fee_due_",
                 "fee_pay", "fees", "equity", "hedge_due", "hedge_pay", "lc_owed", "lc_out")

    IF = staticmethod(IF)
    MIN = staticmethod(min)
    MAX = staticmethod(max)

    def __init__(self, program, t, terms, cash, default, locked, int_due, prin_due, bal, reserve):
        k_count = program.n_tranches
        self.program, self.t, self.terms = program, t, terms
        self.cash, self.D, self.locked = cash, default, locked
        self.int_due, self.prin_due, self.bal, self.reserve = int_due, prin_due, bal, reserve
        self.int_paid = [0.0] * k_count
        self.cap = [0.0] * k_count      # PIK shortfalls capitalised by interest steps
        self.prin_paid = [0.0] * k_count
        self.prepay = [0.0] * k_count
        self.paid = [0.0] * k_count     # all principal paid this period (scheduled and prepaid)
        self.fee_due_ = {}
        self.fee_pay = {}
        self.fees = 0.0
        self.equity = 0.0
        self.hedge_due = [0.0] * program.n_hedges  # net settlement owed in cash (the caller sets it)
        self.hedge_pay = [0.0] * program.n_hedges
        self.lc_owed = [0.0] * program.n_accounts   # owed to each LC bank (the caller sets it)
        self.lc_out = [0.0] * program.n_accounts    # LC amount at the waterfall's disposal, not settled

    @staticmethod
    def put(i, name, x):
        return x

    def hard(self, k):
        return bool(self.program.hard[k])

    def balloon(self, k):
        return self.terms.balloon(k)

    def share(self, i):
        return self.program.step_share[i]

    def share_locked(self, i):
        return self.program.step_share_locked[i]

    def advance(self, k):
        return self.program.bb_advance[k]

    def collateral(self, k):
        return self.terms.collateral(k)

    def fee_due(self, f):
        return self.program.fee_due[f, self.t]

    def has_lc(self, a):
        return bool(self.program.acct_lc[a].any())

    def lc_face(self, a):
        return self.program.acct_lc[a, self.t]

    def reserve_target(self, i, a):
        return self.terms.reserve_target(a, self.bal)

    def interest_paid(self, k, x):
        self.int_paid[k] += x

    def capitalised(self, k, x):
        self.bal[k] += x
        self.cap[k] += x

    def principal_paid(self, k, x):
        self.prin_paid[k] += x
        self.paid[k] += x

    def prepaid(self, k, x):
        self.prepay[k] += x
        self.paid[k] += x

    def fee_line(self, f, line, x):
        (self.fee_due_ if line == "due" else self.fee_pay)[f] = x
        return x

    def hedge_paid(self, h, x):
        self.hedge_pay[h] += x

    def fee_paid(self, x):
        self.fees += x

    def to_equity(self, x):
        self.equity += x


def run_steps(program, p: FloatPeriod, kinds=None) -> FloatPeriod:
    """Apply the program's priority of payments to period state `p` (in place). `kinds`
    are the steps' kinds (steps.kinds_of(program.step_op)), resolved once per run; an
    unknown opcode raises steps.UnknownStep."""
    kinds = kinds if kinds is not None else kinds_of(program.step_op)
    step_arg = program.step_arg
    for i, kind in enumerate(kinds):
        kind.cash(p, i, int(step_arg[i]))
    return p
