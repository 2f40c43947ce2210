"""Model -> program: compile a deal once into flat arrays, and scenarios into a batch.

Everything that depends only on the deal (dates, accruals, schedules, sizing of
scheduled principal on the base case) happens here, once; the interpreters only loop.
"""
from __future__ import annotations

import numpy as np

from . import dates, level_payment, ops, payment_dates, steps
from .checks import check_deal, check_scenario, check_sized_debt
from .credit_terms import credit_terms
from .errors import DealError
from .hedges import base_case_balances, compile_hedges
from .model.deal import Deal
from .model.scenario import Scenario
from .program import NO_LIMIT, Program, ScenarioBatch
from .taxes import compile_tax
from .schedules import (
    asset_values, base_cfads, annual_flow, interpolate_points, line_escalation, line_scale, principal_schedule,
    rate_curve, spend_shares,
)
from .schedules import balance_at_amortisation as _balance_at_amortisation
from .sizing import size_tranches
from .reserves import fund_reserves_at_close, issue_letters_of_credit
from .schedules import base_per_rate as _base_per_rate

NO_FLOOR = -1e9
REFI_PROFILES = ("straight_line", "level_payment", "sculpted")   # program.refi_profile codes


def period_dates(deal: Deal):
    """(unadjusted, adjusted) period-end dates, index 0 = financial close."""
    tl = deal.timeline
    raw = payment_dates.period_end_dates(tl)
    return raw, dates.adjust(raw, tl.calendar, tl.roll)


def compile_deal(deal: Deal, source: str = "<deal>") -> Program:
    """Compile a validated deal into a Program. Raises DealError on inconsistencies."""
    if source == "<deal>":
        from .load import source_of  # lazily: load reaches compile's checks
        source = source_of(deal)
    problems = check_deal(deal)
    if problems:
        raise DealError(source, problems)
    tl = deal.timeline
    n, months, cod = tl.n_periods, tl.months_per_period, tl.cod_period
    raw, adjusted = period_dates(deal)
    accrual_dates = adjusted if tl.accrue_on_adjusted_dates else raw

    rent, opex, tax = _operating_flows(deal, n, months, cod)
    capex = _capex(deal, n)
    base_rate = rate_curve(deal.base_rate, n)

    k_count = len(deal.tranches)
    accrual, is_floating, fixed_rate, spread, floor, maturity, capitalise, hard = _tranche_terms(
        deal, accrual_dates)

    per_rate = _base_per_rate(base_rate, is_floating, fixed_rate, spread, floor, accrual)
    amounts, sculpt_dscr = size_tranches(deal, capex, per_rate, capitalise, maturity, rent - opex, n, cod,
                                         _unit_draws(deal, capex, n))
    problems = check_sized_debt(deal, amounts)
    if problems:
        raise DealError(source, problems)
    capex[0] += float(sum(t.upfront_fee * a for t, a in zip(deal.tranches, amounts)))  # on the sized amounts
    draw, equity_in = _funding(deal, capex, n, amounts, capitalise, per_rate)
    round_to = np.array([level_payment.increment(t.amortisation.round_to, deal.deal.units) for t in deal.tranches])
    sched = _schedules(deal, draw, capitalise, per_rate, maturity, rent - opex, round_to, sculpt_dscr)

    names = {"tranches": [t.name for t in deal.tranches], "accounts": [a.name for a in deal.accounts],
             "fees": [f.name for f in deal.fees], "hedges": [h.name for h in deal.hedges]}
    dscr_names = set(deal.covenants.dscr_tranches or names["tranches"])
    dscr_mask = np.array([int(t in dscr_names) for t in names["tranches"]], dtype=np.int64)
    acct_mask = np.array([[int(t in a.tranches) for t in names["tranches"]] for a in deal.accounts],
                         dtype=np.int64).reshape(len(deal.accounts), k_count)
    fee_due = np.array([annual_flow(1.0 if f.letter_of_credit else f.annual_amount, f.from_period, n if f.to_period is None else f.to_period,
                                    n, months, line_scale(deal, f.from_period, indexation=f.indexation))
                        for f in deal.fees]).reshape(len(deal.fees), n + 1)
    step_op, step_arg, step_share, step_share_locked = _steps(deal, names)
    enf = deal.enforcement
    cov = deal.covenants
    terms = credit_terms(deal, n, months)
    hedges = compile_hedges(deal, accrual_dates, base_case_balances(draw, sched, maturity, capitalise, per_rate),
                            terms["rank"], base_rate)
    bad = [(f"hedges[{h}].fixed_rate", "a par swap needs a notional after close to be struck on", "par")
           for h in range(len(deal.hedges)) if not np.isfinite(hedges["hedge_rate"][h])]
    if bad:
        raise DealError(source, bad)
    program = Program(
        n_periods=n, months_per_period=months, cod_period=cod,
        base_rent=rent, opex=opex, capex=capex, equity_in=equity_in, base_rate=base_rate,
        draw=draw, accrual=accrual, is_floating=is_floating, fixed_rate=fixed_rate,
        spread=spread, floor=floor, sched=sched, maturity=maturity, capitalise=capitalise,
        hard=hard, dscr_mask=dscr_mask, round_to=round_to,
        periods_a_year=(12.0 / months) / payment_dates.period_shares(tl),
        **_account_terms(deal, adjusted), acct_mask=acct_mask, fee_due=fee_due, step_op=step_op, step_arg=step_arg,
        step_share=step_share, step_share_locked=step_share_locked,
        lock_up_dscr=NO_LIMIT if cov.lock_up_dscr is None else cov.lock_up_dscr,
        default_dscr=NO_LIMIT if cov.default_dscr is None else cov.default_dscr,
        cure_periods=cov.cure_periods,
        asset_value=asset_values(deal.assets, n, months, tl.construction_periods),
        fire_sale=enf.fire_sale_discount, cost_share=enf.cost_share, cost_fixed=enf.cost_fixed,
        **terms, **hedges,
        names=names, dates=adjusted, flow_years=dates.years_from(adjusted), amounts=amounts, **_refinancing(deal), **_borrowing_base(deal),
        **_guarantee(deal, n),
        exit_share=0.0 if deal.exit is None else deal.exit.value_share * (1.0 - deal.exit.cost_share),
        exit_value_share=0.0 if deal.exit is None else deal.exit.value_share,
        **_cover_horizon(deal, maturity, n), **tax,
        uses_at_close=_uses_at_close(deal, amounts),
    )
    issue_letters_of_credit(deal, program, per_rate)
    fund_reserves_at_close(deal, program, per_rate)
    return program


def _capex(deal: Deal, n: int) -> np.ndarray:
    """[T+1] spend before the upfront fees: the assets' cost as they are paid for, with the
    costs at close (cap premiums, closing costs) in period 0, funded with it."""
    capex = np.zeros(n + 1)
    for asset in deal.assets:
        capex += asset.cost * spend_shares(asset, deal.timeline.construction_periods, n)
    capex[0] += sum(h.premium for h in deal.hedges) + deal.closing_costs
    return capex


def fixed_targets(deal: Deal) -> np.ndarray:
    """[A, T+1] a fixed reserve's target by period (USD): its `target`, or for a target in
    months (a maintenance reserve) months / 12 x the annual amounts of its `target_opex`
    lines as escalated in the period (the same USD whatever the period length). A line
    not started yet counts its first year's amount."""
    n = deal.timeline.n_periods
    out = np.zeros((len(deal.accounts), n + 1))
    lines = {o.name: o for o in deal.opex}
    for a, acct in enumerate(deal.accounts):
        if acct.kind != "fixed":
            continue
        if acct.target_months is None:
            out[a] = acct.target
            continue
        for name in acct.target_opex:
            item = lines[name]
            first = deal.timeline.cod_period if item.from_period is None else item.from_period
            out[a] += item.annual_amount * line_escalation(deal, first, item.escalation, 12, item.indexation)
        out[a] *= acct.target_months / 12.0
    return out


def _account_terms(deal: Deal, adjusted) -> dict:
    """The accounts' arrays: kind, target periods (a target in months rounded up to whole
    periods, the last weighted by its share: 4 months of quarters = 1 + 1/3), fixed target,
    and the interest each earns on its opening balance for the period [A, T+1] (its annual
    rate x the ACT/365F years between the payment dates; 0 at close)."""
    accounts, months = deal.accounts, deal.timeline.months_per_period
    years = np.diff(dates.years_from(adjusted), prepend=0.0)
    return dict(
        acct_kind=np.array([ops.ACCOUNT_KIND[a.kind] for a in accounts], dtype=np.int64),
        acct_periods=np.array([a.target_periods if a.target_months is None or a.kind != "dsra"
                               else -(-a.target_months // months) for a in accounts], dtype=np.int64),
        acct_last_weight=np.array([1.0 if a.target_months is None or a.kind != "dsra" or a.target_months % months == 0
                                   else (a.target_months % months) / months for a in accounts], dtype=float),
        acct_target=fixed_targets(deal),
        acct_rate=np.array([a.interest_rate * years for a in accounts]).reshape(len(accounts), len(adjusted)))


def _uses_at_close(deal: Deal, amounts) -> dict:
    """The costs at close inside `capex[0]` besides the assets' own spend (deal units), by
    name: hedge premiums, upfront fees (share x commitment), closing costs."""
    return {"hedge premiums": float(sum(h.premium for h in deal.hedges)),
            "upfront fees": float(sum(t.upfront_fee * a for t, a in zip(deal.tranches, amounts))),
            "closing costs": float(deal.closing_costs)}


def _schedules(deal: Deal, draw, capitalise, per_rate, maturity, cfads, round_to, sculpt_dscr) -> np.ndarray:
    """[K, T+1] scheduled principal (base case); with a rounding increment every amount of
    it is a multiple of the increment. A sculpted tranche at its sculpting DSCR (the
    amortisation's target, or re-solved for a capped sized loan: sizing.py). A loan sized
    with `when_short = "capitalise"` marks in `capitalise` [K, T+1] (in place) the periods
    whose interest it capitalises."""
    n, cod = deal.timeline.n_periods, deal.timeline.cod_period
    sched = np.zeros((len(deal.tranches), n + 1))
    for k, tr in enumerate(deal.tranches):
        balance_at_start, start = _balance_at_amortisation(tr, draw[k], capitalise[k], per_rate[k], cod)
        am = tr.amortisation
        if am.kind == "sculpted" and sculpt_dscr[k] != am.target_dscr:  # a capped loan re-sculpted
            am = am.model_copy(update={"target_dscr": float(sculpt_dscr[k])})
        # an extension option carries the schedule on past the maturity it may move
        horizon = int(maturity[k]) + (tr.extension.options * tr.extension.periods if tr.extension else 0)
        # a loan sized to capitalise what CFADS / target leaves of the interest: those periods capitalise
        short = capitalise[k] if tr.sizing is not None and tr.sizing.when_short == "capitalise" else None
        sched[k] = principal_schedule(am, balance_at_start, start, horizon, per_rate[k], cfads, round_to[k], short)
        if round_to[k] > 0 and tr.amortisation.kind != "level_payment":
            sched[k] = [level_payment.money(x, round_to[k]) for x in sched[k]]
    return sched


def _operating_flows(deal: Deal, n: int, months: int, cod: int):
    """(rent, opex, the Program's tax fields): base-case rent and opex by period, property
    tax in opex (an operating cost, before debt service), each pro-rated in a stub (rent and
    opex line by line with their escalation: schedules.line_scale)."""
    rent, opex = base_cfads(deal, n, months)
    tax = compile_tax(deal, n, months, cod)
    return rent, opex + tax["property_tax"] * payment_dates.period_shares(deal.timeline), tax


def stated_payment_problems(deal: Deal) -> list:
    """(field, message, value) for each stated level payment below its first amortising
    period's base-case interest (checks.check_deal: the balance would never amortise).
    Compiles the parts it needs: dates, rates, sizing, draws, capitalised interest."""
    if not any(t.amortisation.payment is not None for t in deal.tranches):
        return []
    tl = deal.timeline
    n, cod = tl.n_periods, tl.cod_period
    raw, adjusted = period_dates(deal)
    rent, opex, _tax = _operating_flows(deal, n, tl.months_per_period, cod)   # property tax in opex
    capex = _capex(deal, n)
    accrual, is_floating, fixed_rate, spread, floor, maturity, capitalise, _hard = _tranche_terms(
        deal, adjusted if tl.accrue_on_adjusted_dates else raw)
    per_rate = _base_per_rate(rate_curve(deal.base_rate, n), is_floating, fixed_rate, spread, floor, accrual)
    amounts, _ = size_tranches(deal, capex, per_rate, capitalise, maturity, rent - opex, n, cod,
                               _unit_draws(deal, capex, n))
    capex[0] += float(sum(t.upfront_fee * a for t, a in zip(deal.tranches, amounts)))
    draw, _ = _funding(deal, capex, n, amounts, capitalise, per_rate)
    problems = []
    for k, tr in enumerate(deal.tranches):
        balance_at_start, start = _balance_at_amortisation(tr, draw[k], capitalise[k], per_rate[k], cod)
        problems += level_payment.stated_payment_problems(
            tr.amortisation, balance_at_start, start, per_rate[k],
            level_payment.increment(tr.amortisation.round_to, deal.deal.units), f"tranches[{k}].amortisation.payment")
    return problems


def _cover_horizon(deal: Deal, maturity, n: int) -> dict:
    """The LLCR's last period (the covenant tranches' latest notional maturity, else their
    legal one), its last calculation date (their latest legal maturity) and whether it adds
    the DSRA (metrics.cover_ratio, llcr_path)."""
    names = deal.covenants.dscr_tranches or [t.name for t in deal.tranches]
    covered = [k for k, t in enumerate(deal.tranches) if t.name in names]
    ends = [min(deal.tranches[k].notional_maturity_period, n) if deal.tranches[k].notional_maturity_period
            is not None else int(maturity[k]) for k in covered]
    return dict(llcr_end=max(ends, default=-1), llcr_dates_end=max((int(maturity[k]) for k in covered), default=-1),
                llcr_dsra=int(deal.covenants.llcr_net_of_dsra))


def _tranche_terms(deal: Deal, accrual_dates):
    """Per tranche: accrual [K, T+1] (years), floating flag, fixed coupon and spread by
    period (step-ups), base-rate floor, maturity period (extensions included), capitalised
    periods and whether a shortfall is an event of default."""
    tl = deal.timeline
    n, k_count = tl.n_periods, len(deal.tranches)
    accrual = np.zeros((k_count, n + 1))
    is_floating = np.zeros(k_count, dtype=np.int64)
    fixed_rate, spread = np.zeros((k_count, n + 1)), np.zeros((k_count, n + 1))
    floor = np.full(k_count, NO_FLOOR)
    maturity = np.zeros(k_count, dtype=np.int64)
    capitalise = np.zeros((k_count, n + 1), dtype=np.int64)
    hard = np.zeros(k_count, dtype=np.int64)
    for k, tr in enumerate(deal.tranches):
        accrual[k] = dates.accrual_fractions(accrual_dates, tr.day_count)
        if tr.rate.kind == "fixed":
            fixed_rate[k] = _stepped(tr.rate.annual, tr.rate.steps, n)
        else:
            is_floating[k] = 1
            spread[k] = _stepped(tr.rate.spread, tr.rate.spread_steps, n)
            if tr.rate.floor is not None:
                floor[k] = tr.rate.floor
        maturity[k] = min((tr.maturity_period or n) + tr.extension_periods, n)
        if tr.capitalise_interest == "always":
            capitalise[k, :] = 1
        elif tr.capitalise_interest == "construction":
            capitalise[k, 1:tl.construction_periods + 1] = 1
        hard[k] = int(tr.default_on_shortfall)
    return accrual, is_floating, fixed_rate, spread, floor, maturity, capitalise, hard


def _refinancing(deal: Deal) -> dict:
    refi = [t.refinancing for t in deal.tranches]
    return dict(
        refi_spread=np.array([r.spread if r and r.spread is not None else 0.0 for r in refi]),
        refi_floor=np.array([(NO_FLOOR if r.floor is None else r.floor) if r else NO_FLOOR for r in refi]),
        refi_periods=np.array([r.amort_periods if r else 0 for r in refi], dtype=np.int64),
        refi_min_dscr=np.array([r.min_dscr if r else 0.0 for r in refi]),
        refi_max_ltv=np.array([r.max_ltv if r and r.max_ltv is not None else 0.0 for r in refi]),
        refi_min_dy=np.array([r.min_debt_yield if r and r.min_debt_yield is not None else 0.0 for r in refi]),
        refi_rate_kind=np.array([1 if r and r.rate_kind == "fixed" else 0 for r in refi], dtype=np.int64),
        refi_fixed=np.array([r.fixed_rate if r and r.rate_kind == "fixed" else 0.0 for r in refi]),
        refi_profile=np.array([REFI_PROFILES.index(r.amortisation) if r else 0 for r in refi], dtype=np.int64),
        **_extensions(deal),
    )


def _extensions(deal: Deal) -> dict:
    ext = [t.extension for t in deal.tranches]
    opt = lambda e, name: 0.0 if e is None or getattr(e, name) is None else float(getattr(e, name))  # noqa: E731
    return dict(
        ext_options=np.array([e.options if e else 0 for e in ext], dtype=np.int64),
        ext_periods=np.array([e.periods if e else 0 for e in ext], dtype=np.int64),
        ext_fee=np.array([opt(e, "fee") for e in ext]), ext_step=np.array([opt(e, "margin_step") for e in ext]),
        ext_min_dscr=np.array([opt(e, "min_dscr") for e in ext]),
        ext_max_ltv=np.array([opt(e, "max_ltv") for e in ext]),
        ext_min_dy=np.array([opt(e, "min_debt_yield") for e in ext]),
    )


def _borrowing_base(deal: Deal) -> dict:
    bases = [t.borrowing_base for t in deal.tranches]
    mask = np.array([[int(b is not None and c in b.components) for c in ops.COMPONENTS] for b in bases],
                    dtype=np.int64).reshape(len(bases), 4)
    return dict(bb_advance=np.array([b.advance_rate if b else 0.0 for b in bases]), bb_mask=mask)


def _guarantee(deal: Deal, n: int) -> dict:
    rvg = deal.residual_value_guarantee
    if rvg is None:
        return dict(rvg_cap=0.0, rvg_until=-1)
    return dict(rvg_cap=rvg.cap, rvg_until=n if rvg.until_period is None else rvg.until_period)


def _unit_draws(deal: Deal, capex: np.ndarray, n: int) -> np.ndarray:
    """Draw profile of one unit of commitment under the funding rule (sizing only)."""
    out = np.zeros(n + 1)
    if deal.funding == "at_close":
        out[0] = 1.0
    else:
        out = capex / capex.sum()
    return out


def _stepped(initial: float, steps, n: int) -> np.ndarray:
    """A per-period value starting at `initial`, reset at each (period, value) step."""
    out = np.full(n + 1, float(initial))
    for period, value in sorted(steps):
        out[period:] = value
    return out


def _funding(deal: Deal, capex: np.ndarray, n: int, amounts: np.ndarray, capitalise=None,
             per_rate=None):
    """Draws per tranche and equity contributions per period under the funding rule."""
    k_count = len(deal.tranches)
    draw = np.zeros((k_count, n + 1))
    cost = capex.sum()
    debt = np.asarray(amounts, dtype=float)
    explicit = [t.draws is not None for t in deal.tranches]
    for k, tr in enumerate(deal.tranches):
        for period, amount in tr.draws or []:
            draw[k, period] += amount
    if deal.funding == "at_close":
        for k in range(k_count):
            if not explicit[k]:
                draw[k, 0] = debt[k]
    elif deal.funding == "pro_rata":
        for k in range(k_count):
            if not explicit[k] and cost > 0:
                draw[k] = capex * debt[k] / cost
    else:  # equity_first
        committed = deal.equity.commitment
        equity_total = cost - debt.sum() if committed is None else min(committed, max(0.0, cost - debt.sum()))
        spent = np.cumsum(capex)
        equity_cum = np.minimum(spent, equity_total)
        debt_part = capex - np.diff(np.concatenate([[0.0], equity_cum]))
        free = [k for k in range(k_count) if not explicit[k]]
        share = debt[free] / debt[free].sum() if free and debt[free].sum() > 0 else np.zeros(len(free))
        for i, k in enumerate(free):   # never more than the commitment: the rest is a shortfall
            drawn = np.minimum(np.cumsum(debt_part * share[i]), debt[k])
            draw[k] = np.diff(np.concatenate([[0.0], drawn]))
    for k, tr in enumerate(deal.tranches):
        if tr.commitment_includes_idc and capitalise is not None and draw[k].sum() > 0:
            idc = _capitalised_interest(draw[k], capitalise[k], per_rate[k])
            draw[k] *= debt[k] / (draw[k].sum() + idc)  # IDC is linear in the draws
    equity_in = np.maximum(capex - draw.sum(axis=0), 0.0)
    committed = deal.equity.commitment
    if committed is not None and equity_in.sum() > committed:
        # the sponsors pay in no more than they committed, in step with the spend (their
        # share of each period's cost); the rest of the cost is a funding shortfall
        equity_in = equity_in * (committed / equity_in.sum())
    return draw, equity_in


def _capitalised_interest(draw, capitalise, per_rate) -> float:
    """Base-case interest capitalised on these draws (USD)."""
    balance = total = 0.0
    for t in range(len(draw)):
        if capitalise[t]:
            total += balance * per_rate[t]
            balance += balance * per_rate[t]
        balance += draw[t]
    return total


def _steps(deal: Deal, names):
    """The priority of payments as opcodes and operand indices (steps registry)."""
    step_op, step_arg, share, share_locked = [], [], [], []
    for step in deal.waterfall:
        kind = steps.BY_NAME[step.step]
        step_op.append(kind.code)
        step_arg.append(kind.compile_arg(step, names))
        share.append(step.share)
        share_locked.append(step.share_locked)
    return (np.array(step_op, dtype=np.int64), np.array(step_arg, dtype=np.int64),
            np.array(share, dtype=float), np.array(share_locked, dtype=float))


def scenario_adjustments(scenario: Scenario, n: int):
    """A scenario as a list of (channel, from, to, value) and an optional rate path.
    Lease-level kinds without a tenant are rent factors (scenarios.lease_runs); those
    naming a tenant, lease options and structural kinds need the deal and are handled
    by waterfall.scenarios.prepare before this."""
    from .model.scenario import LEASE_KINDS
    from .scenarios.lease import lease_runs, needs_lowering

    if scenario.time_unit != "period":
        raise ValueError(f"scenario '{scenario.name}' counts time in {scenario.time_unit}s: "
                         "convert it with waterfall.scenarios.resolve(scenario, deal) first")
    rows, path = [], None
    for adj in scenario.adjustments:
        if adj.kind == "rent_multiplier":
            rows.append((ops.CH_RENT, adj.from_period, _to(adj.to_period, n), adj.multiplier))
        elif adj.kind == "tenant_default":
            dark_end = adj.period + adj.downtime_periods - 1
            if adj.downtime_periods > 0:
                rows.append((ops.CH_RENT, adj.period, min(dark_end, n), 0.0))
            if dark_end + 1 <= n:
                rows.append((ops.CH_RENT, dark_end + 1, n, 1.0 - adj.relet_haircut))
            rows.append((ops.CH_MARKET_RENT, min(adj.period, n), n, 1.0 - adj.relet_haircut))
        elif adj.kind == "rate_shock":
            rows.append((ops.CH_RATE_ADD, adj.from_period, _to(adj.to_period, n), adj.bp / 1e4))
        elif adj.kind == "opex_multiplier":
            rows.append((ops.CH_OPEX, adj.from_period, _to(adj.to_period, n), adj.multiplier))
        elif adj.kind == "asset_value_multiplier":
            classes = ops.COMPONENTS if adj.component == "all" else (adj.component,)
            for c in classes:
                rows.append((ops.CH_VAL_LAND + ops.COMPONENTS.index(c), adj.from_period, n, adj.multiplier))
        elif adj.kind == "rate_path":
            path = interpolate_points(adj.points, "step", n)
        elif adj.kind == "refinancing_closed":
            rows.append((ops.CH_REFI, adj.from_period, _to(adj.to_period, n), 0.0))
        elif adj.kind == "refinancing_spread":
            rows.append((ops.CH_REFI_SPREAD, adj.from_period, _to(adj.to_period, n), adj.bp / 1e4))
        elif adj.kind == "guarantor_default":
            rows.append((ops.CH_RVG, adj.from_period, n, adj.paid_share))
        elif adj.kind == "market_rent_multiplier":
            rows.append((ops.CH_MARKET_RENT, adj.from_period, _to(adj.to_period, n), adj.multiplier))
        elif adj.kind == "obligor_default":
            rows.append((ops.CH_CROSS, adj.from_period, n, 0.0))
        elif adj.kind == "cap_rate_shock":
            rows.append((ops.CH_CAP_ADD, adj.from_period, n, adj.bp / 1e4))
        elif adj.kind == "gpu_obsolescence":
            classes = ops.COMPONENTS if adj.component == "all" else (adj.component,)
            for period, step_down in adj.steps:
                for c in classes:
                    rows.append((ops.CH_VAL_LAND + ops.COMPONENTS.index(c), period, n, 1.0 - step_down))
        elif adj.kind in LEASE_KINDS and not needs_lowering(adj):
            rows += [(ops.CH_RENT, a, b, v) for a, b, v in lease_runs(adj, n)]
        else:
            raise ValueError(f"scenario '{scenario.name}': a {adj.kind} adjustment"
                             + (" naming a tenant" if getattr(adj, "tenant", None) else "")
                             + " needs the deal: run it through waterfall.run / run_batch, or "
                               "waterfall.scenarios.prepare(deal, scenario) first")
    return rows, path


def _to(value, n):
    return n if value is None else value


def compile_scenarios(scenarios: list[Scenario], program: Program, source: str = "<scenario>") -> ScenarioBatch:
    """Compile scenarios for a compiled deal into a padded batch."""
    n = program.n_periods
    all_rows, paths, path_index = [], [], []
    for scenario in scenarios:
        problems = check_scenario(scenario, n)
        if problems:
            raise DealError(source, [(f"scenario '{scenario.name}'.{p}", m, v) for p, m, v in problems])
        rows, path = scenario_adjustments(scenario, n)
        all_rows.append(rows)
        if path is None:
            path_index.append(-1)
        else:
            path_index.append(len(paths))
            paths.append(path)
    return batch_from_rows([s.name for s in scenarios], all_rows, path_index, paths, n)


def batch_from_rows(names, all_rows, path_index, paths, n) -> ScenarioBatch:
    """Pad per-scenario adjustment rows into [S, J] arrays (channel -1 = no-op)."""
    s_count = len(all_rows)
    j = max([len(r) for r in all_rows] + [1])
    channel = np.full((s_count, j), -1, dtype=np.int64)
    start = np.zeros((s_count, j), dtype=np.int64)
    end = np.zeros((s_count, j), dtype=np.int64)
    value = np.zeros((s_count, j))
    for s, rows in enumerate(all_rows):
        for i, (c, a, b, v) in enumerate(rows):
            channel[s, i], start[s, i], end[s, i], value[s, i] = c, a, b, v
    table = np.array(paths, dtype=float).reshape(len(paths), n + 1) if paths else np.zeros((0, n + 1))
    return ScenarioBatch(names=list(names), adj_channel=channel, adj_from=start, adj_to=end,
                         adj_value=value, path_index=np.array(path_index, dtype=np.int64), paths=table)
