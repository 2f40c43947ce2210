"""One period of the Cash flows sheet, in the reference's order (reference.py): the
deal's state (state.py), revenue, accrual and refinancing, sources with sponsor
support, the covenant tests (covenants.py), the priority of payments (each step kind's
own rule, through protocol.CellPeriod), then acceleration, the workout and the
recoveries (enforce.py). A normal period's lines and a workout period's lines share
the ledger rows: each working row is gated by the state flags, so the rows of the
branch not taken are zero."""
from __future__ import annotations

from ... import steps
from ...program import Program
from ...ops import DUST
from ..cells import EMPTY, IF, MAX, MIN, ONE, SUM_SEQ, ZERO
from .covenants import covenants
from .enforce import close_period, enforce
from .grid import A, Grid, T, exit_share, put_discount
from .hedges import owed_in_cash, settlements
from .letters_of_credit import lc_liquidity, lc_settle
from .protocol import CellPeriod, projected_service
from .refinancing import (SHAPE_KEYS, has_ext, has_refi, level, maturity_cure, refi_terms, refi_tranches,
                          refinance, sculpt)
from .state import open_state
from .taxes import tax_period
from .xmath import ROUND_TO


class Sheets:
    """Period t's view of both sheets: I(key) an Inputs cell, P(key) this sheet's cell a
    period earlier (`init` before the first), put(key, x) writes this period's cell."""

    def __init__(self, program: Program, cf: Grid, inputs: Grid, S: dict, t: int):
        self.program, self.cf, self.inputs, self.S, self.t = program, cf, inputs, S, t

    def I(self, key):  # noqa: E743 - the Inputs sheet, as in the formulas' text
        return self.inputs.ref(key, self.t, qualified=True)

    def P(self, key, init=ZERO):
        return self.cf.ref(key, self.t - 1) if self.t > 0 else init

    def put(self, key, x):
        return self.cf.put(key, self.t, x)

    def ref(self, key):
        return self.cf.ref(key, self.t)


class Accrued:
    """Per tranche after accrual: balance due, cash interest due, principal due, scheduled
    principal (no balloon), capitalised lines, balloon flags, terms after refinancing, the
    period rate, and the workout's default interest."""

    def __init__(self):
        self.bal, self.int_due, self.prin_due, self.scheduled = [], [], [], []
        self.cap_lines, self.draws, self.per_rate, self.opening = [], [], [], []
        self.balloon, self.after = {}, {}
        self.refi_short = []   # refinancing shortfalls due this period (refinancing.refinance)
        self.ext = {}          # k: tranche k's maturity decision, settled after the cure (refinancing.maturity_cure)
        self.hedge_due = []


def _accrue_one(c: Sheets, acc: Accrued, st, k: int) -> None:
    program, (workout, _ended, normal, cancelled) = c.program, st
    opening = c.put(T(k, "balance_open"), c.P(T(k, "balance_close")))
    refis = refi_tranches(program)
    if k in refis:
        terms = refi_terms(program, c.cf, c.inputs, c.S, k, c.t, c.put)
        annual, per_rate, sched = terms["annual"], terms["per_rate"], terms["sched"]
    else:
        annual, per_rate, sched = c.I(f"t{k}.annual"), c.I(f"t{k}.per_rate"), c.I(f"t{k}.sched")
    c.put(T(k, "rate"), IF(normal, annual, 0))
    # in a workout the claim (balance + interest arrears) accrues at the rate + the default margin
    default_rate = per_rate + c.S["default_margin"] * c.I(f"t{k}.accrual")
    workout_interest = c.put(f"t{k}.wk_interest", IF(workout, (opening + c.P(T(k, "interest_arrears")))
                                                     * default_rate, 0))
    accrued = opening * per_rate
    if program.round_to[k] > 0:   # a servicer's cents (level_payment.money)
        accrued = ROUND_TO(accrued, c.S[f"t{k}.round_to"])
    interest = IF(workout, workout_interest, accrued)
    interest = c.put(f"t{k}.int_calc" if has_ext(program, k) else T(k, "interest_due"), interest)
    cap = c.I(f"t{k}.cap")
    acc.cap_lines.append([IF(normal, IF(cap, interest, 0), 0)])
    acc.int_due.append(IF(normal, IF(cap, 0, interest), 0))
    scheduled_draw = IF(cancelled, 0, c.I(f"t{k}.draw"))   # accelerated before: the commitments are cancelled
    acc.draws.append(IF(normal, scheduled_draw, 0))
    b = c.put(f"t{k}.bal_due", IF(normal, (opening + IF(cap, interest, 0)) + scheduled_draw, 0))
    acc.bal.append(b)
    acc.per_rate.append(per_rate)
    acc.opening.append(opening)
    acc.scheduled.append(MIN(sched, b))
    if k in refis:
        # the SPV's other debt as reference._accrue sees it: tranches before k after this
        # period's accrual and draws, those after k at their opening balance
        other = SUM_SEQ(c.ref(f"t{j}.bal_due") if j < k else c.P(T(j, "balance_close"))
                        for j in range(program.n_tranches) if j != k)
        acc.balloon[k], acc.after[k], short, fee, dec = refinance(program, c.cf, c.inputs, c.S, k, c.t, b, terms,
                                                                  c.put, acc.scheduled[k], other,
                                                                  lambda: _others_service(c, acc, k))
        if has_ext(program, k):   # an extension fee is paid with the interest (and counts as it)
            fee = ZERO if fee is None else fee
            # as exercised, until maturity_cure settles whether its conditions are met
            acc.ext[k] = {"dec": dec, "int_due": acc.int_due[-1], "interest": interest, "fee": fee, "b": b,
                          "short_at": len(acc.refi_short) if short is not None else None}
            acc.int_due[-1] = acc.int_due[-1] + fee
        if short is not None:   # what the new loan leaves of the balloon is due with the schedule
            acc.refi_short.append(short)
            due = IF(acc.balloon[k], acc.scheduled[k] + short, acc.scheduled[k])
        else:
            due = IF(acc.balloon[k], b, acc.scheduled[k])
    else:
        acc.balloon[k] = c.I(f"t{k}.maturity")
        c.put(T(k, "refinanced"), ZERO)
        due = IF(acc.balloon[k], b, acc.scheduled[k])
    acc.prin_due.append(due if k in acc.ext else c.put(T(k, "principal_due"), due))


def _others_service(c: Sheets, acc: Accrued, k: int):
    """refinancing.other_service: the other tranches' debt service of the next period on
    their terms as they stand (those before k after this period's maturity decisions,
    those after k as the last period left them), on their balances as they stand."""
    program, t = c.program, c.t
    refis = refi_tranches(program)
    parts = []
    for j in range(program.n_tranches):
        if j == k:
            continue
        b = c.ref(f"t{j}.bal_due") if j < k else c.P(T(j, "balance_close"))
        after = {}
        if j in refis:
            if j < k:
                after = {j: acc.after[j]}
            else:
                keys = {"on": ZERO, "mat": c.S[f"t{j}.maturity_period"], "amort": ZERO}
                if has_refi(program, j):
                    keys["radd"] = ZERO
                if level(program, j):
                    keys["r1"], keys["t0"] = ZERO, ZERO
                if sculpt(program, j):
                    keys.update({key: ZERO for key in SHAPE_KEYS})
                if has_ext(program, j):
                    keys["ext_add"] = ZERO
                after = {j: {key: (c.P(f"t{j}.{key}_after", init) if (key != "on" and key != "amort")
                                   or has_refi(program, j) else ZERO) for key, init in keys.items()}}
        service = projected_service(c, j, t + 1, b, after)
        if service is not None:
            parts.append(service[0])
    return SUM_SEQ(parts)


def _accrue(c: Sheets, st) -> Accrued:
    """Step 2: interest, draws, refinancing, what is due (normal periods); the default
    interest (workout periods)."""
    program = c.program
    acc = Accrued()
    for k in range(program.n_tranches):
        _accrue_one(c, acc, st, k)
    acc.hedge_due = settlements(c, acc, st)
    covered = [k for k in range(program.n_tranches) if program.dscr_mask[k]]
    if covered and covered[0] in refi_tranches(program):
        put_discount(c.cf, c.cf.ref(f"t{covered[0]}.per_rate", c.t), program.cod_period, c.t)
    return acc


def _support(c: Sheets, shortfall, lenders):
    """reference._sources/_support: what the sponsors pay towards the shortfall; all of it
    where no lender can fund it (none owed, or accelerated before) or it is rounding dust."""
    kind = int(c.program.support_kind)
    if kind == 2:
        return c.put("L:sponsor_support", shortfall)
    whole = c.put("sponsors_all", IF(lenders, IF(shortfall > DUST, 0, 1), 1))
    if kind == 1:
        left = c.put("support_left", MAX(0, c.S["support_cap"] - c.P("support_used")))
        support = c.put("L:sponsor_support", IF(whole, shortfall, MIN(shortfall, left)))
        c.put("support_used", c.P("support_used") + IF(whole, 0, support))
        return support
    return c.put("L:sponsor_support", IF(whole, shortfall, 0))


def _sources(c: Sheets, acc: Accrued, st, cfads, equity_in, capex):
    """Step 3: reserves released into cash, the exit sale; sponsors meet a shortfall as
    their support terms say, and what they do not is left unpaid. In a workout: CFADS less
    the workout costs. Returns (cash available, exit proceeds, costs left unpaid, flag)."""
    program, t, (workout, _ended, normal, cancelled) = c.program, c.t, st
    draws = c.put("draws_sched", SUM_SEQ(acc.draws))
    openings = [c.put(A(a, "balance_open"), c.P(A(a, "balance_close"))) for a in range(program.n_accounts)]
    release = c.put("L:reserve_release", SUM_SEQ(openings))
    earned = c.put("L:reserve_interest", SUM_SEQ([openings[a] * c.I(f"a{a}.rate") for a in range(program.n_accounts)]))
    release = release + earned
    cash_in = c.put("cash_in", IF(normal, (cfads + draws) + equity_in, 0))
    if exit_share(program) > 0 and t == program.n_periods:   # the assets are sold at the horizon's end
        exit_proceeds = c.put("L:exit_proceeds", IF(normal, c.S["exit_share"] * c.I("drc"), 0))
        cash0 = ((cash_in - capex) + release) + exit_proceeds
    else:
        exit_proceeds = c.put("L:exit_proceeds", ZERO)
        cash0 = (cash_in - capex) + release
    if program.n_hedges:   # what the hedge banks pay is a source of the period
        cash0 = cash0 + c.ref("hedge_receipts")
    cash0 = c.put("cash0", cash0)
    # the lenders can accelerate only once, and only while something is owed to them
    owed = SUM_SEQ(acc.bal) + SUM_SEQ(acc.int_due)
    if program.n_hedges:
        owed = owed + owed_in_cash(acc.hedge_due)
    lenders = c.put("lenders", IF(normal, IF(cancelled, 0, IF(owed > DUST, 1, 0)), 0))
    shortfall = c.put("shortfall", IF(cash0 < 0, ZERO - cash0, 0))
    if int(program.support_kind) == 2:
        c.put("sponsors_all", ONE)
    unpaid = c.put("unpaid", shortfall - _support(c, shortfall, lenders))
    unpaid_flag = c.put("unpaid_eod", IF(unpaid > 0, 1, 0))
    c.put("L:workout_costs", IF(workout, c.S["workout_cost"], 0))
    net = c.put("wk_net", IF(workout, cfads - c.S["workout_cost"], 0))
    cash = c.put("L:cash_available", IF(workout, MAX(0, net), IF(cash0 < 0, 0, cash0)))
    return cash, exit_proceeds, unpaid, unpaid_flag


def cash_flow_period(program: Program, cf: Grid, inputs: Grid, S: dict, t: int) -> None:
    """Every Cash flows cell of period t."""
    c = Sheets(program, cf, inputs, S, t)
    st = workout, ended, normal, _cancelled = open_state(c)
    revenue = c.put("L:revenue", IF(ended, 0, c.I("rent") * c.I("rent_mult")))
    opex = c.put("L:opex", IF(ended, 0, c.I("opex") * c.I("opex_mult")))
    cfads = c.put("L:cfads", revenue - opex)
    capex = c.put("L:capex", IF(normal, c.I("capex"), 0))
    equity_in = c.put("L:equity_in", IF(normal, c.I("equity_in"), 0))
    acc = _accrue(c, st)
    cash, exit_proceeds, unpaid, unpaid_flag = _sources(c, acc, st, cfads, equity_in, capex)
    locked, cause = covenants(c, acc, normal, cfads, unpaid_flag, c.ref("lenders"))
    cash = c.put("cash_steps", IF(normal, maturity_cure(c, acc, cash + c.ref("dscr_cure"), cause), 0))
    cash, lc_open, lc_out = lc_liquidity(c, cash, normal)
    p = CellPeriod(c, normal, cash, cause, locked, acc)
    p.lc_owed, p.lc_out = list(lc_open), list(lc_out)
    for i, kind in enumerate(steps.kinds_of(program.step_op)):
        kind.cash(p, i, int(program.step_arg[i]))
    lc_settle(c, p, normal, lc_open)
    surplus, lender_terms = enforce(c, p, st, acc, exit_proceeds, unpaid)
    close_period(c, p, surplus, lender_terms, equity_in)
    tax_period(c)


def finish(program: Program, cf: Grid, inputs: Grid) -> None:
    """Rows that read the whole run: the DSCRs the metrics summarise, up to the last
    acceleration (reference.summarise), and the LLCR path (metrics.llcr_path)."""
    accel = cf.abs_ref("accel_at", program.n_periods)
    for t in range(program.n_periods + 1):
        ds = cf.ref("L:debt_service", t)
        counted = IF(accel < 0, 1, IF(inputs.ref("period", t, qualified=True) > accel, 0, 1))
        cf.put("dscr_tested", t, IF(ds > DUST, IF(counted, cf.ref("L:dscr", t), EMPTY), EMPTY))
    llcr_rows(program, cf, inputs, accel)


def _discount(cf: Grid, inputs: Grid, t: int):
    """The discount factor from COD through period t at the senior's rate (put_discount)."""
    return inputs.ref("discount", t, qualified=True) if "discount" in inputs.index else cf.ref("discount", t)


def llcr_rows(program: Program, cf: Grid, inputs: Grid, accel) -> None:
    """metrics.llcr_path: npv_cum(t) = NPV from COD through t of the CFADS within the loan
    life; LLCR(t) = ((npv_cum(last) - npv_cum(t-1)) / D(t-1) [+ DSRA]) / debt(t), up to the
    acceleration, where the covenant tranches' opening balance is positive."""
    n, p0 = program.n_periods, program.cod_period
    covered = [k for k in range(program.n_tranches) if program.dscr_mask[k]]
    if not covered or p0 > n:
        for t in range(n + 1):
            cf.put("L:llcr", t, EMPTY)
        return
    dsra = [a for a in range(program.n_accounts) if int(program.acct_kind[a]) == 0]
    for t in range(n + 1):
        if t < p0:
            cf.put("npv_cum", t, ZERO)
            continue
        term = IF(inputs.ref("loan_life", t, qualified=True),
                  inputs.ref("proj_cfads", t, qualified=True) * _discount(cf, inputs, t), 0)
        cf.put("npv_cum", t, term if t == p0 else cf.ref("npv_cum", t - 1) + term)
    npv_end = cf.abs_ref("npv_cum", n)
    for t in range(n + 1):
        if t < p0:
            cf.put("L:llcr", t, EMPTY)
            continue
        before = (npv_end - ZERO) / ONE if t == p0 else (npv_end - cf.ref("npv_cum", t - 1)) / _discount(cf, inputs, t - 1)
        if program.llcr_dsra and dsra:
            before = before + SUM_SEQ(cf.ref(A(a, "balance_open"), t) for a in dsra)
        debt = SUM_SEQ(cf.ref(T(k, "balance_open"), t) for k in covered)
        if t > program.llcr_dates_end:   # after the legal maturity: no calculation date
            cf.put("L:llcr", t, EMPTY)
            continue
        counted = IF(accel < 0, 1, IF(inputs.ref("period", t, qualified=True) > accel, 0, 1))
        live = IF(inputs.ref("loan_life", t, qualified=True), counted, 0)
        cf.put("L:llcr", t, IF(live, IF(debt > DUST, before / debt, EMPTY), EMPTY))
