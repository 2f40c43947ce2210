"""Borrowing base: prepay the excess of a tranche's balance over advance rate x collateral."""
from __future__ import annotations

from ..ops import DUST
from .base import BORROWING_BASE, MATURITY, PAYMENT, Line, StepKind

CODE = 6
NAME = "borrowing_base"


def _needs_terms(deal, i, step):
    by_name = {t.name: t for t in deal.tranches}
    if step.tranche in by_name and getattr(by_name[step.tranche], "borrowing_base", None) is None:
        return [(f"waterfall[{i}].tranche", "a borrowing_base step needs a tranche with [borrowing_base] terms",
                 step.tranche)]
    return []


class BorrowingBase(StepKind):
    def lines(self, program, i, arg):
        out = [Line("excess", "balance over the borrowing base", level=1),
               Line("pay", "prepaid", total=True), Line("cash", "cash left", level=1)]
        if program.hard[arg]:
            out.append(Line("eod", "event of default so far (its cause code; 0 = none)", "int", level=1))
        return out

    def cash(self, p, i, k):
        excess = p.put(i, "excess", p.MAX(0.0, p.bal[k] - p.advance(k) * p.collateral(k)))
        pay = p.put(i, "pay", p.IF(p.D, 0.0, p.MIN(p.cash, excess)))
        p.cash = p.put(i, "cash", p.cash - pay)
        p.bal[k] = p.bal[k] - pay
        p.prepaid(k, pay)
        if p.hard(k):
            p.D = p.put(i, "eod", p.IF(p.D, p.D, p.IF(excess - pay > DUST, BORROWING_BASE, 0.0)))


KIND = BorrowingBase(
    code=CODE, name=NAME, operand="tranche", after=("principal",), checks=(_needs_terms,),
    summary="prepay the excess of the balance over advance rate x collateral value, as far as "
            "cash allows; a shortfall is an event of default for a tranche with default_on_shortfall",
    doc="The borrowing base is the tranche's advance rate x the value of the asset components in "
        "its collateral (each on its own value curve, moved by the scenario). The step prepays "
        "min(cash, balance - borrowing base) when the balance exceeds it (a GPU-backed facility's "
        "mandatory prepayment); an unpaid excess is an event of default for a tranche with "
        "`default_on_shortfall = true`.",
)
