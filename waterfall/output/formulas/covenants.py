"""Step 4 of a normal period (reference._covenants, _dscr_tests, _hedge_ratio_test,
_equity_cure, _tenant_event): DSCR on each test's basis (point, trailing or forward 12
months: dscr_windows.py), an equity cure, lock-up, the hedge-ratio covenant, the default-DSCR test with its cure periods (a breach locks
up; it accelerates after `accelerate_after` more periods if the deal says so), the
tenant event, and the cause of an event of default found before the steps (costs left
unpaid: payment 1; covenant 2; tenant 3)."""
from __future__ import annotations

from ... import dscr_windows
from ...hedges import HEDGE_RATIO_TOLERANCE
from ...ops import DUST
from ...workout import CAUSE
from ..cells import EMPTY, IF, SUM_SEQ, ZERO
from .inputs import cures_possible
from .hedges import H
from .protocol import projected_service, hedge_legs
from .refinancing import sculpt, shape_pay, shape_roll


def _cure(c, cfads, ds, below_pre):
    """The equity cure of the period: the cash that lifts the default test's DSCR (its
    numerator `cfads`, denominator `ds`: the sums of its window) to the covenant,
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


def _point(ds, cfads):
    """The point DSCR's test: (numerator, denominator, tested flag); before any cure."""
    return cfads, ds, IF(ds > DUST, 1, 0)


def _trailing(c, ds, cfads):
    """dscr_windows.trailing_sums: the CFADS (with earlier cures) and debt service of the
    last `dscr_window` periods, from the first period with debt service on."""
    program, t, cf = c.program, c.t, c.cf
    started = c.put("ds_started", IF(c.P("ds_started"), 1, IF(ds > DUST, 1, 0)))
    lo = max(0, t - int(program.dscr_window) + 1)
    num = [IF(cf.ref("ds_started", u), cf.ref("cov_cfads", u), 0) for u in range(lo, t)] + [IF(started, cfads, 0)]
    den = [IF(cf.ref("ds_started", u), cf.ref("L:debt_service", u), 0) for u in range(lo, t)] + [IF(started, ds, 0)]
    num, den = c.put("hist_cfads", SUM_SEQ(num)), c.put("hist_ds", SUM_SEQ(den))
    return num, den, IF(ds > DUST, IF(den > DUST, 1, 0), 0)


def _forward(c, acc, ds):
    """dscr_windows.forward_sums: the projected CFADS and scheduled debt service of periods
    t+1 .. t + `dscr_window` (at most the horizon), from each covenant tranche's balance
    after this period's scheduled principal, plus the covenant tranches' hedges."""
    program, t, n = c.program, c.t, c.program.n_periods
    window = int(program.dscr_window)
    last = min(t + window, n)
    U = lambda key, u: c.inputs.ref(key, u, qualified=True)  # noqa: E731
    cfads = c.put("fwd_cfads", SUM_SEQ(U("proj_cfads", u) for u in range(t + 1, last + 1)))
    terms = []
    for k in range(program.n_tranches):
        if not program.dscr_mask[k]:
            continue
        for j in range(1, window):
            c.put(f"fwd{k}.{j}", ZERO)   # overwritten below where the projection runs
            if sculpt(program, k):
                c.put(f"fwd{k}.{j}.sb", ZERO)
        b, after = acc.bal[k] - acc.scheduled[k], acc.after
        for j, u in enumerate(range(t + 1, last + 1), start=1):
            due = projected_service(c, k, u, b, after)
            if due is None:
                break
            terms.append(due[0])
            if j < window:
                b = c.put(f"fwd{k}.{j}", b - due[1])
                if sculpt(program, k) and k in after:
                    after = {**after, k: shape_roll(c.put, f"fwd{k}.{j}.sb", after[k],
                                                    shape_pay(c.inputs, c.S, k, u, after[k]))}
    legs = hedge_legs(c, program.dscr_mask, t, last)
    total = SUM_SEQ(terms) + SUM_SEQ(legs) if legs is not None else SUM_SEQ(terms)
    den = c.put("fwd_ds", total)
    return cfads, den, IF(ds > DUST, IF(den > DUST, 1, 0), 0)


def _tests(c, acc, ds, cfads):
    """{basis: (numerator, denominator, tested flag)} of the DSCRs a covenant tests
    (reference._dscr_tests)."""
    used = dscr_windows.bases_used(c.program)
    out = {dscr_windows.POINT: _point(ds, cfads)}
    if dscr_windows.TRAILING in used:
        out[dscr_windows.TRAILING] = _trailing(c, ds, cfads)
    if dscr_windows.FORWARD in used:
        out[dscr_windows.FORWARD] = _forward(c, acc, ds)
    return out


def _dscr(c, ds, cfads, normal, tests):
    """(point DSCR after any equity cure, below the default DSCR after it, the cure): the
    default test and the cure read the default basis's DSCR."""
    program = c.program
    if program.default_dscr < 0:
        c.put("dscr_cure", ZERO)
        return c.put("L:dscr", IF(ds > DUST, cfads / ds, IF(normal, EMPTY, 0))), ZERO, ZERO
    c.put("cov_default", c.S["default_dscr"])
    num, den, ok = tests[int(program.default_basis)]
    pre = c.put("dscr_pre", IF(ok, num / den, EMPTY))
    below_pre = c.put("below_pre", IF(ok, IF(pre < c.S["default_dscr"], 1, 0), 0))
    point_pre = pre if int(program.default_basis) == dscr_windows.POINT else cfads / ds
    if not cures_possible(program):
        c.put("dscr_cure", ZERO)
        return c.put("L:dscr", IF(ds > DUST, point_pre, IF(normal, EMPTY, 0))), below_pre, ZERO
    cure = _cure(c, num, den, below_pre)
    dscr = c.put("L:dscr", IF(ds > DUST, IF(cure > 0, (cfads + cure) / ds, point_pre), IF(normal, EMPTY, 0)))
    return dscr, IF(below_pre, IF(cure > 0, 0, 1), 0), cure


def _window_lines(c, tests, cure, cfads, normal):
    """The ledger's historic and projected DSCR lines (after any cure), where tested; and
    each period's CFADS plus its cure for later trailing windows."""
    if dscr_windows.TRAILING in tests:
        c.put("cov_cfads", IF(normal, cfads + cure, 0))
    for basis, line in ((dscr_windows.TRAILING, "L:dscr_historic"), (dscr_windows.FORWARD, "L:dscr_projected")):
        if basis in tests:
            num, den, ok = tests[basis]
            c.put(line, IF(ok, IF(cure > 0, (num + cure) / den, num / den), IF(normal, EMPTY, 0)))
        else:
            c.put(line, IF(normal, EMPTY, 0))


def _hedge_ratio(c, acc, normal):
    """hedges.hedge_ratio: the live hedges' notional on the floating covenant tranches over
    their opening balance, in the covenant's periods; the ledger's ratio and breach lines.
    Returns the breach flag."""
    program, t = c.program, c.t
    if program.hedge_ratio_min < 0:
        c.put("L:hedge_ratio", IF(normal, EMPTY, 0))
        return c.put("L:hedge_ratio_breach", ZERO)
    floating = [k for k in range(program.n_tranches) if program.dscr_mask[k] and program.is_floating[k]]
    debt = c.put("hr_debt", SUM_SEQ(acc.opening[k] for k in floating))
    if not program.hedge_ratio_from <= t <= program.hedge_ratio_to:
        c.put("L:hedge_ratio", IF(normal, EMPTY, 0))
        return c.put("L:hedge_ratio_breach", ZERO)
    hedged = [c.ref(H(h, "notional")) for h in range(program.n_hedges) if int(program.hedge_tranche[h]) in floating]
    tested = IF(normal, IF(debt > DUST, 1, 0), 0)
    ratio = c.put("L:hedge_ratio", IF(tested, SUM_SEQ(hedged) / debt, IF(normal, EMPTY, 0)))
    floor = c.S["hedge_ratio_min"] - HEDGE_RATIO_TOLERANCE
    return c.put("L:hedge_ratio_breach", IF(tested, IF(ratio < floor, 1, 0), 0))


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
    tests = _tests(c, acc, ds, cfads)
    dscr, below, cure = _dscr(c, ds, cfads, normal, tests)
    _window_lines(c, tests, cure, cfads, normal)
    c.put("dscr_tested", ZERO)   # written once every period is (period.finish)
    count, breach = _breach(c, below, normal)
    if program.lock_up_dscr >= 0:
        c.put("cov_lock_up", S["lock_up_dscr"])
        if int(program.lock_up_basis) == dscr_windows.POINT:
            ratio_test = IF(ds > DUST, IF(dscr < S["lock_up_dscr"], 1, 0), 0)
        else:
            line = "L:dscr_historic" if int(program.lock_up_basis) == dscr_windows.TRAILING else "L:dscr_projected"
            ratio_test = IF(tests[int(program.lock_up_basis)][2], IF(c.ref(line) < S["lock_up_dscr"], 1, 0), 0)
    else:
        ratio_test = ZERO
    hedge_breach = _hedge_ratio(c, acc, normal)
    if program.hedge_ratio_min >= 0 and not program.hedge_ratio_accelerates:
        ratio_test = IF(hedge_breach, 1, ratio_test)
    locked = c.put("L:lock_up", IF(c.I("last"), 0, IF(breach, 1, ratio_test)))
    cause = ZERO
    if program.tenant_accelerates:
        cause = IF(c.I("tenant_event"), CAUSE["tenant"], 0)
    if program.default_dscr >= 0 and program.breach_accelerates:
        accelerate = c.put("cov_accel", IF(breach, IF(count > S["cure_periods"] + S["accelerate_after"], 1, 0), 0))
        cause = IF(accelerate, CAUSE["covenant"], cause)
    if program.hedge_ratio_min >= 0 and program.hedge_ratio_accelerates:   # after a DSCR acceleration, before the tenant
        cause = IF(hedge_breach, CAUSE["covenant"], cause)
    if program.cross_accelerates:   # the linked obligor has defaulted (scenario input)
        cause = IF(cause > 0, cause, IF(c.I("cross_mult") > 0, 0, CAUSE["cross_default"]))
    return locked, c.put("cause0", IF(lenders, IF(unpaid, CAUSE["payment"], cause), 0))
