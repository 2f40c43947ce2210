"""Checks across a deal's parts that a single field cannot make: names used in the
waterfall, periods within the horizon, funding that balances. Every problem is
returned as (field path, message, value) so all of them are reported at once."""
from __future__ import annotations

from collections import Counter

from .model.deal import Deal
from .model.scenario import Scenario

Problem = tuple[str, str, object]


def check_deal(deal: Deal) -> list[Problem]:
    problems: list[Problem] = []
    n = deal.timeline.n_periods
    tranches = [t.name for t in deal.tranches]
    accounts = {a.name: a for a in deal.accounts}
    fees = [f.name for f in deal.fees]
    for label, names in (("tranches", tranches), ("accounts", list(accounts)), ("fees", fees),
                         ("assets", [a.name for a in deal.assets]),
                         ("scenarios", [s.name for s in deal.scenarios])):
        for name, count in Counter(names).items():
            if count > 1:
                problems.append((label, f"name '{name}' is used {count} times", name))
    problems += _check_steps(deal, tranches, accounts, fees)
    for i, acct in enumerate(deal.accounts):
        for j, name in enumerate(acct.tranches):
            if name not in tranches:
                problems.append((f"accounts[{i}].tranches[{j}]", "unknown tranche", name))
        if acct.kind == "dsra" and not acct.tranches:
            problems.append((f"accounts[{i}].tranches", "a dsra must name the tranches it covers", []))
    for j, name in enumerate(deal.covenants.dscr_tranches):
        if name not in tranches:
            problems.append((f"covenants.dscr_tranches[{j}]", "unknown tranche", name))
    problems += _check_periods(deal, n)
    problems += _check_funding(deal)
    for i, scenario in enumerate(deal.scenarios):
        problems += [(f"scenarios[{i}].{p}", m, v) for p, m, v in check_scenario(scenario, n)]
    return problems


def _check_steps(deal: Deal, tranches, accounts, fees) -> list[Problem]:
    problems: list[Problem] = []
    paid = set()
    for i, step in enumerate(deal.waterfall):
        where = f"waterfall[{i}]"
        if step.step in ("interest", "principal", "sweep"):
            if step.tranche is None:
                problems.append((f"{where}.tranche", f"a {step.step} step needs a tranche", None))
            elif step.tranche not in tranches:
                problems.append((f"{where}.tranche", "unknown tranche", step.tranche))
            else:
                paid.add((step.step, step.tranche))
        elif step.step == "reserve":
            if step.account not in accounts:
                problems.append((f"{where}.account", "unknown account", step.account))
            elif accounts[step.account].kind == "lockup":
                problems.append((f"{where}.account", "a lockup account is filled by distribute, not reserve", step.account))
        elif step.step == "fee":
            if step.fee not in fees:
                problems.append((f"{where}.fee", "unknown fee", step.fee))
        elif step.step == "distribute":
            if i != len(deal.waterfall) - 1:
                problems.append((where, "distribute must be the last step", step.step))
            if step.account is not None:
                if step.account not in accounts:
                    problems.append((f"{where}.account", "unknown account", step.account))
                elif accounts[step.account].kind != "lockup":
                    problems.append((f"{where}.account", "distribute traps cash only in a lockup account", step.account))
    for name in tranches:
        for kind in ("interest", "principal"):
            if (kind, name) not in paid:
                problems.append(("waterfall", f"tranche '{name}' has no {kind} step", name))
    if not deal.waterfall or deal.waterfall[-1].step != "distribute":
        problems.append(("waterfall", "the last step must be distribute", None))
    return problems


def _check_periods(deal: Deal, n: int) -> list[Problem]:
    problems: list[Problem] = []

    def beyond(path: str, value):
        if value is not None and value > n:
            problems.append((path, f"period is beyond the horizon ({n} periods)", value))

    for i, t in enumerate(deal.tranches):
        beyond(f"tranches[{i}].maturity_period", t.maturity_period)
        for j, (period, _) in enumerate(t.draws or []):
            beyond(f"tranches[{i}].draws[{j}]", period)
        if t.rate.kind == "floating" and deal.base_rate is None:
            problems.append((f"tranches[{i}].rate", "a floating tranche needs a [base_rate] curve", "floating"))
    for i, lease in enumerate(deal.leases):
        beyond(f"leases[{i}].start_period", lease.start_period)
    for i, fee in enumerate(deal.fees):
        beyond(f"fees[{i}].from_period", fee.from_period)
        beyond(f"fees[{i}].to_period", fee.to_period)
    for i, item in enumerate(deal.opex):
        beyond(f"opex[{i}].from_period", item.from_period)
    for i, asset in enumerate(deal.assets):
        if isinstance(asset.spend, list):
            for j, (period, _) in enumerate(asset.spend):
                beyond(f"assets[{i}].spend[{j}]", period)
    return problems


def _check_funding(deal: Deal) -> list[Problem]:
    problems: list[Problem] = []
    cost = sum(a.cost for a in deal.assets)
    debt = sum(t.amount for t in deal.tranches)
    if debt > cost + 1e-9:
        problems.append(("tranches", f"debt commitments {debt:g} exceed total asset cost {cost:g}", debt))
    if deal.funding == "at_close":
        for i, asset in enumerate(deal.assets):
            if asset.spend != "at_close":
                problems.append((f"assets[{i}].spend", "funding 'at_close' needs every asset paid at close", asset.spend))
    for i, t in enumerate(deal.tranches):
        if t.draws is not None and abs(sum(a for _, a in t.draws) - t.amount) > 1e-9:
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
            problems.append((f"adjustments[{j}].to_period", "to_period is before from_period", to))
        if adj.kind == "rate_path":
            for k, (period, _) in enumerate(adj.points):
                if period > n:
                    problems.append((f"adjustments[{j}].points[{k}]", f"period is beyond the horizon ({n} periods)", period))
    return problems
