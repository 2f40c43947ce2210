"""Hedge: pay the net settlement the SPV owes on an interest-rate swap; an amount owed and
not paid is an event of default. (What a bank owes the SPV is a source of the period.)"""
from __future__ import annotations

from ..ops import DUST
from .base import PAYMENT, Line, StepKind

CODE = 7
NAME = "hedge"


class Hedge(StepKind):
    def lines(self, program, i, arg):
        return [Line("pay", "net settlement paid", total=True),
                Line("cash", "cash left", level=1),
                Line("eod", "event of default so far (its cause code; 0 = none)", "int", level=1)]

    def cash(self, p, i, h):
        due = p.MAX(p.hedge_due[h], 0.0)
        pay = p.put(i, "pay", p.IF(p.D, 0.0, p.MIN(p.cash, due)))
        p.cash = p.put(i, "cash", p.cash - pay)
        p.hedge_paid(h, pay)
        p.D = p.put(i, "eod", p.IF(p.D, p.D, p.IF(due - pay > DUST, PAYMENT, 0.0)))


KIND = Hedge(
    code=CODE, name=NAME, operand="hedge", required=True,
    summary="pay the net settlement the SPV owes on its hedge; an amount owed and not paid is "
            "an event of default (what the bank owes is a source of the period)",
    doc="The net settlement of a pay-fixed swap is notional x (fixed rate - index) x accrual, "
        "of a bought cap -notional x max(index - strike, 0) x accrual, on the deal's base-rate "
        "index under the scenario (its rate path and shocks) and the hedge's day count. What the "
        "SPV owes is paid as far as cash allows; a shortfall is an event of default (a hedge "
        "bank's claim is senior debt under the intercreditor terms). What the bank owes the SPV "
        "(a swap when the index is above the fixed rate, a cap above its strike) is received "
        "with the period's revenue, before any step, as hedge receipts are in project "
        "accounts. In a period where the hedged "
        "tranche capitalises its interest (construction), an amount owed is capitalised onto "
        "that tranche with it (funded by the facility, as interest during construction) and "
        "nothing is due in cash. Place it beside the senior interest step: debt service for "
        "DSCR counts it (net hedged debt service). On acceleration the hedge terminates at its "
        "mark-to-market (docs/credit.md).",
)
