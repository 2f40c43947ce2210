"""Lease-level adjustments as rent factors.

Each lease-level adjustment is a list of runs (from, to, multiplier) on the rent of the
leases it names (`tenant`). Multipliers compound. Adjustments without a tenant act on
every lease alike, so they are factors on the deal's total rent and compile directly
(compile.scenario_adjustments). Those naming a tenant, and lease-option exits (which
need each lease's schedule), are lowered here: with R[l, t] the scheduled rent of lease
l and M[l, t] the product of its multipliers, the factor on total rent in period t is

    sum_l R[l, t] M[l, t] / sum_l R[l, t]      (1 where no rent is scheduled)

written as `rent_multiplier` adjustments, one per run of equal factors.
"""
from __future__ import annotations

import math

import numpy as np

from ..model.deal import Deal, Lease
from ..model.scenario import LEASE_KINDS, Scenario
from ..schedules import lease_rents


def matches_tenant(tenant: str | None, lease_tenant: str) -> bool:
    """None matches every lease; a name matches itself or a tenant that starts with it
    followed by a space or '(' (case ignored)."""
    if tenant is None:
        return True
    a, b = tenant.strip().lower(), lease_tenant.strip().lower()
    return b == a or (b.startswith(a) and b[len(a)] in " (")


def _relet_runs(start: int, relet, n: int) -> list[tuple[int, int, float]]:
    """Runs from `start` on at market level(t - start) x (1 - haircut)."""
    if relet is None or start > n:
        return []
    times = [p for p, _ in relet.points]
    levels = [v for _, v in relet.points]
    values = [float(np.interp(t - start, times, levels)) * (1.0 - relet.haircut) for t in range(start, n + 1)]
    return _compress(start, values)


def _compress(start: int, values) -> list[tuple[int, int, float]]:
    runs: list[tuple[int, int, float]] = []
    for i, v in enumerate(values):
        t = start + i
        if runs and runs[-1][2] == v and runs[-1][1] == t - 1:
            runs[-1] = (runs[-1][0], t, v)
        else:
            runs.append((t, t, v))
    return runs


def stop_runs(period: int, downtime: int, relet, n: int) -> list[tuple[int, int, float]]:
    """Rent stops at `period`: dark until re-let after `downtime` (never without relet)."""
    if relet is None:
        return [(period, n, 0.0)]
    dark_end = min(period + downtime - 1, n)
    runs = [(period, dark_end, 0.0)] if downtime > 0 else []
    return runs + _relet_runs(period + downtime, relet, n)


def lease_runs(adj, n: int, option_start: int | None = None) -> list[tuple[int, int, float]]:
    """(from, to, multiplier) runs of a lease-level adjustment on one lease's rent.
    A lease-option exit needs `option_start`, the period that option would start."""
    kind = adj.kind
    if kind == "lease_default":
        if adj.outcome == "continuation":
            return [(adj.period, n, adj.paid_share)]
        return stop_runs(adj.period, adj.downtime, adj.relet, n)
    to = n if getattr(adj, "to_period", None) is None else adj.to_period
    if kind == "partial_payment":
        return [(adj.from_period, to, adj.paid_share)]
    if kind == "renegotiation":
        return [(adj.from_period, to, 1.0 - adj.rent_cut)]
    if kind == "power_shortfall":
        return [(adj.from_period, to, adj.delivered)]
    if kind == "lease_option":
        if adj.decision != "exit" or option_start is None or option_start > n:
            return []
        return stop_runs(option_start, adj.downtime, adj.relet, n)
    raise ValueError(f"{kind} is not a lease-level adjustment")


def option_start(lease: Lease, option: int, months: int, cod: int) -> int | None:
    """The period renewal option `option` (1-based) would start, or None if the lease
    has fewer options."""
    if option > len(lease.renewals):
        return None
    t = (lease.start_period or cod) + math.ceil(lease.term_months / months)
    for renewal in lease.renewals[: option - 1]:
        t += math.ceil(renewal.term_months / months)
    return t


def needs_lowering(adj) -> bool:
    return adj.kind in LEASE_KINDS and (adj.tenant is not None or adj.kind == "lease_option")


def lower(deal: Deal, scenario: Scenario) -> Scenario:
    """Replace lease-level adjustments that name a tenant (and lease-option exits) by
    `rent_multiplier` adjustments on the deal's total rent; drop lease-option renewals
    (already applied to the deal by apply_structural) and the structural kinds."""
    from .structural import is_structural

    targeted = [a for a in scenario.adjustments if needs_lowering(a)]
    kept = [a for a in scenario.adjustments if not needs_lowering(a) and not is_structural(a)]
    if len(kept) == len(scenario.adjustments):
        return scenario
    tl = deal.timeline
    n, months, cod = tl.n_periods, tl.months_per_period, tl.cod_period
    rows = []
    if targeted and deal.leases:
        rents = lease_rents(deal, n, months)
        mult = np.ones_like(rents)
        for adj in targeted:
            for i, lease in enumerate(deal.leases):
                if not matches_tenant(adj.tenant, lease.tenant):
                    continue
                start = option_start(lease, adj.option, months, cod) if adj.kind == "lease_option" else None
                for a, b, v in lease_runs(adj, n, start):
                    mult[i, a:b + 1] *= v
        total = rents.sum(axis=0)
        factor = np.ones(n + 1)
        has_rent = total > 0
        factor[has_rent] = (rents * mult).sum(axis=0)[has_rent] / total[has_rent]
        for a, b, v in _compress(0, factor.tolist()):
            if v != 1.0:
                rows.append({"kind": "rent_multiplier", "from_period": a, "to_period": b, "multiplier": v})
    data = scenario.model_dump()
    data["adjustments"] = [a.model_dump() for a in kept] + rows
    return Scenario.model_validate(data)
