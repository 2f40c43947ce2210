"""Fee: pay the fee due this period as far as cash allows; a shortfall is dropped."""
from __future__ import annotations

from .base import Line, StepKind

CODE = 0
NAME = "fee"


class Fee(StepKind):
    def lines(self, program, i, arg):
        return [Line("cash", "cash left", level=1)]  # the fee's own due/paid lines are its lines

    def cash(self, p, i, f):
        due = p.fee_line(f, "due", p.IF(p.D, 0.0, p.fee_due(f)))
        pay = p.fee_line(f, "paid", p.IF(p.D, 0.0, p.MIN(p.cash, due)))
        p.fee_paid(pay)
        p.cash = p.put(i, "cash", p.cash - pay)


KIND = Fee(
    code=CODE, name=NAME, operand="fee",
    summary="pay the fee due this period, as far as cash allows; a shortfall is dropped",
    doc="The fee due is its annual amount x the period's share of a year, between its first and "
        "last period. The step pays min(cash, due); an unpaid fee is not carried forward "
        "(agency and trustee fees senior to interest are normally paid in full).",
)
