"""Sweep: prepay a tranche from a share of the cash left (more while locked up)."""
from __future__ import annotations

from .base import StepKind

CODE = 4
NAME = "sweep"


class Sweep(StepKind):
    def scalars(self, program, i, arg):
        name = program.names["tranches"][arg]
        return [(f"s{i}.share", f"Sweep {name}: share of cash (step {i + 1})", "pct",
                 float(program.step_share[i])),
                (f"s{i}.share_locked", f"Sweep {name}: share while locked up (step {i + 1})", "pct",
                 float(program.step_share_locked[i]))]

    def cash(self, p, i, k):
        share = p.IF(p.locked, p.share_locked(i), p.share(i))
        pay = p.put(i, "pay", p.IF(p.D, 0.0, p.MIN(p.cash * share, p.bal[k])))
        p.cash = p.put(i, "cash", p.cash - pay)
        p.bal[k] = p.bal[k] - pay
        p.prepaid(k, pay)


KIND = Sweep(
    code=CODE, name=NAME, operand="tranche", fields=("share", "share_locked"),
    after=("principal",),
    summary="prepay min(cash x share, balance), share_locked while the lock-up test fails",
    doc="A cash sweep prepays min(cash left x share, balance) of the tranche, with `share` in a "
        "normal period and `share_locked` (default 100%) while the lock-up DSCR test fails. It "
        "must come after the tranche's principal step, or it would prepay principal that the "
        "schedule then asks for again.",
)
