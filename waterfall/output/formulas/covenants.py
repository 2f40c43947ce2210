"""Step 4 of a normal period (reference._covenants, _equity_cure, _tenant_event): DSCR,
an equity cure, lock-up, the default-DSCR test with its cure periods (a breach locks
up; it accelerates after `accelerate_after` more periods if the deal says so), the
tenant event, and the cause of an event of default found before the steps (costs left
unpaid: payment 1; covenant 2; tenant 3)."""
from __future__ import annotations

from ...workout import CAUSE
from ..cells import EMPTY, IF, SUM_SEQ, ZERO
from .inputs import cures_possible


def _cure(c, ds, cfads, below_pre):
    """The equity cure of the period: the cash that lifts DSCR to the default covenant,
    once the test is reached, while cures are left, in time and within the cap; never into
    a period another event accelerates (costs unpaid, the tenant, the linked obligor)."""
    S, program = c.S, c.program
    need = c.put("cure_need", IF(below_pre, S["default_dscr"] * ds - cfads, 0))
    other = c.ref("unpaid_eod")
    if program.tenant_accelerates:
        other = IF(c.I("tenant_event"), 1, other)
    if program.cross_accelerates:
        other = IF(c.I("cross_mult") > 0, other, 1)
    reached = c.put("cure_test", IF(below_pre, IF(other, 0, IF(c.P("cure") + 1 > S["cure_periods"], 1, 0)), 0))
    allowed = IF(c.P("cures_used") < S["cure_max"], IF(c.I("period") <= S["cure_until"], IF(need > 0, 1, 0), 0), 0)
    if "cure_max_amount" in S:
        allowed = IF(need > S["cure_max_amount"], 0, allowed)
    granted = c.put("cure_ok", IF(reached, allowed, 0))
    c.put("cures_dscr", c.P("cures_used") + granted)   # cures_used adds a refinancing cure (refinancing.py)
    return c.put("dscr_cure", IF(granted, need, 0))


def _dscr(c, ds, cfads, normal):
    """(DSCR after any equity cure, below the default DSCR after it, the cure)."""
    program = c.program
    if program.default_dscr < 0:
        c.put("dscr_cure", ZERO)
        return c.put("L:dscr", IF(ds > 0, cfads / ds, IF(normal, EMPTY, 0))), ZERO, ZERO
    c.put("cov_default", c.S["default_dscr"])
    pre = c.put("dscr_pre", IF(ds > 0, cfads / ds, EMPTY))
    below_pre = c.put("below_pre", IF(ds > 0, IF(pre < c.S["default_dscr"], 1, 0), 0))
    if not cures_possible(program):
        c.put("dscr_cure", ZERO)
        return c.put("L:dscr", IF(ds > 0, pre, IF(normal, EMPTY, 0))), below_pre, ZERO
    cure = _cure(c, ds, cfads, below_pre)
    dscr = c.put("L:dscr", IF(ds > 0, IF(cure > 0, (cfads + cure) / ds, pre), IF(normal, EMPTY, 0)))
    return dscr, IF(below_pre, IF(cure > 0, 0, 1), 0), cure


def _breach(c, below, normal):
    """(periods below the default DSCR, breach flag): the count carries through a workout."""
    if c.program.default_dscr < 0:
        return None, c.put("L:covenant_breach", ZERO)
    count = c.put("cure", IF(normal, IF(below, c.P("cure") + 1, 0), c.P("cure")))
    return count, c.put("L:covenant_breach", IF(normal, IF(count > c.S["cure_periods"], 1, 0), 0))


def covenants(c, acc, normal, cfads, unpaid, lenders):
    """Step 4: returns (lock-up flag, cause of an event of default before the steps);
    `unpaid` flags costs left unpaid (a payment default, whatever the covenants say);
    no cause where `lenders` is 0 (nothing owed, or accelerated before)."""
    program, S = c.program, c.S
    ds = SUM_SEQ(acc.int_due[k] + acc.scheduled[k] for k in range(program.n_tranches) if program.dscr_mask[k])
    hedged = [d for h, d in enumerate(acc.hedge_due) if program.dscr_mask[int(program.hedge_tranche[h])]]
    if hedged:   # net hedged debt service
        ds = ds + SUM_SEQ(hedged)
    ds = c.put("L:debt_service", ds)
    dscr, below, _cure_paid = _dscr(c, ds, cfads, normal)
    c.put("dscr_tested", ZERO)   # written once every period is (period.finish)
    count, breach = _breach(c, below, normal)
    if program.lock_up_dscr >= 0:
        c.put("cov_lock_up", S["lock_up_dscr"])
        ratio_test = IF(ds > 0, IF(dscr < S["lock_up_dscr"], 1, 0), 0)
    else:
        ratio_test = ZERO
    locked = c.put("L:lock_up", IF(c.I("last"), 0, IF(breach, 1, ratio_test)))
    cause = ZERO
    if program.tenant_accelerates:
        cause = IF(c.I("tenant_event"), CAUSE["tenant"], 0)
    if program.default_dscr >= 0 and program.breach_accelerates:
        accelerate = c.put("cov_accel", IF(breach, IF(count > S["cure_periods"] + S["accelerate_after"], 1, 0), 0))
        cause = IF(accelerate, CAUSE["covenant"], cause)
    if program.cross_accelerates:   # the linked obligor has defaulted (scenario input)
        cause = IF(cause > 0, cause, IF(c.I("cross_mult") > 0, 0, CAUSE["cross_default"]))
    return locked, c.put("cause0", IF(lenders, IF(unpaid, CAUSE["payment"], cause), 0))
