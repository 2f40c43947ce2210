"""Structural scenarios: changes to the deal itself, applied before it compiles.

- construction_delay: construction lasts `delay` periods longer (the operating horizon
  is kept, so the ledger grows by `delay`); COD moves, and so does every lease that has
  not started by `from_period`; capitalised interest during construction grows;
  maturities stay where they were. Liquidated damages, paid by the builder for each
  period of delay, are income of the SPV from the original COD: `ld_rent_share` x the
  first scheduled period rent a period, up to `ld_cap` x total asset cost in all
  (modelled as a lease to the builder).
- cost_overrun: the cost of the named components rises by `share`; the debt stays as
  committed and so does the sponsors' equity commitment: the overrun is a funding
  shortfall their support terms meet (unlimited support funds it all); the seizure value
  stays that of the original cost unless `value_follows_cost`.
- cpi_path: the deal's CPI assumption is replaced; CPI-linked lines re-escalate on it.
- lease_option with decision "renew": renewals 1..option of the named tenant's leases
  are exercised.

Debt terms are fixed at close: a tranche sized at compile time keeps its original
commitment, and a sculpted amortisation keeps its original profile (as custom shares of
the balance when amortisation starts), so a change to the deal's cash flows does not
re-size or re-sculpt the debt.
"""
from __future__ import annotations

import math

from ..model.deal import Deal
from ..model.scenario import STRUCTURAL_KINDS, Scenario
from ..schedules import balance_at_amortisation, base_cfads, base_per_rate
from .lease import matches_tenant

LD_TENANT = "builder (liquidated damages)"


def is_structural(adj) -> bool:
    return adj.kind in STRUCTURAL_KINDS or (adj.kind == "lease_option" and adj.decision == "renew")


def apply_structural(deal: Deal, scenario: Scenario) -> Deal:
    """The deal as changed by the scenario's structural adjustments (the same object
    when there are none). Times must already be in the deal's periods (see resolve)."""
    changes = [(j, a) for j, a in enumerate(scenario.adjustments) if is_structural(a)]
    if not changes:
        return deal
    data = deal.model_dump()
    damages: list[dict] = []   # added once every change is made: a later delay does not move them
    for _, adj in changes:
        if adj.kind == "construction_delay":
            damages += _delay(data, deal, adj, damages)
        elif adj.kind == "cost_overrun":
            _overrun(data, deal, adj)
        elif adj.kind == "cpi_path":
            data["cpi"] = {"points": [list(p) for p in adj.points]}
        else:
            _renew(data, adj)
    data["leases"] += damages
    _freeze_debt(data, deal)
    data["scenarios"] = []  # the deal's own scenarios are not part of the changed deal
    return _checked(data, deal, scenario, [j for j, _ in changes])


def _checked(data: dict, deal: Deal, scenario: Scenario, changed: list[int]) -> Deal:
    """The changed deal, validated and checked; a change that makes it invalid is a
    DealError naming the deal's file, the scenario's adjustment and the problem."""
    from ..checks import check_deal
    from ..errors import DealError
    from ..load import remember_source, source_of, validate

    source = source_of(deal)
    names = [s.name for s in deal.scenarios]
    where = f"scenarios[{names.index(scenario.name)}]" if scenario.name in names else \
        f"scenario '{scenario.name}'"
    where += f".adjustments[{changed[0]}]" if len(changed) == 1 else \
        ".adjustments[" + ", ".join(map(str, changed)) + "]"
    try:
        changed_deal = validate(Deal, data, source)
        problems = check_deal(changed_deal)
    except DealError as exc:
        problems = exc.problems
    if problems:
        raise DealError(source, [(where, f"the scenario makes the deal invalid: {p}: {m}", v)
                                 for p, m, v in problems])
    return remember_source(changed_deal, source)


def _delay(data: dict, deal: Deal, adj, earlier: list[dict]) -> list[dict]:
    """Lengthen construction by `adj.delay` on `data` (which earlier changes may have
    moved already); the liquidated damages as leases to the builder, to add at the end.
    The damages of a second delay follow those of the first (`earlier`), under the one cap."""
    tl = data["timeline"]
    months = deal.timeline.months_per_period
    paid_periods = sum(lease["term_months"] // months for lease in earlier)
    paid = sum(lease["annual_rent"] * lease["term_months"] / 12.0 for lease in earlier)
    old_cod = deal.timeline.construction_periods + 1 + paid_periods
    cod = deal.timeline.cod_period
    first_rent = float(base_cfads(deal, deal.timeline.n_periods, months)[0][min(cod, deal.timeline.n_periods)])
    for lease in data["leases"]:
        start = lease["start_period"]
        if start is not None and start > adj.from_period:
            lease["start_period"] = start + adj.delay
    tl["construction_periods"] += adj.delay
    if tl.get("final_date") is not None:   # a last stub moves with the horizon (docs/conventions.md)
        from ..dates import months_later
        tl["final_date"] = months_later(tl["final_date"], adj.delay * months, tl["final_date"].day)
    for item in data["opex"]:
        if item["from_period"] is not None and item["from_period"] > adj.from_period:
            item["from_period"] += adj.delay
    per_period = adj.ld_rent_share * first_rent
    cap = adj.ld_cap * sum(a.cost for a in deal.assets) - paid
    if per_period <= 0 or cap <= 1e-12:
        return []
    total = min(per_period * adj.delay, cap)
    full = int(math.floor(total / per_period + 1e-12))
    rest = total - full * per_period
    leases = []
    if full:
        leases.append({"tenant": LD_TENANT, "annual_rent": per_period * 12.0 / months,
                       "start_period": old_cod, "term_months": full * months, "renewals": []})
    if rest > 1e-12:
        leases.append({"tenant": LD_TENANT, "annual_rent": rest * 12.0 / months,
                       "start_period": old_cod + full, "term_months": months, "renewals": []})
    return leases


def _overrun(data: dict, deal: Deal, adj) -> None:
    """Costs rise; the sponsors' equity commitment stays what it was at close, so the
    overrun is a shortfall their support terms meet (or not)."""
    if deal.sponsor_support.kind != "unlimited" and data["equity"].get("commitment") is None:
        from ..compile import compile_deal  # lazily: compile.py reaches this package (scenarios.lease)
        data["equity"]["commitment"] = float(compile_deal(deal).equity_in.sum())
    factor = 1.0 + adj.share
    for asset in data["assets"]:
        for name in adj.components:
            comp = asset.get(name)
            if comp is None:
                continue
            comp["cost"] *= factor
            if not adj.value_follows_cost:
                comp["curve"] = _scaled_curve(comp["curve"], 1.0 / factor)


def _scaled_curve(curve: dict, scale: float) -> dict:
    """The value curve x scale (a fraction of the new cost worth what the old was)."""
    kind = curve["kind"]
    if kind == "constant":
        return {**curve, "level": curve["level"] * scale}
    if kind == "straight_line":
        return {"kind": "points", "points": [(0, scale), (curve["life_months"], curve["salvage"] * scale)]}
    return {**curve, "points": [(a, v * scale) for a, v in curve["points"]]}


def _renew(data: dict, adj) -> None:
    for lease in data["leases"]:
        if not matches_tenant(adj.tenant, lease["tenant"]):
            continue
        for j, renewal in enumerate(lease.get("renewals", [])[: adj.option]):
            renewal["exercised"] = True
            if j == adj.option - 1 and adj.rent_reset is not None:
                renewal["rent_reset"] = adj.rent_reset


def _freeze_debt(data: dict, deal: Deal) -> None:
    """Keep each tranche's commitment and sculpted profile as compiled on `deal`."""
    if not any(t.sizing is not None or t.amortisation.kind == "sculpted" for t in deal.tranches):
        return
    from ..compile import compile_deal  # lazily: compile.py reaches this package (scenarios.lease)

    program = compile_deal(deal)
    for k, (tr, out) in enumerate(zip(deal.tranches, data["tranches"])):
        if tr.sizing is not None:
            out["amount"], out["sizing"] = float(program.amounts[k]), None
        if tr.amortisation.kind == "sculpted":
            balance, start = balance_at_amortisation(tr, program.draw[k], program.capitalise[k],
                                                     _per_rate(program, k), program.cod_period)
            last = int(program.maturity[k])
            shares = [float(program.sched[k, t] / balance) if balance > 0 else 0.0
                      for t in range(start, last + 1)]
            while shares and shares[-1] == 0.0:
                shares.pop()
            out["amortisation"] = {"kind": "custom", "shares": [min(1.0, s) for s in shares] or [0.0]}


def _per_rate(program, k):
    return base_per_rate(program.base_rate, program.is_floating, program.fixed_rate, program.spread,
                         program.floor, program.accrual)[k]
