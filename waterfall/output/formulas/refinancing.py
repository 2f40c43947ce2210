"""Refinancing at maturity (waterfall/refinancing.py) as a block of IF()s per tranche that
has one: at its maturity t (< the last period), with a balloon above dust, the market open
(Inputs: the scenario's market-open factor > 0 at t) and a new loan > 0 (sized by LTV,
debt yield and DSCR on the Inputs rows of the periods after t), the loan goes on from t+1
at max(base + shock, refinancing floor) + refinancing spread, amortising loan / periods
straight-line, maturing at min(t + periods, T); what the loan leaves of the balloon is
due at t. The terms in force (on refinanced terms, maturity, amortisation)
are carried period to period on the Cash flows sheet, so flipping the market-open
factor or the spread in Inputs flows through the waterfall."""
from __future__ import annotations

import numpy as np

from ...program import Program
from ...ops import DUST, LEVEL_ZERO_RATE
from ..cells import EQ, IF, MAX, MIN, ONE, SUM_SEQ, ZERO, X, ref
from .grid import IN_SHEET, Grid, T
from .xmath import POW

LEVEL_PAYMENT, SCULPTED = 1, 2   # program.refi_profile (refinancing.py)


def has_refi(program: Program, k: int) -> bool:
    """Tranche k has refinancing terms (amortisation periods)."""
    return int(getattr(program, "refi_periods", np.zeros(program.n_tranches, dtype=np.int64))[k]) > 0


def has_ext(program: Program, k: int) -> bool:
    """Tranche k has extension options."""
    return int(getattr(program, "ext_options", np.zeros(program.n_tranches, dtype=np.int64))[k]) > 0


def refi_tranches(program: Program) -> list:
    """Tranches with terms at maturity: a refinancing (with amortisation periods) or
    extension options; their terms are carried period to period."""
    return [k for k in range(program.n_tranches) if has_refi(program, k) or has_ext(program, k)]


def level(program: Program, k: int) -> bool:
    """Tranche k's new loan amortises as a level payment (annuity)."""
    return has_refi(program, k) and int(program.refi_profile[k]) == LEVEL_PAYMENT


def sculpt(program: Program, k: int) -> bool:
    """Tranche k's new loan is sculpted to its min DSCR on the rent in place at signing."""
    return has_refi(program, k) and int(program.refi_profile[k]) == SCULPTED


SHAPE_KEYS = ("sb", "rm", "ods")   # a sculpted loan's carried shape: balance, rent in place, others' service


def shape_service(inputs: Grid, S: dict, k: int, u: int, rm: X, ods: X) -> X:
    """refinancing.sculpted's D_i at period u: max(in-place CFADS(u) / min DSCR - the others'
    debt service, 0), the rent in place being u's scheduled rent x the signing date's
    rent multiplier `rm` less u's base-case opex, `ods` the others' service held flat."""
    F = lambda key: inputs.ref(key, u, qualified=True)  # noqa: E731
    return MAX((F("rent") * rm - F("opex")) / S[f"t{k}.refi_min_dscr"] - ods, 0)


def shape_pay(inputs: Grid, S: dict, k: int, u: int, state: dict) -> X:
    """refinancing.sculpted's P_i at period u on the unit shape's balance `state["sb"]`
    before u: max(min(D_i - r_i x balance, balance), 0), r_i the new loan's rate for u."""
    sb = state["sb"]
    return MAX(MIN(shape_service(inputs, S, k, u, state["rm"], state["ods"])
                   - new_per_rate(inputs, k, u, state["radd"]) * sb, sb), 0)


def shape_roll(put, key: str, state: dict, pay: X) -> dict:
    """The carried shape after a period whose shape principal is `pay` (the balance less
    it, in a cell `key`); the other terms unchanged."""
    return {**state, "sb": put(key, state["sb"] - pay)}


def new_annual(inputs: Grid, k: int, u: int, add: X) -> X:
    """refinancing.new_rates at u: max(0, the rate before the add-on + the add-on locked at signing)."""
    return MAX(inputs.ref(f"t{k}.refi_annual", u, qualified=True) + add, 0)


def new_per_rate(inputs: Grid, k: int, u: int, add: X) -> X:
    """The new loan's rate for period u (annual x the period's accrual)."""
    return new_annual(inputs, k, u, add) * inputs.ref(f"t{k}.accrual", u, qualified=True)


def level_principal(S: dict, k: int, loan: X, r1: X, i: X) -> X:
    """refinancing.level_unit(...)[1] x loan: the level-payment principal in the new loan's
    period i at its first period's rate r1 (straight-line at r1 = 0)."""
    big_n = S[f"t{k}.refi_periods"]
    return IF(r1 > LEVEL_ZERO_RATE, loan * (r1 * POW(1 + r1, i - 1) / (POW(1 + r1, big_n) - 1)), loan * (1 / big_n))


def new_sched(program: Program, inputs: Grid, S: dict, k: int, u: int, state: dict) -> X:
    """Scheduled principal at period u on the refinanced terms `state` (on, mat, amort and,
    for a level payment, r1 and t0; for a sculpted loan the shape, SHAPE_KEYS): straight-line
    amort, level-payment principal on the loan held in amort, sculpted amort (loan / L) x
    the shape's principal (`state["sc_pay"]` where this period's is in a cell); none past
    the new maturity; the original schedule when not on."""
    period = inputs.ref("period", u, qualified=True)
    if level(program, k):
        pay = level_principal(S, k, state["amort"], state["r1"], period - state["t0"])
    elif sculpt(program, k):
        pay = state["amort"] * (state["sc_pay"] if "sc_pay" in state else shape_pay(inputs, S, k, u, state))
    else:
        pay = state["amort"]
    return IF(state["on"], IF(period <= state["mat"], pay, 0), inputs.ref(f"t{k}.sched", u, qualified=True))


def refi_terms(program: Program, cf: Grid, inputs: Grid, S: dict, k: int, t: int, put) -> dict:
    """Tranche k's terms in period t, as left by any refinancing or extension before t:
    the original rate and schedule, or the refinancing rate and straight-line
    amortisation; plus the margin the extensions exercised since added (annual)."""
    I = lambda key: inputs.ref(key, t, qualified=True)  # noqa: E731
    refi, ext = has_refi(program, k), has_ext(program, k)
    P = lambda key, init: put(key, init if t == 0 else cf.ref(key + "_after", t - 1))  # noqa: E731
    on = P(f"t{k}.on", ZERO) if refi else ZERO
    mat = P(f"t{k}.mat", S[f"t{k}.maturity_period"])
    amort = P(f"t{k}.amort", ZERO) if refi else ZERO
    out = {"on": on, "mat": mat, "amort": amort}
    annual, per_rate = I(f"t{k}.annual"), I(f"t{k}.per_rate")
    if refi:
        out["radd"] = P(f"t{k}.radd", ZERO)
        if level(program, k):
            out["r1"], out["t0"] = P(f"t{k}.r1", ZERO), P(f"t{k}.t0", ZERO)
        if sculpt(program, k):
            for key in SHAPE_KEYS:
                out[key] = P(f"t{k}.{key}", ZERO)
            out["sc_pay"] = put(f"t{k}.sc_pay", shape_pay(inputs, S, k, t, out))
        annual = IF(on, new_annual(inputs, k, t, out["radd"]), annual)
        per_rate = IF(on, new_per_rate(inputs, k, t, out["radd"]), per_rate)
    if ext:
        out["ext_left"] = P(f"t{k}.ext_left", S[f"t{k}.ext_options"])
        out["ext_add"] = P(f"t{k}.ext_add", ZERO)
        annual, per_rate = annual + out["ext_add"], per_rate + out["ext_add"] * I(f"t{k}.accrual")
    out["annual"] = put(f"t{k}.annual", annual)
    out["per_rate"] = put(f"t{k}.per_rate", per_rate)
    # refinancing.apply: amortisation up to t0 + periods, i.e. up to the new maturity
    out["sched"] = put(f"t{k}.sched", new_sched(program, inputs, S, k, t, out) if refi else I(f"t{k}.sched"))
    out["at_mat"] = put(f"t{k}.at_mat", IF(EQ(I("period"), mat), 1, 0))
    return out


def ext_keys(program: Program, k: int) -> list:
    """The rows of tranche k's extension test (layout order)."""
    if not has_ext(program, k):
        return []
    keys = [f"t{k}.ext_dscr_ok", f"t{k}.ext_dscr_pay"] if program.ext_min_dscr[k] > 0 else []
    keys += [f"t{k}.ext_ltv_pay"] if program.ext_max_ltv[k] > 0 else []
    keys += [f"t{k}.ext_dy_pay"] if program.ext_min_dy[k] > 0 else []
    return keys + [f"t{k}.ext_pay", f"t{k}.ext", f"t{k}.ext_fee"]


def in_place(inputs: Grid, t: int, u: int) -> X:
    """refinancing.in_place: period u's CFADS on the rent in place at t (scheduled rent x
    the rent multiplier of t, less the base-case opex)."""
    F = lambda key, v: inputs.ref(key, v, qualified=True)  # noqa: E731
    return F("rent", u) * F("rent_mult", t) - F("opex", u)


def _noi(program: Program, inputs: Grid, k: int, t: int, put) -> X:
    """refinancing.noi: the next 12 months' CFADS on the rent in place at t, annualised (one cell)."""
    n, ppy = program.n_periods, 12 // program.months_per_period
    w = min(ppy, n - t)
    return put(f"t{k}.noi", SUM_SEQ(in_place(inputs, t, u) for u in range(t + 1, t + w + 1)) * ppy / w)


def needs_noi(program: Program, k: int) -> bool:
    return bool(program.refi_min_dy[k] > 0 and has_refi(program, k)) or bool(
        has_ext(program, k) and program.ext_min_dy[k] > 0)


def _ext_paydown(c_prev, program: Program, inputs: Grid, S: dict, k: int, t: int, balloon: X, other: X,
                 noi, put) -> X:
    """refinancing.extension_paydown as formulas: the largest paydown the tests need (0
    below dust): the DSCR test of the period before restored by (debt service - CFADS /
    min DSCR) / the loan's cash rate of that period (refinancing.tested_rate), the LTV and
    debt-yield excesses; -1 where it cannot extend (the DSCR test fails with no cash rate
    to pay down, or the paydown would exceed the balloon)."""
    pays = [ZERO]
    ok = None
    if program.ext_min_dscr[k] > 0:
        m, cfads, ds = S[f"t{k}.ext_min_dscr"], c_prev("L:cfads"), c_prev("L:debt_service")
        cash_rate = t >= 1 and bool(program.dscr_mask[k])
        rate = (IF(inputs.ref(f"t{k}.cap", t - 1, qualified=True), 0, c_prev(f"t{k}.per_rate")) if cash_rate
                else ZERO)
        fails = cfads < m * ds
        ok = put(f"t{k}.ext_dscr_ok", IF(fails, IF(rate > 0, 1, 0), 1))
        pays.append(put(f"t{k}.ext_dscr_pay", IF(fails, IF(rate > 0, (ds - cfads / m) / rate, 0), 0)))
    if program.ext_max_ltv[k] > 0:
        value = inputs.ref(refi_value_key(program), t, qualified=True)
        pays.append(put(f"t{k}.ext_ltv_pay", balloon - (S[f"t{k}.ext_max_ltv"] * value - other)))
    if program.ext_min_dy[k] > 0:
        pays.append(put(f"t{k}.ext_dy_pay", balloon - (noi / S[f"t{k}.ext_min_dy"] - other)))
    pay = MAX(*pays)
    pay = IF(pay > balloon, -1, IF(pay > DUST, pay, 0))
    if ok is not None:
        pay = IF(ok, pay, -1)
    return put(f"t{k}.ext_pay", pay)


def refi_value_key(program: Program) -> str:
    """valuation.refi_value_key (imported here late: valuation imports this module)."""
    from .valuation import refi_value_key as key
    return key(program)


def refi_sizing_keys(program: Program, k: int) -> list:
    """The rows of tranche k's maturity block before the decision (layout order)."""
    keys = [f"t{k}.refi_balloon"] + ([f"t{k}.noi"] if needs_noi(program, k) else [])
    if has_refi(program, k):
        keys += [f"t{k}.refi_ltv_cap"] if program.refi_max_ltv[k] > 0 else []
        keys += [f"t{k}.refi_dy_cap"] if program.refi_min_dy[k] > 0 else []
        keys += [f"t{k}.refi_others", f"t{k}.refi_dscr_cap"] if program.refi_min_dscr[k] > 0 else [f"t{k}.refi_others"]
        keys += [f"t{k}.refi_size", f"t{k}.refi_loan"]
    return keys + ext_keys(program, k) + [f"t{k}.refi_short"]


def _sizing(program: Program, inputs: Grid, S: dict, k: int, t: int, balloon: X, other: X, put, noi=None,
            others: X = None) -> X:
    """refinancing.size as formulas: MIN(balloon, LTV and debt-yield limits less the other
    debt, DSCR limit), 0 below dust. The DSCR limit is MIN over the new loan's straight-line
    periods i = 1..min(N, T - t) of (CFADS(t+i) / min DSCR - the others' debt service) x N /
    (1 + (N - i + 1) x its rate for the period)."""
    n = program.n_periods
    F = lambda key, u: inputs.ref(key, u, qualified=True)  # noqa: E731
    limits = [balloon]
    if program.refi_max_ltv[k] > 0:
        limits.append(put(f"t{k}.refi_ltv_cap", S[f"t{k}.refi_max_ltv"] * F(refi_value_key(program), t) - other))
    if program.refi_min_dy[k] > 0:
        limits.append(put(f"t{k}.refi_dy_cap", noi / S[f"t{k}.refi_min_dy"] - other))
    if program.refi_min_dscr[k] > 0:
        big_n, dscr = S[f"t{k}.refi_periods"], S[f"t{k}.refi_min_dscr"]
        add = F("refi_add", t)
        rate = lambda u: new_per_rate(inputs, k, u, add)  # noqa: E731
        m = min(int(program.refi_periods[k]), n - t)
        if sculpt(program, k):   # refinancing.sculpted: L = the PV of D_i at the new rates (Horner)
            rm = F("rent_mult", t)
            most = None
            for i in range(m, 0, -1):
                service = shape_service(inputs, S, k, t + i, rm, others)
                most = (service if most is None else service + most) / (1 + rate(t + i))
            terms = [most if most is not None else ZERO]
        elif level(program, k):   # a unit loan's service: its balance before i x r_i + its principal
            r1 = rate(t + 1)
            g = 1 + r1
            terms = [(in_place(inputs, t, t + i) / dscr - others)
                     / (IF(r1 > LEVEL_ZERO_RATE, (POW(g, big_n) - POW(g, i - 1)) / (POW(g, big_n) - 1), (big_n - i + 1) / big_n)
                        * rate(t + i) + level_principal(S, k, ONE, r1, i)) for i in range(1, m + 1)]
        else:
            terms = [(in_place(inputs, t, t + i) / dscr - others) * big_n / (1 + (big_n - (i - 1)) * rate(t + i))
                     for i in range(1, m + 1)]
        limits.append(put(f"t{k}.refi_dscr_cap", MIN(*terms)))
    loan = put(f"t{k}.refi_size", MIN(*limits))
    return put(f"t{k}.refi_loan", IF(loan > DUST, loan, 0))


def refinance(program: Program, cf: Grid, inputs: Grid, S: dict, k: int, t: int, b: X, terms: dict, put,
              scheduled: X = None, other: X = None, others=None):
    """refinancing.at_maturity as formulas: at maturity t (< the last period) with a balloon
    (balance b less the scheduled principal) above dust, an extension option left whose
    paydown (-1: it fails) is no more than the refinancing leaves extends the loan (its
    maturity by the option's periods, its margin by the step-up, a fee on the balloon);
    else a new loan > 0 (_sizing; the market open) refinances it at the refinancing rate,
    amortising loan / periods, maturing at min(t + periods, T). What either leaves of the
    balloon (the shortfall) is due now with the schedule. With extension options this is
    the option as exercised before its conditions are known (the `_pre` rows, which the
    covenants and the cure read); `settle` writes what stands once they are (reference.
    _maturity_cure). Returns (maturity flag, the terms after this period, the shortfall,
    the extension fee, the decision for settle)."""
    n = program.n_periods
    I = lambda key: inputs.ref(key, t, qualified=True)  # noqa: E731
    refi_terms_, ext_terms = has_refi(program, k), has_ext(program, k)
    dec = {"at_mat": terms["at_mat"], "terms": terms, "t": t, "k": k}
    if t < n:
        balloon = put(f"t{k}.refi_balloon", MAX(0, b - scheduled))
        noi = _noi(program, inputs, k, t, put) if needs_noi(program, k) else None
        if refi_terms_:
            ods = put(f"t{k}.refi_others", others() if program.refi_min_dscr[k] > 0 else ZERO)
            loan = _sizing(program, inputs, S, k, t, balloon, other, put, noi, ods)
            offer = IF(I("refi_open") > 0, loan, 0)
        else:
            offer = ZERO
        live = IF(dec["at_mat"], IF(balloon > DUST, 1, 0), 0)
        dec.update(balloon=balloon, offer=offer, live=live, pay=None)
        if ext_terms:
            prev = lambda key: cf.ref(key, t - 1) if t > 0 else ZERO  # noqa: E731
            pay = _ext_paydown(prev, program, inputs, S, k, t, balloon, other, noi, put)
            ext = put(f"t{k}.ext", IF(live, IF(terms["ext_left"] > 0, IF(pay < 0, 0, IF(pay > balloon - offer, 0, 1)),
                                                0), 0))
            fee = put(f"t{k}.ext_fee", IF(ext, S[f"t{k}.ext_fee"] * balloon, 0))
            dec.update(pay=pay, ext=ext)
        else:
            ext, fee = ZERO, None
    else:   # the last period: nothing to refinance into
        for key in refi_sizing_keys(program, k):
            put(key, ZERO)
        ext = fee = None
    after, short = settle(program, cf, inputs, S, dec, ext, put, final=not ext_terms)
    return dec["at_mat"], after, short, fee, dec


def settle(program: Program, cf: Grid, inputs: Grid, S: dict, dec: dict, ext: X, put, final: bool = True):
    """What the maturity decision `dec` (refinance) writes with the extension flag `ext`:
    the refinancing flag, the new loan, the shortfall due now and the terms after the
    period; `final` False: the rows of the option as exercised before its conditions are
    known (`_pre`), True: the ledger's lines and the terms that carry on. Returns (the
    terms after, the shortfall; None in the last period)."""
    n, k, t, terms = program.n_periods, dec["k"], dec["t"], dec["terms"]
    sfx = "_after" if final else "_pre"
    I = lambda key: inputs.ref(key, t, qualified=True)  # noqa: E731
    refi_terms_, ext_terms = has_refi(program, k), has_ext(program, k)
    at_mat = dec["at_mat"]
    refi_key, new_key = (f"t{k}.refi", T(k, "refinanced")) if final else (f"t{k}.refi_pre", f"t{k}.new_pre")
    if t < n:
        live, offer, balloon, pay = dec["live"], dec["offer"], dec["balloon"], dec["pay"]
        refi = put(refi_key, IF(live, IF(ext, 0, IF(offer > 0, 1, 0)), 0)) if refi_terms_ else ZERO
        new = put(new_key, IF(refi, offer, 0))
        short_key = f"t{k}.refi_short" + ("" if final else "_pre")
        short = put(short_key, IF(at_mat, IF(ext, pay, balloon - new), 0) if ext_terms
                    else IF(at_mat, balloon - new, 0))
    else:
        if refi_terms_:
            put(refi_key, ZERO)
        refi = ext = ZERO
        new = put(new_key, ZERO)
        short = None
        if not final:
            put(f"t{k}.refi_short_pre", ZERO)
    last = ref(inputs.cells[("period", n)].v, inputs.row_of("period"), inputs.col(n), IN_SHEET, absolute=True)
    after = {}
    if refi_terms_:
        periods = S[f"t{k}.refi_periods"]
        after["on"] = put(f"t{k}.on{sfx}", IF(refi, 1, terms["on"]))
        # straight-line: the amortisation loan / N; level payment: the loan (its principal by period follows)
        scale = (new / cf.ref(f"t{k}.refi_dscr_cap", t) if t < n else ZERO) if sculpt(program, k) else None
        after["amort"] = put(f"t{k}.amort{sfx}", IF(refi, new if level(program, k) else
                                                     (scale if sculpt(program, k) else new / periods), terms["amort"]))
        after["radd"] = put(f"t{k}.radd{sfx}", IF(refi, I("refi_add"), terms["radd"]))
        if level(program, k):
            first = new_per_rate(inputs, k, t + 1, I("refi_add")) if t < n else ZERO
            after["r1"] = put(f"t{k}.r1{sfx}", IF(refi, first, terms["r1"]))
            after["t0"] = put(f"t{k}.t0{sfx}", IF(refi, I("period"), terms["t0"]))
        if sculpt(program, k):   # signed: the shape L, the rent in place and the others' service of t
            signed = ((cf.ref(f"t{k}.refi_dscr_cap", t), I("rent_mult"), cf.ref(f"t{k}.refi_others", t)) if t < n
                      else (ZERO, ZERO, ZERO))
            after["sb"] = put(f"t{k}.sb{sfx}", IF(refi, signed[0], terms["sb"] - terms["sc_pay"]))
            after["rm"] = put(f"t{k}.rm{sfx}", IF(refi, signed[1], terms["rm"]))
            after["ods"] = put(f"t{k}.ods{sfx}", IF(refi, signed[2], terms["ods"]))
        mat_after = IF(refi, MIN(I("period") + periods, last), terms["mat"])
    else:
        after["on"], after["amort"] = ZERO, ZERO
        mat_after = terms["mat"]
    if ext_terms:
        mat_after = IF(ext, MIN(I("period") + S[f"t{k}.ext_periods"], last), mat_after)
        after["ext_left"] = put(f"t{k}.ext_left{sfx}", IF(ext, terms["ext_left"] - 1, terms["ext_left"]))
        after["ext_add"] = put(f"t{k}.ext_add{sfx}", IF(refi, 0, IF(ext, terms["ext_add"] + S[f"t{k}.ext_step"],
                                                                      terms["ext_add"])))
    after["mat"] = put(f"t{k}.mat{sfx}", mat_after)
    return after, short


def refi_cures_possible(program: Program) -> bool:
    """A refinancing shortfall can be cured: a tranche with refinancing terms, cures allowed
    and a period they may be made (refinancing.cure)."""
    return bool(refi_tranches(program)) and int(program.cure_max) > 0 and int(program.cure_until) >= 0


def _free(c, acc, cash: X) -> X:
    """refinancing.uncovered's cash: the period's cash after its fees, hedge settlements
    owed, cash interest (extension fees included) and scheduled principal."""
    program = c.program
    free = cash
    for f in range(program.n_fees):
        free = free - c.I(f"f{f}.due")
    for due in acc.hedge_due:
        free = free - MAX(due, 0)
    for k in range(program.n_tranches):
        free = free - (acc.int_due[k] + acc.scheduled[k])
    return free


def _cure_terms(c, need: X, count: X, ok: X) -> X:
    """refinancing.cure's terms on top of `ok`: a need above dust, a cure left, in time,
    within the cap."""
    S = c.S
    ok = IF(ok, IF(need > DUST, IF(count < S["cure_max"], IF(c.I("period") <= S["cure_until"], 1, 0), 0), 0), 0)
    if "cure_max_amount" in S:
        ok = IF(need > S["cure_max_amount"], 0, ok)
    return ok


def _cure_count(c):
    """The cures made before this period's refinancing cure (None: no cure can be made)."""
    from .inputs import cures_possible
    program = c.program
    return c.ref("cures_dscr") if cures_possible(program) else (c.P("cures_used") if refi_cures_possible(program)
                                                                 else None)


def maturity_cure(c, acc, cash: X, cause: X) -> X:
    """reference._maturity_cure as formulas: whether the extension options exercised this
    period stand (`ext_stand`: the lenders owed and nothing else accelerating, the fees,
    interest (the options' fees with it) and schedule covered by the cash, and the
    shortfalls met by the cash left or by the cure, as refinancing.cure reads them with
    the options exercised), each tranche's option (`ext_ok`) then settled (settle: its
    fee, its paydown, or the balloon and any refinancing on offer; its terms after), and
    the cure (refi_cure) on what stands. Returns the cash for the steps."""
    program = c.program
    if not acc.ext:
        return refi_cure(c, acc, cash, cause)
    if acc.refi_short:
        open_ = IF(c.ref("lenders"), IF(cause > 0, 0, 1), 0)
        total = c.put("ext_short_pre", SUM_SEQ(acc.refi_short))
        free = c.put("ext_free_pre", _free(c, acc, cash))
        need = c.put("ext_need_pre", total - MAX(free, 0))
        count = _cure_count(c)
        ok = (c.put("ext_cure_ok_pre", _cure_terms(c, need, count, IF(total > DUST, open_, 0)))
              if refi_cures_possible(program) else ZERO)
        stand = c.put("ext_stand", IF(open_, IF(free < -DUST, 0, IF(total > DUST, IF(ok, 1, IF(need > DUST, 0, 1)), 1)), 0))
    else:   # the last period: no option
        for key in EXT_STAND_KEYS if refi_cures_possible(program) else EXT_STAND_KEYS[:3] + EXT_STAND_KEYS[4:]:
            c.put(key, ZERO)
        stand = ZERO
    for k, e in acc.ext.items():
        dec = e["dec"]
        ext_ok = c.put(f"t{k}.ext_ok", IF(dec["ext"], stand, 0) if "ext" in dec else ZERO)
        acc.after[k], short = settle(program, c.cf, c.inputs, c.S, dec, ext_ok, c.put, final=True)
        acc.int_due[k] = e["int_due"] + IF(ext_ok, e["fee"], 0)
        c.put(T(k, "interest_due"), e["interest"] + IF(ext_ok, e["fee"], 0))
        if short is not None:
            acc.refi_short[e["short_at"]] = short
            due = IF(acc.balloon[k], acc.scheduled[k] + short, acc.scheduled[k])
        else:
            due = IF(acc.balloon[k], e["b"], acc.scheduled[k])
        acc.prin_due[k] = c.put(T(k, "principal_due"), due)
    return refi_cure(c, acc, cash, cause)


EXT_STAND_KEYS = ("ext_short_pre", "ext_free_pre", "ext_need_pre", "ext_cure_ok_pre", "ext_stand")


def refi_cure(c, acc, cash: X, cause: X) -> X:
    """refinancing.cure as formulas, after the covenants' cure: when the period's
    refinancing shortfalls exceed dust, the lenders are owed and nothing else accelerates,
    the sponsors pay in what the paydown needs beyond the cash left after fees, hedge
    settlements owed, cash interest and scheduled principal, if a cure is left, in time
    and within the cap. Writes the equity cure line (covenant cure + this) and the cures
    made so far; returns the cash for the steps."""
    from .inputs import cures_possible
    program = c.program
    count = c.ref("cures_dscr") if cures_possible(program) else (c.P("cures_used") if refi_cures_possible(program)
                                                                  else None)
    if not refi_cures_possible(program):
        if count is not None:
            c.put("cures_used", count)
        c.put("L:equity_cure", c.ref("dscr_cure"))
        return cash
    if acc.refi_short:
        total = c.put("refi_short_total", SUM_SEQ(acc.refi_short))
        free = c.put("refi_free", _free(c, acc, cash))
        need = c.put("refi_need", total - MAX(free, 0))
        ok = _cure_terms(c, need, count, IF(total > DUST, IF(c.ref("lenders"), IF(cause > 0, 0, 1), 0), 0))
        ok = c.put("refi_cure_ok", ok)
        cure = c.put("refi_cure", IF(ok, need, 0))
    else:   # the last period: no refinancing
        for key in REFI_CURE_KEYS:
            c.put(key, ZERO)
        ok = cure = ZERO
    c.put("cures_used", count + ok)
    c.put("L:equity_cure", c.ref("dscr_cure") + cure)
    return cash + cure


REFI_CURE_KEYS = ("refi_short_total", "refi_free", "refi_need", "refi_cure_ok", "refi_cure")
