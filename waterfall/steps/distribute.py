"""Distribute: pay all remaining cash to equity, or into a lock-up account while locked up."""
from __future__ import annotations

from .base import Line, StepKind

CODE = 5
NAME = "distribute"


def _lockup_only(deal, i, step):
    accounts = {a.name: a for a in deal.accounts}
    if step.account in accounts and accounts[step.account].kind != "lockup":
        return [(f"waterfall[{i}].account", "distribute traps cash only in a lockup account", step.account)]
    return []


class Distribute(StepKind):
    def lines(self, program, i, arg):
        out = [Line("acct", "to the lock-up account", total=True)] if arg >= 0 else []
        return out + [Line("pay", "to equity", total=True), Line("cash", "cash left", level=1)]

    def label(self, names, i, arg):
        return f"{i + 1}. distribute" + (f" (lock-up: {names['accounts'][arg]})" if arg >= 0 else "")

    def cash(self, p, i, a):
        if a >= 0:
            trapped = p.put(i, "acct", p.IF(p.D, 0.0, p.IF(p.locked, p.cash, 0.0)))
            p.reserve[a] = p.reserve[a] + trapped
            paid = p.put(i, "pay", p.IF(p.D, 0.0, p.IF(p.locked, 0.0, p.cash)))
        else:
            paid = p.put(i, "pay", p.IF(p.D, 0.0, p.cash))
        p.to_equity(paid)
        p.cash = p.put(i, "cash", p.IF(p.D, p.cash, 0.0))


KIND = Distribute(
    code=CODE, name=NAME, operand="account?", last=True, checks=(_lockup_only,),
    summary="pay all remaining cash to equity, or into the lock-up account while locked up",
    doc="The last step of every waterfall. It pays all cash left to equity; while the lock-up "
        "DSCR test fails and the step names a lock-up account, the cash is trapped there instead "
        "(released into the waterfall at the start of the next period, like every reserve).",
)
