"""Principal: pay scheduled principal, or the whole balance at maturity (the balloon)."""
from __future__ import annotations

from ..ops import DUST
from .base import BORROWING_BASE, MATURITY, PAYMENT, Line, StepKind

CODE = 2
NAME = "principal"


class Principal(StepKind):
    def lines(self, program, i, arg):
        return [Line("pay", "paid", total=True), Line("cash", "cash left", level=1),
                Line("eod", "event of default so far (its cause code; 0 = none)", "int", level=1)]

    def cash(self, p, i, k):
        due = p.prin_due[k]
        pay = p.put(i, "pay", p.IF(p.D, 0.0, p.MIN(p.cash, due)))
        p.cash = p.put(i, "cash", p.cash - pay)
        p.bal[k] = p.bal[k] - pay
        p.principal_paid(k, pay)
        short = due - pay > DUST   # a shortfall of rounding dust is none
        trigger = short if p.hard(k) else p.IF(p.balloon(k), short, 0.0)
        p.D = p.put(i, "eod", p.IF(p.D, p.D, p.IF(trigger, p.IF(p.balloon(k), MATURITY, PAYMENT), 0.0)))


KIND = Principal(
    code=CODE, name=NAME, operand="tranche", required=True, after=("interest",),
    summary="pay scheduled principal min(schedule, balance) (the whole balance at maturity); a "
            "shortfall is an event of default if default_on_shortfall or at maturity, else deferred",
    doc="Principal due is min(scheduled principal, balance), or the whole balance in the "
        "tranche's maturity period (a balloon; if the loan is refinanced or extended then, the "
        "schedule plus what the new loan or the extension leaves of the balloon). The step pays "
        "min(cash, due). A shortfall is an event of default for a tranche with "
        "`default_on_shortfall = true`, and for any tranche at its maturity; otherwise the unpaid "
        "principal stays on the balance (deferred).",
)
