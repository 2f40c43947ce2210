"""Letters of credit backing a DSRA, as cells (reference._lc_liquidity, _lc_at_acceleration,
_lc_close; the reimbursement at the reserve step is steps/reserve.py's own rule).

Each account with a letter of credit has a state row `a<a>.lc_state` (owed to the LC bank,
carried from period to period through a workout) and the ledger rows
`L:a<a>.lc_available / lc_drawn / lc_reimbursed / lc_owed`, written only in a normal period
(the engine writes them only where the priority of payments runs). Accounts without one
show zeros.
"""
from __future__ import annotations

from ..cells import IF, MAX, MIN, ZERO
from .grid import A


def has_lc(program, a: int) -> bool:
    return bool(program.acct_lc[a].any())


def lc_liquidity(c, cash, normal):
    """The undrawn amount of each LC (face less what is owed) joins the cash the steps see
    while the lenders are owed something. Returns (cash, [owed at the start], [amount out])."""
    program = c.program
    lenders = c.ref("lenders")
    opens, outs = [], []
    for a in range(program.n_accounts):
        if not has_lc(program, a):
            c.put(A(a, "lc_available"), ZERO)
            opens.append(ZERO)
            outs.append(ZERO)
            continue
        opened = c.put(f"a{a}.lc_open", c.P(f"a{a}.lc_state"))
        avail = c.put(A(a, "lc_available"), IF(lenders, MAX(c.I(f"a{a}.lc") - opened, 0), 0))
        cash = cash + avail
        opens.append(opened)
        outs.append(avail)
    if any(has_lc(program, a) for a in range(program.n_accounts)):
        cash = c.put("cash_lc", cash)
    return cash, opens, outs


def lc_settle(c, p, normal, opens) -> None:
    """After the steps: at an acceleration each LC bank is reimbursed first from the cash
    (p.cash, before the lenders take it); then the period's net drawing, reimbursement and
    what stays owed."""
    program = c.program
    cash = p.cash
    for a in range(program.n_accounts):
        if not has_lc(program, a):
            for line in ("lc_drawn", "lc_reimbursed", "lc_owed"):
                c.put(A(a, line), ZERO)
            continue
        due = p.lc_owed[a] + p.lc_out[a]
        repay = c.put(f"a{a}.lc_accel_repay", IF(p.D, MIN(due, cash), 0))
        cash = cash - repay
        owed = c.put(f"a{a}.lc_state", IF(p.D, due - repay, p.lc_owed[a]))
        change = c.put(f"a{a}.lc_change", owed - opens[a])
        c.put(A(a, "lc_drawn"), IF(normal, IF(change > 0, change, 0), 0))
        c.put(A(a, "lc_reimbursed"), IF(normal, IF(change < 0, ZERO - change, 0), 0))
        c.put(A(a, "lc_owed"), IF(normal, owed, 0))
    if any(has_lc(program, a) for a in range(program.n_accounts)):
        p.cash = c.put("cash_after_lc", cash)
