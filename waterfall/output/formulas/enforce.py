"""Step 6 (reference._accelerate, _workout_period, _advance, _recover, _receive): once
the lenders accelerate, in that period and in every workout period after it until the
final recovery. Per tranche the claim going into the period's recoveries (at the
acceleration: the balance after the steps and the interest left unpaid; in a workout:
the balance and the arrears with the default interest); costs the SPV cannot meet are
funded by the rank-1 tranches pro rata (a protective advance, a draw); at the sale
period the sale value less the fire sale and costs, and any residual value guarantee;
the pool (cash and reserves taken, workout net cash, sale, guarantee) is applied by
rank (workout.allocate); at the sale what is left is written off; at the final
recovery a surplus is the sponsors'. What each tranche has received, nominal and
discounted at its contract rate from the acceleration, feeds the recovery metrics."""
from __future__ import annotations

from ...ops import DUST
from ..cells import EQ, IF, MAX, MIN, ONE, SUM_SEQ, ZERO, const, ref
from .best_sale import best_offset
from .grid import A, F, IN_SHEET, T, exit_share
from .hedges import H, paid_rows, terminate
from .state import carried, claim_ranks, first_rank


def _events(c, p, workout):
    """The acceleration flags and the state it sets: (acceleration now, enforcing, sale now)."""
    program, S, n = c.program, c.S, c.program.n_periods
    eod = c.put("L:event_of_default", IF(p.D, 1, 0))
    cause = c.put("cause_now", p.D)
    recovering = c.put("recovering", IF(eod, 1, workout))
    period = c.I("period")
    carried(c, "accel_at", period, eod, const(-1))
    carried(c, "cause_at", cause, eod, ZERO)
    last = ref(float(n), c.inputs.row_of("period"), c.inputs.col(n), IN_SHEET, absolute=True)
    if program.sale_rule:   # best execution: the best sale within the time to sale (best_sale.py)
        sale_at = carried(c, "sale_at", period + best_offset(c), eod, const(-1))
    else:
        sale_at = carried(c, "sale_at", MIN(period + S["sale_periods"], last), eod, const(-1))
    sale = c.put("sale_now", IF(recovering, IF(EQ(period, sale_at), 1, 0), 0))
    # construction stops at an acceleration: before COD, work in progress is what was spent by then
    carried(c, "value_at_accel", c.I("sale_value"), eod, ZERO)
    if program.rvg_cap > 0:   # the guarantee as it stood at the acceleration
        carried(c, "rvg_factor_at", c.I("rvg_factor"), eod, ZERO)
        carried(c, "rvg_live_at", c.I("rvg_live"), eod, ZERO)
    return eod, recovering, sale


def _claims(c, p, eod, workout, acc) -> dict:
    """Per tranche: the steps' ledger lines, and the claim going into the recoveries:
    {k: dict(arrears, principal, paid)} (paid: what the steps paid it this period)."""
    out = {}
    for k in range(c.program.n_tranches):
        ip = c.put(T(k, "interest_paid"), SUM_SEQ(p.int_paid[k]))
        c.put(T(k, "interest_capitalised"), SUM_SEQ(p.cap_lines[k]))
        pp = c.put(T(k, "principal_paid"), SUM_SEQ(p.prin_paid[k]))
        pre = c.put(T(k, "prepayment"), SUM_SEQ(p.prepay[k]))
        paid = SUM_SEQ(p.paid[k])
        claim = c.put(T(k, "claim"), IF(eod, (p.bal[k] + paid) + p.int_due[k], 0))
        arrears = c.put(f"t{k}.arrears_in", IF(eod, p.int_due[k] - ip, IF(
            workout, c.P(T(k, "interest_arrears")) + c.ref(f"t{k}.wk_interest"), 0)))
        principal = c.put(f"t{k}.principal_in", IF(eod, p.bal[k], IF(workout, acc.opening[k], 0)))
        out[k] = dict(ip=ip, pp=pp, pre=pre, arrears=arrears, principal=principal, claim=claim,
                      paid=IF(eod, ip + paid, 0), advance=None)
    return out


def _advance(c, eod, workout, unpaid, claims) -> list:
    """reference._advance: the lenders fund costs the SPV cannot meet, the rank-1
    tranches pro rata by claim; each share adds to that tranche's principal and draws."""
    net = c.ref("wk_net")
    amount = c.put("advance", IF(eod, unpaid, IF(workout, MAX(0, ZERO - net), 0)))
    members = first_rank(c.program)
    if len(members) > 1:
        owed = c.put("advance_base", SUM_SEQ(claims[k]["principal"] + claims[k]["arrears"] for k in members))
    shares = []
    for k in members:
        claim = claims[k]
        if len(members) == 1:
            share = c.put(f"t{k}.advance", amount)   # the whole advance (its share of the claim is 1)
        else:
            share = c.put(f"t{k}.advance", IF(amount > 0, IF(
                owed > 0, amount * ((claim["principal"] + claim["arrears"]) / owed), amount / len(members)), 0))
        claim["advance"] = share
        claim["principal"] = c.put(f"t{k}.principal_claim", claim["principal"] + share)
        shares.append(share)
    return shares


def _pool(c, p, eod, workout, sale, exit_proceeds, claims, received=None):
    """The period's recoveries before allocation: cash and reserves taken (or the workout's
    net cash), at the sale its net proceeds and any guarantee."""
    program, S = c.program, c.S
    value = IF(c.ref("accel_at") < S["cod_period"], c.ref("value_at_accel"), c.I("sale_value"))
    if exit_share(program) > 0 and c.t == program.n_periods:
        value = IF(exit_proceeds > 0, 0, value)   # sold by the exit already
    gross = c.put("L:seizure_gross", IF(sale, value, 0))
    net = c.put("L:seizure_net", IF(sale, MAX(0, ((gross * (ONE - S["fire_sale"])) - S["cost_share"] * gross)
                                              - S["cost_fixed"]), 0))
    at_accel = p.cash + SUM_SEQ(p.reserve)
    if received is not None:   # what the hedge banks pay at termination
        at_accel = at_accel + received
    taken = c.put("rec_cash", IF(eod, at_accel, IF(workout, c.ref("L:cash_available"), 0)))
    pool = taken + net
    if program.rvg_cap > 0:
        owed = SUM_SEQ(claims[k]["arrears"] + claims[k]["principal"] for k in range(program.n_tranches))
        guarantee = c.put("L:guarantee_paid", IF(sale, IF(c.ref("rvg_live_at"), MIN(
            S["rvg_cap"] * c.ref("rvg_factor_at"), MAX(0, owed - pool)), 0), 0))
        pool = pool + guarantee
    else:
        c.put("L:guarantee_paid", ZERO)
    return c.put("pool", pool)


def _allocate(c, pool, claims):
    """workout.allocate: by rank; one claimant alone takes the pool (a tranche interest
    then principal); claimants of one rank (tranches, then hedge banks) share it pro rata
    by claim. Returns the pool left."""
    hedge_claims = claims["hedges"]
    for rank, members, hedges in claim_ranks(c.program):
        if len(members) + len(hedges) == 1:
            if hedges:
                h = hedges[0]
                to_h = c.put(H(h, "recovery"), MIN(pool, hedge_claims[h]))
                pool = c.put(f"h{h}.pool_after", pool - to_h)
                continue
            k = members[0]
            arrears, principal = claims[k]["arrears"], claims[k]["principal"]
            to_int = c.put(T(k, "recovery_interest"), MIN(pool, arrears))
            to_prin = c.put(T(k, "recovery_principal"), MIN(pool - to_int, principal))
            pool = c.put(f"t{k}.pool_after", (pool - to_int) - to_prin)
            continue
        parts = []
        if members:
            parts.append(SUM_SEQ(claims[k]["arrears"] + claims[k]["principal"] for k in members))
        if hedges:
            parts.append(SUM_SEQ(hedge_claims[h] for h in hedges))
        owed = c.put(f"r{rank}.owed", parts[0] if len(parts) == 1 else parts[0] + parts[1])
        take = c.put(f"r{rank}.take", MIN(pool, owed))
        for k in members:
            arrears, principal = claims[k]["arrears"], claims[k]["principal"]
            share = c.put(f"t{k}.rec_share", IF(owed > 0, take * ((arrears + principal) / owed), 0))
            to_int = c.put(T(k, "recovery_interest"), MIN(share, arrears))
            to_prin = c.put(T(k, "recovery_principal"), MIN(share - to_int, principal))
            pool = pool - (to_int + to_prin)
        for h in hedges:
            to_h = c.put(H(h, "recovery"), MIN(IF(owed > 0, take * (hedge_claims[h] / owed), 0), hedge_claims[h]))
            pool = pool - to_h
        pool = c.put(f"r{rank}.pool_after", pool)
    return c.put("pool_left", MAX(pool, 0))


def _close_tranches(c, p, recovering, sale, claims) -> None:
    """Write-offs at the sale, closing balances and arrears (and the hedge banks' claims);
    every claim repaid?"""
    left = []
    for k in range(c.program.n_tranches):
        claim = claims[k]
        rec_int, rec_prin = c.ref(T(k, "recovery_interest")), c.ref(T(k, "recovery_principal"))
        claim["left"] = (claim["principal"] - rec_prin, claim["arrears"] - rec_int)
        left += list(claim["left"])
        claim["received"] = rec_int + rec_prin
    hedge_left = {h: claim - c.ref(H(h, "recovery")) for h, claim in claims["hedges"].items()}
    left += list(hedge_left.values())
    # repaid: nothing left beyond rounding dust (then the dust is written off)
    repaid = c.put("repaid", IF(recovering, IF(MAX(*left) > DUST, 0, 1), 0))
    done = IF(sale, 1, repaid)
    for k in range(c.program.n_tranches):
        principal, arrears = claims[k]["left"]
        c.put(T(k, "write_off"), IF(done, principal, 0))
        c.put(T(k, "balance_close"), IF(recovering, IF(done, 0, principal), p.bal[k]))
        c.put(T(k, "interest_arrears"), IF(done, 0, arrears))
    for h, rest in hedge_left.items():
        c.put(H(h, "write_off"), IF(done, rest, 0))
        c.put(H(h, "claim"), IF(done, 0, rest))


def _receipts(c, eod, workout, acc, claims) -> None:
    """reference._receive: per tranche the claim at the acceleration, what it has
    received since (less advances), and its PV at the contract rate from the acceleration."""
    for k in range(c.program.n_tranches):
        claim = claims[k]
        carried(c, f"t{k}.claim_at", claim["claim"], eod, ZERO)
        before = c.P(f"t{k}.disc", ONE)
        disc = c.put(f"t{k}.disc", IF(workout, before / (ONE + acc.per_rate[k]), before))
        nominal, pv = c.P(f"t{k}.received") + claim["paid"], c.P(f"t{k}.pv") + claim["paid"] * disc
        if claim["advance"] is not None:
            nominal, pv = nominal - claim["advance"], pv - claim["advance"] * disc
        c.put(f"t{k}.received", nominal + claim["received"])
        c.put(f"t{k}.pv", pv + claim["received"] * disc)


def enforce(c, p, st, acc, exit_proceeds, unpaid):
    """Step 6 of period t. Returns (surplus to equity, lender cash-flow terms)."""
    program = c.program
    workout, _ended, _normal, _cancelled = st
    eod, recovering, sale = _events(c, p, workout)
    claims = _claims(c, p, eod, workout, acc)
    shares = _advance(c, eod, workout, unpaid, claims)
    c.put("L:draws", SUM_SEQ([c.ref("draws_sched")] + shares))
    paid_rows(c, p)
    received, claims["hedges"] = terminate(c, p, eod, workout) if program.n_hedges else (None, {})
    pool = _pool(c, p, eod, workout, sale, exit_proceeds, claims, received)
    left = _allocate(c, pool, claims)
    _close_tranches(c, p, recovering, sale, claims)
    final = c.put("final", IF(recovering, IF(sale, 1, c.ref("repaid")), 0))
    carried(c, "end_at", c.I("period"), final, const(-1))
    _receipts(c, eod, workout, acc, claims)
    lender_terms = []
    for k in range(program.n_tranches):
        claim = claims[k]
        draw = acc.draws[k] if claim["advance"] is None else acc.draws[k] + claim["advance"]
        draw = c.put(T(k, "draw"), draw)
        rec_int, rec_prin = c.ref(T(k, "recovery_interest")), c.ref(T(k, "recovery_principal"))
        c.put(f"t{k}.repaid", (claim["pp"] + claim["pre"]) + rec_prin)
        lender_terms += [(-1, draw), (1, claim["ip"]), (1, claim["pp"]), (1, claim["pre"]), (1, rec_int),
                         (1, rec_prin)]
    return c.put("surplus", IF(final, left, 0)), lender_terms


def close_period(c, p, surplus, lender_terms, equity_in) -> None:
    """Closing lines: equity, reserves, fees, the equity and lender cash flows."""
    program = c.program
    eod = c.ref("L:event_of_default")
    for f in range(program.n_fees):
        if f not in p.fee_rows:
            c.put(F(f, "due"), ZERO)
            c.put(F(f, "paid"), ZERO)
    dist = c.put("L:equity_distribution", SUM_SEQ(p.equity_parts + [surplus]))
    closes = [c.put(A(a, "balance_close"), IF(eod, 0, p.reserve[a])) for a in range(program.n_accounts)]
    c.put("L:reserve_funding", SUM_SEQ(closes))
    c.put("L:fees_paid", SUM_SEQ(p.fee_pays))
    if not program.n_hedges:
        c.put("L:hedge_termination_received", ZERO)
    c.put("equity_cf", ((dist - equity_in) - c.ref("L:sponsor_support")) - c.ref("L:equity_cure"))
    # lender flows as metrics.cash_flows adds them: 0 - draw + interest + principal + ...
    flow = ZERO
    for sign, term in lender_terms:
        flow = flow - term if sign < 0 else flow + term
    c.put("lender_cf", flow)
