"""Interest: pay the cash interest due on a tranche; a shortfall is an event of default
on a hard tranche (`default_on_shortfall`), else it is capitalised (PIK)."""
from __future__ import annotations

from ..ops import DUST
from .base import BORROWING_BASE, MATURITY, PAYMENT, Line, StepKind

CODE = 1
NAME = "interest"


class Interest(StepKind):
    def lines(self, program, i, arg):
        out = [Line("pay", "paid", total=True)]
        if not program.hard[arg]:
            out.append(Line("pik", "shortfall capitalised", total=True))
        out.append(Line("cash", "cash left", level=1))
        if program.hard[arg]:
            out.append(Line("eod", "event of default so far (its cause code; 0 = none)", "int", level=1))
        return out

    def cash(self, p, i, k):
        due = p.int_due[k]
        pay = p.put(i, "pay", p.IF(p.D, 0.0, p.MIN(p.cash, due)))
        p.cash = p.put(i, "cash", p.cash - pay)
        p.interest_paid(k, pay)
        if p.hard(k):
            p.D = p.put(i, "eod", p.IF(p.D, p.D, p.IF(due - pay > DUST, PAYMENT, 0.0)))
        else:
            short = p.put(i, "pik", p.IF(p.D, 0.0, due - pay))
            p.capitalised(k, short)
            p.int_due[k] = p.IF(p.D, due, pay)


KIND = Interest(
    code=CODE, name=NAME, operand="tranche", required=True,
    summary="pay cash interest due on the opening balance; a shortfall is an event of default "
            "for a tranche with default_on_shortfall, else it is capitalised (PIK)",
    doc="Interest due is the opening balance x the all-in annual rate x the period's accrual "
        "(day count, on the period's real dates, a stub's included), rounded to the tranche's "
        "`amortisation.round_to` where it has one (docs/conventions.md); in a capitalised period (construction, PIK toggle) it is added to the "
        "balance and nothing is due in cash. The step pays min(cash, due). What is left unpaid "
        "is an event of default for a tranche with `default_on_shortfall = true` (senior debt); "
        "for any other tranche it is capitalised: added to the balance and shown as interest "
        "capitalised (payment-in-kind).",
)
