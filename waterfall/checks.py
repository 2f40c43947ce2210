"""Checks across a deal's parts that a single field cannot make: names used in the
waterfall, periods within the horizon, funding that balances. Every problem is
returned as (field path, message, value) so all of them are reported at once."""
from __future__ import annotations

import math

from .hedges import check_hedge_ratio, check_hedges
from .model.deal import Deal
from .payment_dates import check_timeline
from .steps.checks import check_waterfall
from .model.scenario import Scenario

Problem = tuple[str, str, object]

MAX_PERIODS = 1200


def _ledger_name_clashes(deal: Deal) -> list[Problem]:
    """Tranches, accounts and fees name the ledger's '<name>.<line>' columns: one name may
    not stand for two of them."""
    problems, seen = [], {}
    for label, parts in (("tranches", deal.tranches), ("accounts", deal.accounts), ("fees", deal.fees),
                         ("hedges", deal.hedges)):
        for i, part in enumerate(parts):
            owner = seen.get(part.name)
            if owner is not None and owner[0] != label:
                problems.append((f"{label}[{i}].name", f"name already used by {owner[0]}[{owner[1]}] "
                                 "(their ledger columns would clash)", part.name))
            seen.setdefault(part.name, (label, i))
    return problems


def check_deal(deal: Deal) -> list[Problem]:
    problems: list[Problem] = []
    n = deal.timeline.n_periods
    tranches = [t.name for t in deal.tranches]
    known_tranches = set(tranches)
    fees = [f.name for f in deal.fees]
    for label, names in (("tranches", tranches), ("accounts", [a.name for a in deal.accounts]),
                         ("fees", fees), ("hedges", [h.name for h in deal.hedges]),
                         ("assets", [a.name for a in deal.assets]),
                         ("scenarios", [s.name for s in deal.scenarios])):
        first: dict[str, int] = {}
        for i, name in enumerate(names):
            if name in first:
                problems.append((f"{label}[{i}].name", f"name already used by {label}[{first[name]}]", name))
            else:
                first[name] = i
    problems += _ledger_name_clashes(deal)
    if deal.timeline.construction_periods > MAX_PERIODS:
        problems.append(("timeline.construction_periods", f"at most {MAX_PERIODS} periods",
                         deal.timeline.construction_periods))
        return problems  # every other period check would be measured against it
    problems += check_waterfall(deal)
    problems += check_hedges(deal)
    problems += check_hedge_ratio(deal)
    for i, acct in enumerate(deal.accounts):
        for j, name in enumerate(acct.tranches):
            if name not in known_tranches:
                problems.append((f"accounts[{i}].tranches[{j}]", "unknown tranche", name))
        if acct.kind == "dsra" and not acct.tranches:
            problems.append((f"accounts[{i}].tranches", "a dsra must name the tranches it covers", []))
        if acct.target_periods > n:
            problems.append((f"accounts[{i}].target_periods", f"more periods than the horizon ({n} periods)",
                             acct.target_periods))
        problems += _check_account_terms(deal, i, acct, n)
    problems += _check_letters_of_credit(deal)
    for j, name in enumerate(deal.covenants.dscr_tranches):
        if name not in known_tranches:
            problems.append((f"covenants.dscr_tranches[{j}]", "unknown tranche", name))
    problems += _check_periods(deal, n)
    problems += check_timeline(deal.timeline)
    problems += _check_funding(deal)
    problems += _check_growth(deal, n)
    problems += _check_indexation(deal, n)
    for i, scenario in enumerate(deal.scenarios):
        problems += [(f"scenarios[{i}].{p}", m, v) for p, m, v in check_scenario(scenario, n)]
    if not problems:   # measured on the compiled base case, which needs a consistent deal
        from .compile import stated_payment_problems
        problems += stated_payment_problems(deal)
    return problems


def _check_periods(deal: Deal, n: int) -> list[Problem]:
    problems: list[Problem] = []

    def beyond(path: str, value):
        if value is not None and value > n:
            problems.append((path, f"period is beyond the horizon ({n} periods)", value))

    for i, t in enumerate(deal.tranches):
        steps = t.rate.steps if t.rate.kind == "fixed" else t.rate.spread_steps
        name = "steps" if t.rate.kind == "fixed" else "spread_steps"
        for j, (period, _) in enumerate(steps):
            beyond(f"tranches[{i}].rate.{name}[{j}]", period)
        beyond(f"tranches[{i}].maturity_period", t.maturity_period)
        beyond(f"tranches[{i}].notional_maturity_period", t.notional_maturity_period)
        if t.maturity_period is not None and t.maturity_period <= n:
            beyond(f"tranches[{i}].extension_periods", t.maturity_period + t.extension_periods)
        for j, (period, _) in enumerate(t.draws or []):
            beyond(f"tranches[{i}].draws[{j}]", period)
        if t.rate.kind == "floating" and deal.base_rate is None:
            problems.append((f"tranches[{i}].rate", "a floating tranche needs a [base_rate] curve", "floating"))
    for i, lease in enumerate(deal.leases):
        beyond(f"leases[{i}].start_period", lease.start_period)
    for i, fee in enumerate(deal.fees):
        beyond(f"fees[{i}].from_period", fee.from_period)
        beyond(f"fees[{i}].to_period", fee.to_period)
        if fee.to_period is not None and fee.to_period < fee.from_period:
            problems.append((f"fees[{i}].to_period", f"to_period is before from_period ({fee.from_period})",
                             fee.to_period))
    for i, item in enumerate(deal.opex):
        beyond(f"opex[{i}].from_period", item.from_period)
    cure = deal.covenants.equity_cure
    if cure is not None:
        beyond("covenants.equity_cure.until_period", cure.until_period)
    rvg = getattr(deal, "residual_value_guarantee", None)
    if rvg is not None:
        beyond("residual_value_guarantee.until_period", getattr(rvg, "until_period", None))
    for i, asset in enumerate(deal.assets):
        if isinstance(asset.spend, list):
            for j, (period, _) in enumerate(asset.spend):
                beyond(f"assets[{i}].spend[{j}]", period)
    return problems


MAX_GROWTH = 1e9
"""The most rent, opex or market rent may grow over the horizon (escalation compounded,
renewal resets): 3% a year for a century is 19x. Past it the numbers mean nothing and
products of them could overflow."""
MAX_DEBT_GROWTH = 1e30
"""The most a balance may compound over the horizon at the tranche's highest rate."""


def _grows(factor_log10: float, limit: float) -> bool:
    return factor_log10 > math.log10(limit)


def _check_account_terms(deal: Deal, i: int, acct, n: int) -> list[Problem]:
    """A target in months (a DSRA's of debt service within the horizon, a fixed reserve's of its
    target_opex lines) and funding at close
    (a DSRA or fixed reserve; a lock-up account holds trapped cash only)."""
    problems: list[Problem] = []
    months = deal.timeline.months_per_period
    if acct.target_opex and (acct.kind != "fixed" or acct.target_months is None):
        problems.append((f"accounts[{i}].target_opex", "cost lines count in a fixed reserve's target_months "
                         "only", acct.target_opex))
    known = {o.name for o in deal.opex}
    for j, name in enumerate(acct.target_opex):
        if name not in known:
            problems.append((f"accounts[{i}].target_opex[{j}]", "unknown opex line", name))
    if acct.target_months is not None:
        where = f"accounts[{i}].target_months"
        if acct.kind == "fixed":
            if not acct.target_opex:
                problems.append((where, "a fixed reserve's target in months needs the opex lines it counts "
                                 "(target_opex)", acct.target_months))
            elif "target" in acct.model_fields_set:
                problems.append((where, "give target or target_months, not both", acct.target_months))
        elif acct.kind != "dsra":
            problems.append((where, "a target in months is a dsra's or a fixed reserve's", acct.target_months))
        elif "target_periods" in acct.model_fields_set:
            problems.append((where, "give target_periods or target_months, not both", acct.target_months))
        elif -(-acct.target_months // months) > n:
            problems.append((where, f"more months than the horizon ({n} periods)", acct.target_months))
    if acct.funded_at_close and acct.kind == "lockup":
        problems.append((f"accounts[{i}].funded_at_close", "a lockup account holds trapped cash: it is not "
                         "funded at close", True))
    return problems


def _check_letters_of_credit(deal: Deal) -> list[Problem]:
    """A letter of credit backs a DSRA (one LC per account, refilled and reimbursed at the
    account's reserve step); a fee line pays either a stated annual amount or one LC's fee."""
    problems: list[Problem] = []
    reserved = {s.account for s in deal.waterfall if s.step == "reserve"}
    for i, acct in enumerate(deal.accounts):
        if acct.letter_of_credit is None:
            continue
        where = f"accounts[{i}].letter_of_credit"
        if acct.kind != "dsra":
            problems.append((where, "a letter of credit backs a dsra only", acct.kind))
        elif acct.name not in reserved:
            problems.append((where, "an account backed by a letter of credit needs its reserve step (where a "
                             "drawing is reimbursed)", acct.name))
        if acct.letter_of_credit.fee > 0.0 and not any(f.letter_of_credit == acct.name for f in deal.fees):
            problems.append((f"{where}.fee", "an LC fee needs a fee line naming the account (fees[].letter_of_credit) "
                             "to place it in the waterfall", acct.letter_of_credit.fee))
    backed = {a.name for a in deal.accounts if a.letter_of_credit is not None}
    for i, fee in enumerate(deal.fees):
        if fee.letter_of_credit is None:
            if fee.annual_amount is None:
                problems.append((f"fees[{i}].annual_amount", "a fee needs annual_amount (or letter_of_credit)", None))
        elif fee.annual_amount is not None:
            problems.append((f"fees[{i}].letter_of_credit", "give annual_amount or letter_of_credit, not both",
                             fee.letter_of_credit))
        elif fee.letter_of_credit not in backed:
            problems.append((f"fees[{i}].letter_of_credit", "no account of that name has a letter of credit",
                             fee.letter_of_credit))
    return problems


def _check_indexation(deal: Deal, n: int) -> list[Problem]:
    """Each line's `indexation`: CPI-linked needs the deal's [cpi] curve; its compounding
    over the horizon (at the rate, or at the cap or highest CPI) stays within MAX_GROWTH."""
    problems: list[Problem] = []
    months = n * deal.timeline.months_per_period
    top_cpi = max((r for _, r in deal.cpi.points), default=0.0) if deal.cpi else 0.0
    lines = [("leases", deal.leases), ("opex", deal.opex), ("fees", deal.fees)]
    for label, items in lines:
        for i, item in enumerate(items):
            ind = item.indexation
            if ind is None:
                continue
            if ind.kind == "cpi" and deal.cpi is None:
                problems.append((f"{label}[{i}].indexation.kind", "CPI-linked indexation needs the deal's "
                                 "[cpi] curve (annual inflation by period)", ind.kind))
                continue
            rise = ind.rate if ind.kind == "fixed" else (1.0 + top_cpi) ** (ind.every_months / 12) - 1.0
            if ind.kind == "cpi" and ind.cap is not None:
                rise = min(rise, ind.cap)
            if rise > 0 and _grows((months // ind.every_months + 1) * math.log10(1.0 + rise), MAX_GROWTH):
                problems.append((f"{label}[{i}].indexation", f"the line would grow more than {MAX_GROWTH:.0e}-fold "
                                 f"over the horizon ({n} periods)", rise))
    return problems


def _check_growth(deal: Deal, n: int) -> list[Problem]:
    """Escalations and rates whose compounding over the horizon would leave any sane
    range (and could overflow a float): each problem names the rate."""
    problems: list[Problem] = []
    months = n * deal.timeline.months_per_period
    for i, lease in enumerate(deal.leases):
        steps = months // lease.escalation_every_months
        g = steps * math.log10(1.0 + lease.escalation) if lease.escalation > 0 else 0.0
        g += sum(math.log10(r.rent_reset) for r in lease.renewals if r.rent_reset > 1.0)
        if _grows(g, MAX_GROWTH):
            problems.append((f"leases[{i}].escalation", f"the rent would grow more than {MAX_GROWTH:.0e}-fold "
                             f"over the horizon ({n} periods) with its renewal resets", lease.escalation))
    for i, item in enumerate(deal.opex):
        if item.escalation > 0 and _grows(months / 12 * math.log10(1.0 + item.escalation), MAX_GROWTH):
            problems.append((f"opex[{i}].escalation", f"the cost would grow more than {MAX_GROWTH:.0e}-fold "
                             f"over the horizon ({n} periods)", item.escalation))
    growth = deal.enforcement.valuation.market_rent_growth
    if growth > 0 and _grows(months / 12 * math.log10(1.0 + growth), MAX_GROWTH):
        problems.append(("enforcement.valuation.market_rent_growth", f"the market rent would grow more than "
                         f"{MAX_GROWTH:.0e}-fold over the horizon ({n} periods)", growth))
    base = max((r for _, r in deal.base_rate.points), default=0.0) if deal.base_rate else 0.0
    per_year = deal.timeline.months_per_period / 12 * 366 / 360   # ACT/360 is the longest accrual
    for i, t in enumerate(deal.tranches):
        if t.rate.kind == "fixed":
            top = max([t.rate.annual] + [r for _, r in t.rate.steps])
        else:
            top = max([t.rate.spread] + [r for _, r in t.rate.spread_steps]) + max(base, t.rate.floor or 0.0)
        if t.refinancing is not None:
            top = max(top, t.refinancing.fixed_rate if t.refinancing.rate_kind == "fixed"
                      else base + t.refinancing.spread, t.refinancing.floor or 0.0)
        top += deal.enforcement.default_margin
        if top > 0 and _grows(n * math.log10(1.0 + top * per_year), MAX_DEBT_GROWTH):
            problems.append((f"tranches[{i}].rate", f"a balance at its highest rate ({top:g} a year) would "
                             f"compound more than {MAX_DEBT_GROWTH:.0e}-fold over the horizon ({n} periods)",
                             top))
    return problems


def check_sized_debt(deal: Deal, amounts) -> list[Problem]:
    """Debt (given and sized commitments together) within the total asset cost: a sized
    tranche's amount is known only once it is solved at compile time."""
    if all(t.sizing is None for t in deal.tranches):
        return []
    cost = sum(a.cost for a in deal.assets)
    debt = float(sum(amounts))
    if debt > cost + 1e-9:
        sized = ", ".join(f"{t.name} {a:g}" for t, a in zip(deal.tranches, amounts) if t.sizing is not None)
        return [("tranches", f"debt commitments {debt:g} (sized: {sized}) exceed total asset cost {cost:g}",
                 debt)]
    return []


def _check_funding(deal: Deal) -> list[Problem]:
    problems: list[Problem] = []
    cost = sum(a.cost for a in deal.assets)
    debt = sum(t.amount for t in deal.tranches if t.amount is not None)
    for i, t in enumerate(deal.tranches):
        if t.sizing is not None and deal.funding == "equity_first":
            problems.append((f"tranches[{i}].sizing", "sizing needs funding 'at_close' or 'pro_rata'", deal.funding))
        if t.sizing is not None and t.sizing.when_capped == "resculpt" and t.amortisation.kind != "sculpted":
            problems.append((f"tranches[{i}].sizing.when_capped", "re-sculpting a capped loan needs sculpted "
                             f"amortisation (the tranche's is {t.amortisation.kind})", t.sizing.when_capped))
        if t.sizing is not None and t.sizing.when_short == "capitalise" and t.amortisation.kind != "sculpted":
            problems.append((f"tranches[{i}].sizing.when_short", "capitalising the interest CFADS / target "
                             f"does not pay needs sculpted amortisation (the tranche's is {t.amortisation.kind})",
                             t.sizing.when_short))
    if debt > cost + 1e-9:
        problems.append(("tranches", f"debt commitments {debt:g} exceed total asset cost {cost:g}", debt))
    if deal.funding == "at_close":
        for i, asset in enumerate(deal.assets):
            if asset.spend != "at_close":
                problems.append((f"assets[{i}].spend", "funding 'at_close' needs every asset paid at close", asset.spend))
    for i, t in enumerate(deal.tranches):
        if t.draws is not None and t.amount is not None and abs(sum(a for _, a in t.draws) - t.amount) > 1e-9:
            problems.append((f"tranches[{i}].draws", f"draws add up to {sum(a for _, a in t.draws):g}, not the amount {t.amount:g}", t.draws))
    return problems


def check_scenario(scenario: Scenario, n: int) -> list[Problem]:
    problems: list[Problem] = []
    for j, adj in enumerate(scenario.adjustments):
        for name in ("from_period", "to_period", "period"):
            value = getattr(adj, name, None)
            if value is not None and value > n:
                problems.append((f"adjustments[{j}].{name}", f"period is beyond the horizon ({n} periods)", value))
        to = getattr(adj, "to_period", None)
        if to is not None and to < getattr(adj, "from_period", 0):
            problems.append((f"adjustments[{j}].to_period", f"to_period is before from_period ({getattr(adj, 'from_period', 0)})", to))
        if adj.kind in ("rate_path", "cpi_path"):
            for k, (period, _) in enumerate(adj.points):
                if period > n:
                    problems.append((f"adjustments[{j}].points[{k}]", f"period is beyond the horizon ({n} periods)", period))
    return problems
